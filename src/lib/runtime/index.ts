/**
 * The browser runtime: one per page. Chooses the execution provider (WebGPU when an adapter exists,
 * else WASM; a reader can force either with `?ep=webgpu|wasm`), loads and verifies weights, creates
 * each model's session once, and queues runs so that no two overlap.
 */
import { createSession, hasWebGpuAdapter, type EngineSession, type ProviderName } from './engine';
import { RuntimeError, toRuntimeError } from './errors';
import { parseManifest, type Manifest, type ModelEntry } from './manifest';
import type { Feed, ModelRunner, RunOptions } from './types';
import { fetchWeights, openWeightCache, type LoadProgress, type WeightSource } from './weights';

export type { ProviderName } from './engine';
export { RuntimeError, toRuntimeError } from './errors';
export type { RuntimeErrorKind } from './errors';
export type { Manifest, ModelEntry, RecommendedSampling, TokenizerFile, TrainedSchedulerConfig } from './manifest';
export { recommendedSamplingOf } from './manifest';
export type { LoadProgress } from './weights';
export * from './types';

export interface ProviderChoice {
  provider: ProviderName;
  /** Set when the reader gets something other than what they (or we) wanted, to show as a notice. */
  notice?: string;
}

/** `?ep=` in the page URL, else the reader's stored choice, else "auto". */
export function requestedProvider(): ProviderName | 'auto' {
  const fromUrl = new URLSearchParams(location.search).get('ep');
  if (fromUrl === 'webgpu' || fromUrl === 'wasm') return fromUrl;
  try {
    const stored = localStorage.getItem('denoised.ep');
    if (stored === 'webgpu' || stored === 'wasm') return stored;
  } catch {
    // Storage blocked: fall through to automatic choice.
  }
  return 'auto';
}

export function storeRequestedProvider(choice: ProviderName | 'auto') {
  try {
    if (choice === 'auto') localStorage.removeItem('denoised.ep');
    else localStorage.setItem('denoised.ep', choice);
  } catch {
    // Not remembered, but still used for this page.
  }
}

export async function chooseProvider(requested = requestedProvider()): Promise<ProviderChoice> {
  if (requested === 'wasm') return { provider: 'wasm' };
  if (await hasWebGpuAdapter()) return { provider: 'webgpu' };
  return {
    provider: 'wasm',
    notice: new RuntimeError('no-webgpu').message,
  };
}

export interface LoadModelOptions {
  onProgress?: (progress: LoadProgress) => void;
  signal?: AbortSignal;
  /** Outputs to leave on the GPU under WebGPU (conditioning reused every denoising step). */
  gpuOutputs?: readonly string[];
}

/** What the runtime needs from the outside world; tests replace it, pages use the defaults. */
export interface RuntimeDeps {
  fetchImpl: typeof fetch;
  openCache: () => Promise<Cache | null>;
  createSession: typeof createSession;
}

const browserDeps: RuntimeDeps = {
  fetchImpl: (input, init) => fetch(input, init),
  openCache: openWeightCache,
  createSession,
};

export class Runtime {
  private manifestPromise: Promise<Manifest> | null = null;
  private files = new Map<string, Promise<unknown>>();
  private sessions = new Map<string, Promise<EngineSession>>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly provider: ProviderName,
    readonly weightsBase = `${import.meta.env.BASE_URL}weights/`,
    private readonly deps: RuntimeDeps = browserDeps,
  ) {}

  manifest(): Promise<Manifest> {
    this.manifestPromise ??= this.deps
      .fetchImpl(`${this.weightsBase}manifest.json`)
      .then((r) => {
        if (!r.ok)
          throw new RuntimeError(r.status === 404 ? 'not-found' : 'network', `manifest.json: HTTP ${r.status}`);
        return r.json();
      })
      .then(parseManifest)
      .catch((error) => {
        this.manifestPromise = null;
        throw toRuntimeError(error);
      });
    return this.manifestPromise;
  }

  async entry(id: string): Promise<ModelEntry> {
    const entry = (await this.manifest()).models[id];
    if (!entry) throw new RuntimeError('not-found', `no model "${id}" in manifest.json`);
    return entry;
  }

  /** Where a model's weights come from and what they must hash to; also names their cache entry. */
  weightSource(entry: ModelEntry): WeightSource {
    return { url: `${this.weightsBase}${entry.file}`, bytes: entry.bytes, sha256: entry.sha256 };
  }

  /**
   * A model's companion file (a tokenizer, `entry.tokenizer`), downloaded or read from the cache and
   * checked against the manifest's size and sha256 like the weights. Parsed once per page.
   */
  loadJson<T>(file: { file: string; bytes: number; sha256: string }): Promise<T> {
    let parsed = this.files.get(file.sha256) as Promise<T> | undefined;
    if (!parsed) {
      parsed = (async () => {
        const bytes = await fetchWeights(
          { url: `${this.weightsBase}${file.file}`, bytes: file.bytes, sha256: file.sha256 },
          { cache: await this.deps.openCache(), fetchImpl: this.deps.fetchImpl },
        );
        return JSON.parse(new TextDecoder().decode(bytes)) as T;
      })().catch((error) => {
        this.files.delete(file.sha256);
        throw toRuntimeError(error);
      });
      this.files.set(file.sha256, parsed);
    }
    return parsed;
  }

  /** Downloads (or reads from cache), verifies and opens a model; later calls reuse the session. */
  async loadModel(id: string, options: LoadModelOptions = {}): Promise<ModelRunner & { entry: ModelEntry }> {
    const entry = await this.entry(id);
    const key = `${id}|${(options.gpuOutputs ?? []).join(',')}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = (async () => {
        const bytes = await fetchWeights(this.weightSource(entry), {
          onProgress: options.onProgress,
          signal: options.signal,
          cache: await this.deps.openCache(),
          fetchImpl: this.deps.fetchImpl,
        });
        // Downloads run in parallel, but sessions are created one at a time: the WebGPU EP refuses to
        // create a session while another is being created ("another WebGPU EP inference session is
        // being created"), and WASM gains nothing from overlapping them.
        return this.enqueue(() => this.deps.createSession(this.provider, bytes, { gpuOutputs: options.gpuOutputs }));
      })().catch((error) => {
        // A failed load must not poison the cache of sessions: Retry starts again from scratch.
        this.sessions.delete(key);
        throw toRuntimeError(error);
      });
      this.sessions.set(key, session);
    } else {
      options.onProgress?.({ loaded: entry.bytes, total: entry.bytes, fromCache: true });
    }
    const ready = await session;
    return {
      id,
      entry,
      run: (feeds: Record<string, Feed>, runOptions: RunOptions = {}) =>
        this.enqueue(() => {
          runOptions.signal?.throwIfAborted();
          return ready.run(feeds, runOptions.keep ?? []);
        }),
    };
  }

  /**
   * Runs one job at a time, session creation included: WebGPU shares one device and WASM one thread
   * pool across figures.
   */
  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const result = this.queue.then(job, job);
    this.queue = result.catch(() => undefined);
    return result.catch((error) => {
      throw toRuntimeError(error);
    });
  }
}

let shared: Promise<{ runtime: Runtime; choice: ProviderChoice }> | null = null;

/** The page's runtime, created on first use with the provider chosen for this browser. */
export function getRuntime(): Promise<{ runtime: Runtime; choice: ProviderChoice }> {
  shared ??= chooseProvider().then((choice) => ({ runtime: new Runtime(choice.provider), choice }));
  return shared;
}
