/**
 * What a reader sees when things go wrong while a model loads (a sentence and a way on), and what
 * still works with the network gone.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  baseUrl,
  builtPages,
  chapterOf,
  CHEAP_RUNS,
  launchChromium,
  runCheaply,
  watchErrors,
  type Browser,
} from './browser';

const manifest = JSON.parse(readFileSync('public/weights/manifest.json', 'utf8'));
const unetFile = manifest.models.mnist_ddpm.file as string;

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function sampleOneStep(page: Page) {
  const figure = page.locator('mnist-sampler');
  await figure.getByLabel('Steps').fill('1');
  await figure.getByRole('button', { name: 'Sample' }).click();
  await page.waitForFunction(
    () => ['done', 'error'].includes(document.querySelector('mnist-sampler')!.getAttribute('data-state')!),
    null,
    {
      timeout: 120_000,
    },
  );
  return {
    state: await figure.getAttribute('data-state'),
    status: (await figure.locator('.status-line').textContent()) ?? '',
    retryVisible: await figure.getByRole('button', { name: 'Retry' }).isVisible(),
  };
}

/** Opens /models/ with a clean cache so that every test downloads the weights itself. */
async function freshPage(path = '/models/', init?: string) {
  // The service worker is blocked: page.route does not see a controlled page's fetches.
  const context = await browser.newContext({ serviceWorkers: 'block' });
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, context, errors, open: () => page.goto(new URL(path, baseUrl()).href) };
}

describe('runtime faults', () => {
  it('without WebGPU the figure runs on WebAssembly and says why', async () => {
    const { page, context, errors, open } = await freshPage('/models/', 'delete Object.getPrototypeOf(navigator).gpu;');
    await open();
    const run = await sampleOneStep(page);
    expect(run.state).toBe('done');
    expect(await page.locator('mnist-sampler .model-status').getAttribute('data-provider')).toBe('wasm');
    const status = await page.locator('mnist-sampler .model-status').evaluate((el) => el.textContent);
    expect(status).toContain('WebAssembly');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a missing weight file says so, without a pointless Retry', async () => {
    const { page, context, open } = await freshPage();
    await page.route(`**/weights/${unetFile}`, (route) => route.fulfill({ status: 404, body: 'not found' }));
    await open();
    const run = await sampleOneStep(page);
    expect(run.state).toBe('error');
    expect(run.status).toMatch(/missing/);
    expect(run.retryVisible).toBe(false);
    await context.close();
  });

  it('a corrupted download is refused, never cached, and Retry then works', async () => {
    const { page, context, open } = await freshPage();
    const real = readFileSync(`public/weights/${unetFile}`);
    const damaged = Buffer.from(real);
    damaged[damaged.length >> 1] ^= 0xff;
    await page.route(`**/weights/${unetFile}`, (route) => route.fulfill({ status: 200, body: damaged }));
    await open();
    const run = await sampleOneStep(page);
    expect(run.state).toBe('error');
    expect(run.status).toMatch(/damaged/);
    expect(run.retryVisible).toBe(true);
    const cached = await page.evaluate(async () => (await (await caches.open('denoised-weights-v1')).keys()).length);
    expect(cached).toBe(0);

    await page.unroute(`**/weights/${unetFile}`);
    await page.locator('mnist-sampler').getByRole('button', { name: 'Retry' }).click();
    await page.waitForFunction(
      () => document.querySelector('mnist-sampler')!.getAttribute('data-state') === 'done',
      null,
      {
        timeout: 120_000,
      },
    );
    const after = await page.evaluate(async () =>
      (await (await caches.open('denoised-weights-v1')).keys()).map((r) => r.url),
    );
    expect(after.some((url) => url.includes(unetFile) && url.includes('sha256='))).toBe(true);
    await context.close();
  });

  it('asks nothing of any other origin: engine, weights and pages all come from this site', async () => {
    const { page, context, open } = await freshPage();
    const foreign: string[] = [];
    const origin = new URL(baseUrl()).origin;
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin !== origin && !url.startsWith('data:') && !url.startsWith('blob:')) {
        foreign.push(url);
        return route.abort('internetdisconnected');
      }
      return route.continue();
    });
    await open();
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const run = await sampleOneStep(page);
    expect(run.state).toBe('done');
    expect(foreign).toEqual([]);
    await context.close();
  });

  it(
    'on a cellular connection nothing is saved unasked; the footer button saves it all',
    { timeout: 300_000 },
    async () => {
      const context = await browser.newContext({ serviceWorkers: 'allow' });
      // Chromium's Network Information API, as a phone on mobile data reports it.
      await context.addInitScript(() =>
        Object.defineProperty(Navigator.prototype, 'connection', {
          get: () => ({ type: 'cellular', saveData: false }),
        }),
      );
      const page = await context.newPage();
      await page.goto(new URL('/?ep=wasm', baseUrl()).href);
      const footer = page.locator('footer');
      await expect
        .poll(() => footer.getByRole('status').textContent(), { timeout: 60_000 })
        .toMatch(/connection is cellular, so the models .* are not downloaded for reading offline unless you ask/);
      const weightsKept = () =>
        page.evaluate(async () => (await (await caches.open('denoised-weights-v1')).keys()).length);
      expect(await weightsKept()).toBe(0);
      await footer.getByRole('button', { name: 'Save every chapter for offline reading' }).click();
      await expect
        .poll(() => footer.getByRole('status').textContent(), { timeout: 120_000 })
        .toBe('Saved on this device: every chapter and its models work offline.');
      expect(await weightsKept()).toBe(Object.keys(manifest.models).length);
      expect(await footer.getByRole('button').isHidden()).toBe(true);
      await context.close();
    },
  );

  it(
    'after one visit to the home page, every page opens and every chapter runs a model with the network cut',
    { timeout: 600_000 },
    async () => {
      // A reader opens the home page once, online, and stays until the footer says all is saved
      // (?ep=wasm: the cheapest engine, so that is the one kept).
      const context = await browser.newContext({ serviceWorkers: 'allow' });
      const home = await context.newPage();
      const errors = watchErrors(home);
      const started = Date.now();
      await home.goto(new URL('/?ep=wasm', baseUrl()).href);
      await expect
        .poll(() => home.locator('footer').getByRole('status').textContent(), { timeout: 120_000 })
        .toBe('Saved on this device: every chapter and its models work offline.');
      const savedSeconds = (Date.now() - started) / 1000;
      const kept = await home.evaluate(async () => {
        const sizes: Record<string, { files: number; bytes: number }> = {};
        for (const name of await caches.keys()) {
          const cache = await caches.open(name);
          const requests = await cache.keys();
          let bytes = 0;
          for (const request of requests) bytes += (await (await cache.match(request))!.blob()).size;
          sizes[name] = { files: requests.length, bytes };
        }
        return sizes;
      });
      const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
      console.log(
        `[offline] saved in ${savedSeconds.toFixed(1)} s: ${Object.entries(kept)
          .map(([name, { files, bytes }]) => `${name} ${files} files ${mb(bytes)}`)
          .join(', ')}`,
      );
      await home.close();

      await context.setOffline(true);
      const pages = builtPages();
      const chapters = pages.map(chapterOf).filter((id): id is string => id !== null);
      expect(chapters.length).toBeGreaterThanOrEqual(8);
      for (const path of pages) {
        const chapter = chapterOf(path);
        const page = await context.newPage();
        const pageErrors = watchErrors(page);
        const pageStarted = Date.now();
        const response = await page.goto(new URL(`${path}?ep=wasm`, baseUrl()).href);
        expect(response?.ok(), path).toBe(true);
        await expect(page.getByRole('heading', { level: 1 }).first().isVisible(), path).resolves.toBe(true);
        if (chapter) {
          expect(CHEAP_RUNS[chapter], `${chapter} has no cheap run to try offline`).toBeDefined();
          const state = await runCheaply(page, chapter);
          const figure = page.locator(CHEAP_RUNS[chapter].figure);
          const onnx = CHEAP_RUNS[chapter].onnx !== false;
          const status = onnx ? ((await figure.locator('.status-line').textContent()) ?? '') : '';
          expect(state, `${chapter}: ${status}`).toBe('done');
          if (onnx) expect(await figure.locator('.model-status').getAttribute('data-provider')).toBe('wasm');
          console.log(
            `[offline] ${chapter}: ${CHEAP_RUNS[chapter].figure} done in ${((Date.now() - pageStarted) / 1000).toFixed(1)} s`,
          );
        }
        expect(pageErrors, path).toEqual([]);
        await page.close();
      }
      expect(errors).toEqual([]);

      // Proof that the network is really gone: a file never listed nor fetched cannot be had.
      const probe = await context.newPage();
      await probe.goto(new URL('/credits/', baseUrl()).href);
      const unseen = await probe.evaluate(() =>
        fetch(`/never-visited-${Date.now()}/`).then(
          (r) => r.status,
          () => 'failed',
        ),
      );
      expect(unseen).toBe('failed');
      await context.close();
    },
  );
});
