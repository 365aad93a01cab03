/**
 * Weight download: progress in bytes, sha256 check against the manifest, and Cache Storage keyed by
 * hash, so a file is fetched once per version and a damaged or half-finished download is never kept.
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
  const { onProgress, signal, cache = null, fetchImpl = fetch } = options;
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

  let response: Response;
  try {
    response = await fetchImpl(source.url, { signal });
  } catch (error) {
    throw toNetworkError(error);
  }
  if (response.status === 404) throw new RuntimeError('not-found', `${source.url}: HTTP 404`);
  if (!response.ok) throw new RuntimeError('network', `${source.url}: HTTP ${response.status}`);

  const total = source.bytes;
  const body = new Uint8Array(total);
  let loaded = 0;
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
    throw toNetworkError(error);
  }
  if (loaded !== total) throw new RuntimeError('network', `${source.url}: got ${loaded} of ${total} bytes`);
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

function toNetworkError(error: unknown): RuntimeError {
  if (error instanceof RuntimeError) return error;
  if (error instanceof DOMException && error.name === 'AbortError') return new RuntimeError('aborted');
  const converted = toRuntimeError(error);
  return converted.kind === 'model' ? new RuntimeError('network', converted.message, { cause: error }) : converted;
}
