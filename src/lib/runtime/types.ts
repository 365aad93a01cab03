/**
 * The contract between pipelines and whatever runs the ONNX graphs: onnxruntime-web in the browser
 * (src/lib/runtime) or onnxruntime-node in tests. Pipelines only see these types.
 */
import type { Tensor } from '../diffusion/index';

/** An int64 input (class labels, token ids). */
export interface Int64Tensor {
  data: BigInt64Array;
  shape: number[];
}

/**
 * An output kept where the backend computed it (a GPU buffer on WebGPU) so that it can be fed to
 * another run without a round trip through JavaScript. Call dispose() when done.
 */
export interface KeptTensor {
  readonly kept: true;
  readonly shape: readonly number[];
  /** Copies the values to the host (for drawing); the tensor stays usable. */
  read(): Promise<Tensor>;
  dispose(): void;
}

export type Feed = Tensor | Int64Tensor | KeptTensor;

export interface RunOptions {
  /** Output names to return as KeptTensor instead of copying them to the host. */
  keep?: readonly string[];
  signal?: AbortSignal;
}

export interface ModelRunner {
  readonly id: string;
  run(feeds: Record<string, Feed>, options?: RunOptions): Promise<Record<string, Tensor | KeptTensor>>;
}

export function isKept(value: Tensor | KeptTensor | Feed): value is KeptTensor {
  return (value as KeptTensor).kept === true;
}

export function int64(values: ArrayLike<number>, shape: number[] = [values.length]): Int64Tensor {
  return { data: BigInt64Array.from(Array.from(values, (v) => BigInt(v))), shape };
}

/** Output `name` of a run, on the host; a missing output (or one left on the GPU) is a broken model file. */
export function hostOutput(outputs: Record<string, Tensor | KeptTensor>, name: string, model = 'model'): Tensor {
  const value = outputs[name];
  if (!value || isKept(value)) throw new Error(`the ${model} returned no ${name}`);
  return value;
}
