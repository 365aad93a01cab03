/**
 * The part-2 figures that their chapter tests run only on WebAssembly, run once each on WebGPU
 * (SwiftShader here, about 100x slower than WASM, so two steps): they must finish, say WebGPU, and
 * agree with the same settings on WebAssembly (the prior and decoder, the Imagen cascade), or
 * respond to their controls (the GLIDE sweep: w = 0 and w = 10 differ).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator } from 'playwright-core';
import { launchChromium, openPage, settled, figureResult, type Browser } from './browser';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

const maxAbsDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** Runs one figure with the same settings on both providers and returns both results. */
async function onBoth(
  path: string,
  tag: string,
  button: string,
  setUp: (figure: Locator) => Promise<void>,
): Promise<{ wasm: any; webgpu: any; status: string }> {
  const out: Record<string, any> = {};
  let status = '';
  for (const provider of ['wasm', 'webgpu'] as const) {
    const { page, errors } = await openPage(browser, `${path}?ep=${provider}`);
    const figure = page.locator(tag);
    await setUp(figure);
    await figure.getByRole('button', { name: button, exact: true }).click();
    expect(await settled(page, tag)).toBe('done');
    expect(await figure.locator('.model-status').getAttribute('data-provider')).toBe(provider);
    out[provider] = await figureResult(page, tag);
    if (provider === 'webgpu') status = (await figure.locator('.status-line').textContent()) ?? '';
    expect(errors).toEqual([]);
    await page.close();
  }
  return { wasm: out.wasm, webgpu: out.webgpu, status };
}

describe('part-2 figures on WebGPU (SwiftShader here: two steps)', () => {
  it('DALL-E 2: prior + decoder agree with WebAssembly', { timeout: 400_000 }, async () => {
    const { wasm, webgpu, status } = await onBoth('/chapters/dall-e-2/', 'unclip-prior', 'Generate', async (f) => {
      await f.getByLabel('Prior steps').fill('2');
      await f.getByLabel('Decoder steps').fill('2');
    });
    expect(status).toMatch(/WebGPU$/);
    expect(maxAbsDiff(webgpu.imageEmbeds.data, wasm.imageEmbeds.data)).toBeLessThan(1e-3);
    // Pictures in [-1, 1]: after two guided decoder steps and the VAE, float32 kernels differ by far less than this.
    expect(maxAbsDiff(webgpu.image.data, wasm.image.data)).toBeLessThan(2e-2);
  });

  it('Imagen: a real emoji through the upsampler agrees with WebAssembly', { timeout: 400_000 }, async () => {
    const { wasm, webgpu, status } = await onBoth(
      '/chapters/imagen/',
      'imagen-cascade',
      'Generate and upsample',
      async (f) => {
        const source = f.locator('select[name="source"]');
        const real = await source.locator('option').nth(1).getAttribute('value');
        await source.selectOption(real!);
        await f.getByLabel('Steps', { exact: true }).fill('2');
      },
    );
    expect(status).toMatch(/WebGPU$/);
    expect(webgpu.output.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(webgpu.output, wasm.output)).toBeLessThan(2e-2);
  });

  it('GLIDE: the guidance sweep runs on WebGPU, and w = 0 differs from w = 10', { timeout: 300_000 }, async () => {
    const { page, errors } = await openPage(browser, '/chapters/glide/?ep=webgpu');
    const figure = page.locator('glide-cfg-sweep');
    await figure.getByLabel('Steps', { exact: true }).fill('2');
    await figure.getByRole('button', { name: 'Render all seven', exact: true }).click();
    expect(await settled(page, 'glide-cfg-sweep')).toBe('done');
    expect(await figure.locator('.model-status').getAttribute('data-provider')).toBe('webgpu');
    const canvases = figure.locator('canvas[data-variant]');
    const first = await canvases.first().evaluate((c: HTMLCanvasElement) => c.toDataURL());
    const last = await canvases.last().evaluate((c: HTMLCanvasElement) => c.toDataURL());
    expect(first).not.toBe(last);
    expect(errors).toEqual([]);
    await page.close();
  });
});
