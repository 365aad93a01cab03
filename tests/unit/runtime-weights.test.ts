/** Weight download: progress, checksum, cache by hash, and errors a reader can act on. */
import { describe, expect, it } from 'vitest';
import { RuntimeError, toRuntimeError } from '../../src/lib/runtime/errors';
import { cacheKey, fetchWeights, sha256Hex, type LoadProgress } from '../../src/lib/runtime/weights';

const bytes = new Uint8Array(100_000).map((_, i) => (i * 7) % 251);
const source = async () => ({ url: '/weights/model.onnx', bytes: bytes.length, sha256: await sha256Hex(bytes) });

/** A Response whose body arrives in chunks, optionally failing after some of them. */
function chunked(data: Uint8Array, chunk = 16_384, failAfter = Infinity): Response {
  let offset = 0;
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ >= failAfter) return controller.error(new TypeError('network error'));
      if (offset >= data.length) return controller.close();
      controller.enqueue(data.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
  return new Response(stream, { status: 200 });
}

/** The parts of Cache Storage's Cache that fetchWeights uses. */
class MemoryCache {
  entries = new Map<string, ArrayBuffer>();
  async match(key: string) {
    const hit = this.entries.get(key);
    return hit ? new Response(hit.slice(0)) : undefined;
  }
  async put(key: string, response: Response) {
    this.entries.set(key, await response.arrayBuffer());
  }
  async delete(key: string) {
    return this.entries.delete(key);
  }
}

describe('fetchWeights', () => {
  it('reports progress up to the total and returns the verified bytes', async () => {
    const progress: LoadProgress[] = [];
    const buffer = await fetchWeights(await source(), {
      fetchImpl: async () => chunked(bytes),
      onProgress: (p) => progress.push(p),
    });
    expect(new Uint8Array(buffer)).toEqual(bytes);
    expect(progress.length).toBe(Math.ceil(bytes.length / 16_384));
    expect(progress.at(-1)).toEqual({ loaded: bytes.length, total: bytes.length, fromCache: false });
    expect(progress.every((p, i) => i === 0 || p.loaded > progress[i - 1].loaded)).toBe(true);
  });

  it('caches by hash and serves the second load without the network', async () => {
    const cache = new MemoryCache();
    const src = await source();
    let fetches = 0;
    const fetchImpl = async () => (fetches++, chunked(bytes));
    await fetchWeights(src, { fetchImpl, cache: cache as unknown as Cache });
    const progress: LoadProgress[] = [];
    const again = await fetchWeights(src, {
      fetchImpl,
      cache: cache as unknown as Cache,
      onProgress: (p) => progress.push(p),
    });
    expect(fetches).toBe(1);
    expect(new Uint8Array(again)).toEqual(bytes);
    expect(progress).toEqual([{ loaded: bytes.length, total: bytes.length, fromCache: true }]);
    expect([...cache.entries.keys()]).toEqual([cacheKey(src)]);
    expect(cacheKey(src)).toContain(src.sha256);
  });

  it('refuses a file whose sha256 differs, and does not cache it', async () => {
    const cache = new MemoryCache();
    const damaged = bytes.slice();
    damaged[500] ^= 0xff;
    const error = await fetchWeights(await source(), {
      fetchImpl: async () => chunked(damaged),
      cache: cache as unknown as Cache,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(RuntimeError);
    expect(error.kind).toBe('corrupt');
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/damaged/);
    expect(cache.entries.size).toBe(0);
  });

  it('replaces a damaged cache entry with a fresh download', async () => {
    const cache = new MemoryCache();
    const src = await source();
    cache.entries.set(cacheKey(src), new Uint8Array(bytes.length).buffer);
    let fetches = 0;
    const buffer = await fetchWeights(src, {
      fetchImpl: async () => (fetches++, chunked(bytes)),
      cache: cache as unknown as Cache,
    });
    expect(fetches).toBe(1);
    expect(new Uint8Array(buffer)).toEqual(bytes);
    expect(new Uint8Array(cache.entries.get(cacheKey(src))!)).toEqual(bytes);
  });

  it('turns a dropped connection into a retryable network error and caches nothing', async () => {
    const cache = new MemoryCache();
    const error = await fetchWeights(await source(), {
      fetchImpl: async () => chunked(bytes, 16_384, 3),
      cache: cache as unknown as Cache,
      resumeDelayMs: 0,
    }).catch((e) => e);
    expect(error.kind).toBe('network');
    expect(error.retryable).toBe(true);
    expect(cache.entries.size).toBe(0);
  });

  it('says a missing file is missing (404), and a server error is a network problem', async () => {
    const missing = await fetchWeights(await source(), {
      fetchImpl: async () => new Response('', { status: 404 }),
    }).catch((e) => e);
    expect(missing.kind).toBe('not-found');
    expect(missing.retryable).toBe(false);
    const failing = await fetchWeights(await source(), {
      fetchImpl: async () => new Response('', { status: 503 }),
      resumeDelayMs: 0,
    }).catch((e) => e);
    expect(failing.kind).toBe('network');
  });

  it('a file shorter than the manifest says is an incomplete download', async () => {
    const error = await fetchWeights(await source(), {
      fetchImpl: async () => chunked(bytes.slice(0, 5000)),
      resumeDelayMs: 0,
    }).catch((e) => e);
    expect(error.kind).toBe('network');
    expect(error.message).toMatch(/5000 of 100000/);
  });

  it('resumes a dropped download from the last byte with a Range request, and caches only the whole file', async () => {
    const cache = new MemoryCache();
    const src = await source();
    const ranges: (string | null)[] = [];
    const progress: LoadProgress[] = [];
    const buffer = await fetchWeights(src, {
      cache: cache as unknown as Cache,
      resumeDelayMs: 0,
      onProgress: (p) => progress.push(p),
      fetchImpl: async (_url, init) => {
        const range = new Headers(init?.headers).get('range');
        ranges.push(range);
        if (!range) return chunked(bytes, 16_384, 3); // drops after 3 chunks
        const start = Number(/bytes=(\d+)-/.exec(range)![1]);
        const rest = chunked(bytes.slice(start));
        return new Response(rest.body, {
          status: 206,
          headers: { 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` },
        });
      },
    });
    expect(ranges).toEqual([null, `bytes=${3 * 16_384}-`]);
    expect(new Uint8Array(buffer)).toEqual(bytes);
    // Progress carries on from where the first request stopped.
    expect(progress.every((p, i) => i === 0 || p.loaded > progress[i - 1].loaded)).toBe(true);
    expect([...cache.entries.values()].map((b) => b.byteLength)).toEqual([bytes.length]);
  });

  it('starts again from zero when the server ignores the Range header', async () => {
    let calls = 0;
    const buffer = await fetchWeights(await source(), {
      resumeDelayMs: 0,
      fetchImpl: async () => (calls++ === 0 ? chunked(bytes, 16_384, 2) : chunked(bytes)),
    });
    expect(calls).toBe(2);
    expect(new Uint8Array(buffer)).toEqual(bytes);
  });

  it('gives up after the allowed resumes with a retryable error', async () => {
    let calls = 0;
    const error = await fetchWeights(await source(), {
      resumes: 2,
      resumeDelayMs: 0,
      fetchImpl: async () => {
        calls++;
        throw new TypeError('Failed to fetch');
      },
    }).catch((e) => e);
    expect(calls).toBe(3);
    expect(error.kind).toBe('network');
    expect(error.retryable).toBe(true);
  });

  it('a missing or damaged file is not retried', async () => {
    let calls = 0;
    const missing = await fetchWeights(await source(), {
      resumeDelayMs: 0,
      fetchImpl: async () => (calls++, new Response('', { status: 404 })),
    }).catch((e) => e);
    expect([missing.kind, calls]).toEqual(['not-found', 1]);
  });

  it('Stop during the wait before a resume is reported as aborted', async () => {
    const controller = new AbortController();
    const pending = fetchWeights(await source(), {
      signal: controller.signal,
      resumeDelayMs: 60_000,
      fetchImpl: async () => chunked(bytes, 16_384, 1),
    }).catch((e) => e);
    setTimeout(() => controller.abort(), 20);
    expect((await pending).kind).toBe('aborted');
  });

  it('an aborted download is reported as aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await fetchWeights(await source(), {
      signal: controller.signal,
      fetchImpl: async (_url, init) => {
        init?.signal?.throwIfAborted();
        return chunked(bytes);
      },
    }).catch((e) => e);
    expect(error.kind).toBe('aborted');
  });
});

describe('toRuntimeError', () => {
  it('recognises out-of-memory failures from the engine', () => {
    expect(
      toRuntimeError(new Error('RangeError: WebAssembly.Memory(): could not allocate memory: out of memory')).kind,
    ).toBe('out-of-memory');
    expect(toRuntimeError(new Error('something else')).kind).toBe('model');
  });
});
