/** Every failure a reader can meet while a model loads or runs, as a sentence and a way on. */

export type RuntimeErrorKind =
  'not-found' | 'network' | 'corrupt' | 'out-of-memory' | 'no-webgpu' | 'aborted' | 'model';

const ADVICE: Record<RuntimeErrorKind, string> = {
  'not-found': 'The model file is missing from this site. Reloading will not help; please report it.',
  network: 'The download was interrupted. Check your connection and try again.',
  corrupt: 'The downloaded model file is damaged (its checksum does not match). Try again to download a fresh copy.',
  'out-of-memory': 'Your device ran out of memory for this model. Close other tabs, or switch to WebAssembly.',
  'no-webgpu': 'WebGPU is not available in this browser, so the figure runs on WebAssembly (slower, same results).',
  aborted: 'Stopped.',
  model: 'The model failed to run.',
};

export class RuntimeError extends Error {
  readonly kind: RuntimeErrorKind;
  /** Whether trying again can help (network, corrupt download), so a figure shows a Retry button. */
  readonly retryable: boolean;

  constructor(kind: RuntimeErrorKind, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${ADVICE[kind]} (${detail})` : ADVICE[kind], options);
    this.name = 'RuntimeError';
    this.kind = kind;
    this.retryable = kind === 'network' || kind === 'corrupt' || kind === 'model';
  }
}

/** Maps whatever onnxruntime-web or fetch threw to a RuntimeError a figure can show. */
export function toRuntimeError(error: unknown): RuntimeError {
  if (error instanceof RuntimeError) return error;
  if (error instanceof DOMException && error.name === 'AbortError') return new RuntimeError('aborted');
  const text = error instanceof Error ? error.message : String(error);
  if (/out of memory|OOM|Aborted\(\)|memory access out of bounds|Cannot allocate/i.test(text)) {
    return new RuntimeError('out-of-memory', text, { cause: error });
  }
  if (error instanceof TypeError && /fetch|network/i.test(text))
    return new RuntimeError('network', text, { cause: error });
  return new RuntimeError('model', text, { cause: error });
}
