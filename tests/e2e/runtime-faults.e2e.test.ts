/** What a reader sees when things go wrong while a model loads: a sentence and a way on. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { baseUrl, launchChromium, type Browser } from './browser';

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
async function freshPage(path = '/models/', init?: string, serviceWorkers: 'allow' | 'block' = 'block') {
  // The service worker is blocked where a test intercepts requests: page.route does not see a
  // controlled page's fetches.
  const context = await browser.newContext({ serviceWorkers });
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

  it('after a first visit, the page and its model work with the network cut', async () => {
    const { page, context, errors, open } = await freshPage('/models/?ep=wasm', undefined, 'allow');
    await open();
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller) {
        await new Promise((resolve) =>
          navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }),
        );
      }
    });
    // Reload online under the service worker's control, and run once so the engine is fetched.
    await page.reload();
    expect((await sampleOneStep(page)).state).toBe('done');

    await context.setOffline(true);
    await page.reload();
    const offline = await sampleOneStep(page);
    expect(offline.state, offline.status).toBe('done');
    // Proof that the network is really gone: a page never visited cannot be fetched.
    const unseen = await page.evaluate(() =>
      fetch(`/never-visited-${Date.now()}/`).then(
        (r) => r.status,
        () => 'failed',
      ),
    );
    expect(unseen).toBe('failed');
    expect(offline.status).toContain('WebAssembly');
    expect(errors).toEqual([]);
    await context.close();
  });
});
