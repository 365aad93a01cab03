/** Drives a ModelStatus strip: loads a figure's models through the runtime and reports what happens. */
import {
  getRuntime,
  requestedProvider,
  storeRequestedProvider,
  toRuntimeError,
  type LoadProgress,
  type ModelEntry,
  type ModelRunner,
  type ProviderName,
} from '../../lib/runtime/index';

export const PROVIDER_LABELS: Record<ProviderName, string> = { webgpu: 'WebGPU', wasm: 'WebAssembly' };

export type LoadedModels = Record<string, ModelRunner & { entry: ModelEntry }>;

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e6 ? 2 : 1)} MB`;
}

export class ModelStatusController {
  private line: HTMLElement;
  private progress: HTMLProgressElement;
  private retry: HTMLButtonElement;
  provider: ProviderName | null = null;
  private models: LoadedModels | null = null;

  constructor(
    private root: HTMLElement,
    private modelIds: string[],
    onRetry: () => void,
  ) {
    this.line = root.querySelector('.status-line')!;
    this.progress = root.querySelector('progress')!;
    this.retry = root.querySelector('button.retry')!;
    this.retry.addEventListener('click', () => {
      this.retry.hidden = true;
      onRetry();
    });
    const select = root.querySelector<HTMLSelectElement>('select[name="provider"]')!;
    select.value = requestedProvider();
    select.addEventListener('change', () => {
      // A different engine means a fresh page: sessions and GPU buffers belong to the old one.
      storeRequestedProvider(select.value as ProviderName | 'auto');
      const url = new URL(location.href);
      url.searchParams.delete('ep');
      location.assign(url);
    });
  }

  private set(state: 'loading' | 'ready' | 'running' | 'error', text: string) {
    this.root.dataset.state = state;
    this.line.textContent = text;
  }

  /** Downloads (or reads from cache) every model of the figure, with one progress bar; run() reports failures. */
  async load(signal?: AbortSignal): Promise<LoadedModels> {
    const { runtime, choice } = await getRuntime();
    this.provider = choice.provider;
    this.root.dataset.provider = choice.provider;
    const entries = await Promise.all(this.modelIds.map((id) => runtime.entry(id)));
    const total = entries.reduce((sum, e) => sum + e.bytes, 0);
    const loaded = new Map<string, number>();
    let fromCache = true;
    const onProgress = (id: string) => (p: LoadProgress) => {
      loaded.set(id, p.loaded);
      fromCache &&= p.fromCache;
      const done = [...loaded.values()].reduce((a, b) => a + b, 0);
      this.progress.hidden = false;
      this.progress.value = done / total;
      this.set('loading', `Loading weights: ${megabytes(done)} of ${megabytes(total)}…`);
    };
    this.set('loading', `Loading weights (${megabytes(total)})…`);
    const models = await Promise.all(
      this.modelIds.map((id) => runtime.loadModel(id, { onProgress: onProgress(id), signal })),
    );
    this.progress.hidden = true;
    const notice = choice.notice ? ` ${choice.notice}` : '';
    this.set(
      'ready',
      `Ready on ${PROVIDER_LABELS[choice.provider]} · ${megabytes(total)} of weights${fromCache ? ' (cached)' : ''}.${notice}`,
    );
    return Object.fromEntries(models.map((m) => [m.id, m]));
  }

  /**
   * One run of a figure: loads the models (once), disables the run button, keeps `data-state` on the
   * figure (running, done, stopped, error: tests and the benchmark wait on it), and turns failures
   * into the status line. `body` returns the line to show when it succeeds.
   */
  async run(
    figure: HTMLElement,
    button: HTMLButtonElement,
    body: (models: LoadedModels) => Promise<string>,
    signal?: AbortSignal,
  ): Promise<void> {
    button.disabled = true;
    figure.dataset.state = 'running';
    try {
      this.models ??= await this.load(signal);
      this.done(await body(this.models));
      figure.dataset.state = 'done';
    } catch (error) {
      this.fail(error);
      figure.dataset.state = signal?.aborted ? 'stopped' : 'error';
    } finally {
      button.disabled = false;
    }
  }

  running(text: string) {
    this.set('running', text);
  }

  /** The last run's figures: provider, time, and what was measured. */
  done(text: string) {
    this.set('ready', `${text} · ${PROVIDER_LABELS[this.provider ?? 'wasm']}`);
  }

  fail(error: unknown) {
    this.progress.hidden = true;
    const known = toRuntimeError(error);
    if (known.kind === 'aborted') {
      this.set('ready', 'Stopped.');
      return;
    }
    this.set('error', known.message);
    this.retry.hidden = !known.retryable;
  }
}
