/**
 * The only module that imports onnxruntime-web. It picks an engine per execution provider, points it
 * at the engine files this site serves (public/ort/), creates sessions and converts tensors.
 *
 * Two engines, one per reader: `onnxruntime-web/webgpu` (WebGPU EP + CPU, ~27 MB of WASM, 6.7 MB
 * gzipped) where navigator.gpu gives an adapter, else `onnxruntime-web/wasm` (CPU only, 14 MB,
 * 3.7 MB gzipped).
 */
import type * as Ort from 'onnxruntime-web';
import type { Tensor } from '../diffusion/index';
import type { Feed, KeptTensor } from './types';
import { isKept } from './types';

export type ProviderName = 'webgpu' | 'wasm';
type OrtModule = typeof Ort;

const ENGINE_FILES: Record<ProviderName, { mjs: string; wasm: string }> = {
  webgpu: { mjs: 'ort-wasm-simd-threaded.asyncify.mjs', wasm: 'ort-wasm-simd-threaded.asyncify.wasm' },
  wasm: { mjs: 'ort-wasm-simd-threaded.mjs', wasm: 'ort-wasm-simd-threaded.wasm' },
};

const engines = new Map<ProviderName, Promise<OrtModule>>();

/** Absolute URLs of the engine files (glue and binary) a provider loads: what a reader needs offline. */
export function engineUrls(provider: ProviderName): string[] {
  const base = new URL(`${import.meta.env.BASE_URL}ort/`, location.href);
  const files = ENGINE_FILES[provider];
  return [new URL(files.mjs, base).href, new URL(files.wasm, base).href];
}

/** Loads (once) the onnxruntime-web build for a provider and configures where its files live. */
export function loadEngine(provider: ProviderName): Promise<OrtModule> {
  let engine = engines.get(provider);
  if (!engine) {
    engine = (provider === 'webgpu' ? import('onnxruntime-web/webgpu') : import('onnxruntime-web/wasm')).then((ort) => {
      const [mjs, wasm] = engineUrls(provider);
      ort.env.wasm.wasmPaths = { mjs, wasm };
      // Threads need SharedArrayBuffer, which browsers give only to cross-origin-isolated pages.
      ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
      ort.env.logLevel = 'error';
      return ort as unknown as OrtModule;
    });
    engines.set(provider, engine);
  }
  return engine;
}

/** Does this browser give us a WebGPU adapter? (navigator.gpu alone is not enough.) */
export async function hasWebGpuAdapter(): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return false;
  try {
    return Boolean(await gpu.requestAdapter());
  } catch {
    return false;
  }
}

export interface EngineSession {
  run(feeds: Record<string, Feed>, keep: readonly string[]): Promise<Record<string, Tensor | KeptTensor>>;
  release(): Promise<void>;
}

export async function createSession(
  provider: ProviderName,
  bytes: ArrayBuffer,
  options: { gpuOutputs?: readonly string[] } = {},
): Promise<EngineSession> {
  const ort = await loadEngine(provider);
  const preferredOutputLocation =
    provider === 'webgpu' && options.gpuOutputs?.length
      ? Object.fromEntries(options.gpuOutputs.map((name) => [name, 'gpu-buffer' as const]))
      : undefined;
  const session = await ort.InferenceSession.create(new Uint8Array(bytes), {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    preferredOutputLocation,
    // Errors only: the WebGPU EP warns about every shape op it leaves on the CPU, as designed.
    logSeverityLevel: 3,
  });

  const toOrt = (feed: Feed): Ort.Tensor => {
    if (isKept(feed)) return (feed as OrtKeptTensor).tensor;
    if (feed.data instanceof BigInt64Array) return new ort.Tensor('int64', feed.data, feed.shape);
    return new ort.Tensor('float32', feed.data as Float32Array, feed.shape);
  };

  return {
    async run(feeds, keep) {
      const inputs = Object.fromEntries(Object.entries(feeds).map(([name, feed]) => [name, toOrt(feed)]));
      const outputs = await session.run(inputs);
      const result: Record<string, Tensor | KeptTensor> = {};
      for (const [name, value] of Object.entries(outputs)) {
        if (keep.includes(name)) {
          result[name] = new OrtKeptTensor(value);
        } else {
          const data = (await value.getData()) as Float32Array;
          result[name] = {
            data: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>),
            shape: [...value.dims],
          };
          if (value.location !== 'cpu') value.dispose();
        }
      }
      return result;
    },
    release: () => session.release(),
  };
}

class OrtKeptTensor implements KeptTensor {
  readonly kept = true as const;
  constructor(readonly tensor: Ort.Tensor) {}
  get shape() {
    return this.tensor.dims;
  }
  async read(): Promise<Tensor> {
    const data = (await this.tensor.getData()) as Float32Array;
    return { data: Float32Array.from(data), shape: [...this.tensor.dims] };
  }
  dispose() {
    if (this.tensor.location !== 'cpu') this.tensor.dispose();
  }
}
