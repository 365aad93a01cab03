/**
 * onnxruntime-web under `astro dev` too: Vite's dependency pre-bundling and chunking must not lose
 * the engine files (they are served from public/ort/ and named in env.wasm.wasmPaths).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dev } from 'astro';
import { launchChromium, type Browser } from './browser';
import { freePort } from '../helpers/net';

let server: Awaited<ReturnType<typeof dev>>;
let browser: Browser;
beforeAll(async () => {
  server = await dev({ root: process.cwd(), logLevel: 'error', server: { host: '127.0.0.1', port: await freePort() } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

it('the MNIST sampler runs on WebAssembly, multi-threaded, under astro dev', async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(`http://127.0.0.1:${server.address.port}/models/?ep=wasm`, { waitUntil: 'load' });
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const figure = page.locator('mnist-sampler');
  await figure.getByLabel('Steps').fill('2');
  await figure.getByRole('button', { name: 'Sample' }).click();
  await page.waitForFunction(
    () => ['done', 'error'].includes(document.querySelector('mnist-sampler')!.getAttribute('data-state')!),
    null,
    {
      timeout: 180_000,
    },
  );
  expect(await figure.locator('.status-line').textContent()).toContain('WebAssembly');
  expect(await figure.getAttribute('data-state')).toBe('done');
  expect(errors).toEqual([]);
});
