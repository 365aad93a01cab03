/** A ModelRunner over onnxruntime-node, so the browser pipelines can be tested in Node on the same ONNX files. */
import * as ort from 'onnxruntime-node';
import type { Tensor } from '../../src/lib/diffusion/index';
import { isKept, type Feed, type KeptTensor, type ModelRunner } from '../../src/lib/runtime/types';

class HostKept implements KeptTensor {
  readonly kept = true as const;
  constructor(readonly tensor: ort.Tensor) {}
  get shape() {
    return this.tensor.dims;
  }
  async read(): Promise<Tensor> {
    return { data: Float32Array.from(this.tensor.data as Float32Array), shape: [...this.tensor.dims] };
  }
  dispose() {}
}

export async function nodeRunner(id: string, path: string): Promise<ModelRunner> {
  const session = await ort.InferenceSession.create(path, { executionProviders: ['cpu'] });
  const toOrt = (feed: Feed): ort.Tensor => {
    if (isKept(feed)) return (feed as HostKept).tensor;
    if (feed.data instanceof BigInt64Array) return new ort.Tensor('int64', feed.data, feed.shape);
    return new ort.Tensor('float32', feed.data as Float32Array, feed.shape);
  };
  return {
    id,
    async run(feeds, options = {}) {
      const outputs = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, toOrt(v)])));
      return Object.fromEntries(
        Object.entries(outputs).map(([name, value]) => [
          name,
          options.keep?.includes(name)
            ? new HostKept(value)
            : { data: Float32Array.from(value.data as Float32Array), shape: [...value.dims] },
        ]),
      );
    },
  };
}
