/**
 * Weight download: progress in bytes, sha256 check against the manifest, and Cache Storage keyed by
 * hash, so a file is fetched once per version and a damaged or half-finished download is never kept.
 * A dropped connection is resumed where it stopped (HTTP Range) a few times before the reader is asked to retry.
 */
import { RuntimeError, toRuntimeError } from './errors';

export interface WeightSource {
  url: string;
  bytes: number;
  sha256: string;
}

export interface LoadProgress {
  loaded: number;
  total: number;
  /** True when the bytes came from Cache Storage rather than the network. */
  fromCache: boolean;
}

export interface FetchWeightsOptions {
  onProgress?: (progress: LoadProgress) => void;
  signal?: AbortSignal;
  /** Cache Storage cache, or null to skip caching (Node, private modes that refuse storage). */
  cache?: Cache | null;
  fetchImpl?: typeof fetch;
  /** How often a dropped download is resumed (a Range request from the last byte) before it fails. */
  resumes?: number;
  /** Wait before the first resume; each further one waits that much longer. */
  resumeDelayMs?: number;
}

export const WEIGHT_CACHE_NAME = 'denoised-weights-v1';

/** Hex sha256 of some bytes, with Web Crypto (browsers and Node 20 alike). */
export async function sha256Hex(data: ArrayBuffer | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data as BufferSource);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The cache key names the content, so a new file version never meets a stale entry. */
export function cacheKey(source: WeightSource): string {
  const url = new URL(source.url, 'http://cache.invalid/');
  url.searchParams.set('sha256', source.sha256);
  return url.href;
}

export async function openWeightCache(): Promise<Cache | null> {
  try {
    return typeof caches === 'undefined' ? null : await caches.open(WEIGHT_CACHE_NAME);
  } catch {
    // Storage can be disabled (private windows, some embedded browsers); downloads still work.
    return null;
  }
}

export async function fetchWeights(source: WeightSource, options: FetchWeightsOptions = {}): Promise<ArrayBuffer> {
  const { onProgress, signal, cache = null, fetchImpl = fetch, resumes = 3, resumeDelayMs = 500 } = options;
  const key = cacheKey(source);
  if (cache) {
    const hit = await cache.match(key).catch(() => undefined);
    if (hit) {
      const buffer = await hit.arrayBuffer();
      if ((await sha256Hex(buffer)) === source.sha256) {
        onProgress?.({ loaded: buffer.byteLength, total: buffer.byteLength, fromCache: true });
        return buffer;
      }
      await cache.delete(key);
    }
  }

  const total = source.bytes;
  const body = new Uint8Array(total);
  let loaded = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      loaded = await download(source, body, loaded, { onProgress, signal, fetchImpl });
      if (loaded === total) break;
      throw new RuntimeError('network', `${source.url}: got ${loaded} of ${total} bytes`);
    } catch (error) {
      const failure = toNetworkError(error);
      // Only a dropped connection is worth another go; a missing or damaged file will not mend.
      if (failure.kind !== 'network' || attempt >= resumes) throw failure;
      await delay(resumeDelayMs * (attempt + 1), signal);
    }
  }
  const actual = await sha256Hex(body);
  if (actual !== source.sha256) {
    throw new RuntimeError(
      'corrupt',
      `${source.url}: sha256 ${actual.slice(0, 12)}…, expected ${source.sha256.slice(0, 12)}…`,
    );
  }
  if (cache) {
    // Only verified, complete files reach the cache; a failure to store is not the reader's problem.
    await cache
      .put(key, new Response(body, { headers: { 'content-type': 'application/octet-stream' } }))
      .catch(() => undefined);
  }
  return body.buffer;
}

/**
 * One request: from byte `offset` on (a Range request) into `body`. Returns the bytes held after it,
 * which may be fewer than the file's when the connection closes early. A server that ignores the
 * range sends the whole file, and the download starts again from zero.
 */
async function download(
  source: WeightSource,
  body: Uint8Array,
  offset: number,
  { onProgress, signal, fetchImpl }: Pick<FetchWeightsOptions, 'onProgress' | 'signal'> & { fetchImpl: typeof fetch },
): Promise<number> {
  const total = body.byteLength;
  let response: Response;
  try {
    response = await fetchImpl(source.url, offset ? { signal, headers: { Range: `bytes=${offset}-` } } : { signal });
  } catch (error) {
    throw toNetworkError(error);
  }
  if (response.status === 404) throw new RuntimeError('not-found', `${source.url}: HTTP 404`);
  if (!response.ok) throw new RuntimeError('network', `${source.url}: HTTP ${response.status}`);
  if (response.status === 206 && rangeStart(response) !== offset) {
    // Not the bytes asked for: drop them, and the next request asks for the whole file.
    await response.body?.cancel().catch(() => undefined);
    return 0;
  }
  let loaded = response.status === 206 ? offset : 0;
  try {
    const reader = response.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (loaded + value.byteLength > total) {
        throw new RuntimeError('corrupt', `${source.url} is larger than the ${total} bytes in the manifest`);
      }
      body.set(value, loaded);
      loaded += value.byteLength;
      onProgress?.({ loaded, total, fromCache: false });
    }
  } catch (error) {
    const failure = toNetworkError(error);
    if (failure.kind !== 'network') throw failure;
    // Keep what arrived: the next request resumes after it.
    return loaded;
  }
  return loaded;
}

/** The first byte a 206 response holds, from `Content-Range: bytes 1000-1999/2000`. */
function rangeStart(response: Response): number | null {
  const match = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
  return match ? Number(match[1]) : null;
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new RuntimeError('aborted'));
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new RuntimeError('aborted'));
      },
      { once: true },
    );
  });
}

function toNetworkError(error: unknown): RuntimeError {
  if (error instanceof RuntimeError) return error;
  if (error instanceof DOMException && error.name === 'AbortError') return new RuntimeError('aborted');
  const converted = toRuntimeError(error);
  return converted.kind === 'model' ? new RuntimeError('network', converted.message, { cause: error }) : converted;
}
