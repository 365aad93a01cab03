/** The runtime's bookkeeping, with the engine replaced: one session per model, runs never overlap. */
import { describe, expect, it } from 'vitest';
import { Runtime, type RuntimeDeps } from '../../src/lib/runtime/index';
import type { EngineSession } from '../../src/lib/runtime/engine';
import { sha256Hex } from '../../src/lib/runtime/weights';

const weights = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);

async function fakeDeps(options: { failedDownloads?: number } = {}) {
  const manifest = {
    version: 1,
    models: {
      a: { file: 'a.onnx', bytes: weights.length, sha256: await sha256Hex(weights), inputs: [], outputs: [] },
      b: { file: 'b.onnx', bytes: weights.length, sha256: await sha256Hex(weights), inputs: [], outputs: [] },
    },
  };
  const log = {
    downloads: 0,
    sessions: 0,
    creating: 0,
    maxCreating: 0,
    active: 0,
    maxActive: 0,
    order: [] as string[],
  };
  const deps: RuntimeDeps = {
    openCache: async () => null,
    fetchImpl: async (url) => {
      if (String(url).endsWith('manifest.json')) return new Response(JSON.stringify(manifest));
      log.downloads++;
      if (log.downloads <= (options.failedDownloads ?? 0)) return new Response('', { status: 503 });
      return new Response(weights);
    },
    createSession: async (): Promise<EngineSession> => {
      log.sessions++;
      log.creating++;
      log.maxCreating = Math.max(log.maxCreating, log.creating);
      await new Promise((r) => setTimeout(r, 5));
      log.creating--;
      return {
        async run(feeds) {
          log.active++;
          log.maxActive = Math.max(log.maxActive, log.active);
          log.order.push(`start ${(feeds.tag as unknown as { tag: string }).tag}`);
          await new Promise((r) => setTimeout(r, 5));
          log.order.push(`end ${(feeds.tag as unknown as { tag: string }).tag}`);
          log.active--;
          return {};
        },
        release: async () => {},
      };
    },
  };
  return { deps, log };
}
const tag = (name: string) => ({ data: new Float32Array([0]), shape: [1], tag: name }) as never;

describe('Runtime', () => {
  it('downloads and opens each model once, however many figures ask at the same time', async () => {
    const { deps, log } = await fakeDeps();
    const runtime = new Runtime('wasm', '/weights/', deps);
    await Promise.all([runtime.loadModel('a'), runtime.loadModel('a'), runtime.loadModel('a')]);
    await runtime.loadModel('a');
    expect(log.downloads).toBe(1);
    expect(log.sessions).toBe(1);
  });

  it('creates sessions one at a time (the WebGPU EP refuses two at once)', async () => {
    const { deps, log } = await fakeDeps();
    const runtime = new Runtime('webgpu', '/weights/', deps);
    await Promise.all([runtime.loadModel('a'), runtime.loadModel('b')]);
    expect(log.sessions).toBe(2);
    expect(log.maxCreating).toBe(1);
  });

  it('runs one job at a time, in the order asked', async () => {
    const { deps, log } = await fakeDeps();
    const runtime = new Runtime('wasm', '/weights/', deps);
    const model = await runtime.loadModel('a');
    await Promise.all(['x', 'y', 'z'].map((name) => model.run({ tag: tag(name) })));
    expect(log.maxActive).toBe(1);
    expect(log.order).toEqual(['start x', 'end x', 'start y', 'end y', 'start z', 'end z']);
  });

  it('a dropped download is tried again within the load', async () => {
    const { deps, log } = await fakeDeps({ failedDownloads: 1 });
    await new Runtime('wasm', '/weights/', deps).loadModel('a');
    expect(log.downloads).toBe(2);
  });

  // fetchWeights tries 4 times, 0.5 + 1 + 1.5 s apart, before it gives up.
  it('a failed download is not remembered: the next attempt downloads again', { timeout: 20_000 }, async () => {
    const { deps, log } = await fakeDeps({ failedDownloads: 4 });
    const runtime = new Runtime('wasm', '/weights/', deps);
    await expect(runtime.loadModel('a')).rejects.toMatchObject({ kind: 'network', retryable: true });
    await runtime.loadModel('a');
    expect(log.downloads).toBe(5);
    expect(log.sessions).toBe(1);
  });

  it('an unknown model id is reported as missing', async () => {
    const { deps } = await fakeDeps();
    await expect(new Runtime('wasm', '/weights/', deps).loadModel('nope')).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('a cancelled run is reported as aborted and does not block the queue', async () => {
    const { deps, log } = await fakeDeps();
    const model = await new Runtime('wasm', '/weights/', deps).loadModel('a');
    const controller = new AbortController();
    controller.abort();
    await expect(model.run({ tag: tag('cancelled') }, { signal: controller.signal })).rejects.toMatchObject({
      kind: 'aborted',
    });
    await model.run({ tag: tag('next') });
    expect(log.order).toEqual(['start next', 'end next']);
  });
});

describe('Runtime.loadJson (tokenizers and other companion files)', () => {
  const json = new TextEncoder().encode(JSON.stringify({ vocab: { a: 1 } }));
  const depsFor = (body: Uint8Array<ArrayBuffer>, counter: { n: number }): RuntimeDeps => ({
    openCache: async () => null,
    fetchImpl: async () => (counter.n++, new Response(body)),
    createSession: async () => {
      throw new Error('no session wanted');
    },
  });

  it('downloads once, checks the hash and parses', async () => {
    const counter = { n: 0 };
    const runtime = new Runtime('wasm', '/weights/', depsFor(json, counter));
    const file = { file: 'tok.json', bytes: json.length, sha256: await sha256Hex(json) };
    const [a, b] = await Promise.all([runtime.loadJson(file), runtime.loadJson(file)]);
    expect(a).toEqual({ vocab: { a: 1 } });
    expect(b).toBe(a);
    expect(counter.n).toBe(1);
  });

  it('refuses a file whose bytes do not match the manifest, and retries afresh', async () => {
    const counter = { n: 0 };
    const damaged = json.slice();
    damaged[3] ^= 1;
    const runtime = new Runtime('wasm', '/weights/', depsFor(damaged, counter));
    const file = { file: 'tok.json', bytes: json.length, sha256: await sha256Hex(json) };
    await expect(runtime.loadJson(file)).rejects.toMatchObject({ kind: 'corrupt' });
    await expect(runtime.loadJson(file)).rejects.toBeTruthy();
    expect(counter.n).toBe(2);
  });
});
