/**
 * The latent-diffusion chapter's step-cost figure on WebAssembly. Not on WebGPU here: SwiftShader
 * takes over a minute per pixel step, so the WebGPU path is covered by the SDXL figure's short run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, type Browser } from './browser';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** "52.1 ms" or "1.30 s" -> milliseconds. */
function toMs(text: string): number {
  const match = /^([\d.]+) (ms|s|min)$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: "${text}"`);
  return Number(match[1]) * { ms: 1, s: 1000, min: 60_000 }[match[2] as 'ms' | 's' | 'min'];
}

describe('Why latent: the step-cost figure', () => {
  it('times a latent and a pixel step and finds the pixel step slower', { timeout: 240_000 }, async () => {
    const { page, errors } = await openPage(browser, '/chapters/latent-diffusion/?ep=wasm');
    const figure = page.locator('latent-cost');
    // Before anything runs, shapes and FLOPs are already there (from the manifest at build time).
    const table = figure.getByRole('table');
    await expect(table.getByRole('row', { name: /^UNet input/ }).textContent()).resolves.toMatch(
      /\[2, 4, 8, 8\].*\[2, 3, 32, 32\]/,
    );
    await expect(table.getByRole('row', { name: /^FLOPs per step/ }).textContent()).resolves.toMatch(/MFLOP.*GFLOP/);

    await figure.getByLabel('Timed runs per model').selectOption('3');
    await figure.getByRole('button', { name: 'Measure both steps' }).click();
    await page.waitForFunction(
      () =>
        ['done', 'error', 'stopped'].includes((document.querySelector('latent-cost') as HTMLElement).dataset.state!),
      undefined,
      { timeout: 220_000 },
    );
    expect(await figure.getAttribute('data-state')).toBe('done');

    const cells = await table
      .getByRole('row', { name: /^time per step/ })
      .getByRole('cell')
      .allTextContents();
    const [latent, pixel] = cells.map(toMs);
    expect(latent).toBeGreaterThan(0);
    expect(pixel).toBeGreaterThan(latent);
    const sample = await table
      .getByRole('row', { name: /steps, UNet only/ })
      .getByRole('cell')
      .allTextContents();
    expect(sample.map(toMs)[1]).toBeGreaterThan(sample.map(toMs)[0]);

    await expect(figure.locator('.ratio').textContent()).resolves.toMatch(
      /pixel step took \d+\.\d× as long as a latent step; it has \d+\.\d× the FLOPs/,
    );
    expect(await figure.getByRole('img', { name: /^Median milliseconds per step/ }).count()).toBe(1);
    expect(await figure.locator('.status-line').textContent()).toMatch(/^3 timed runs per model .* · WebAssembly$/);
    expect(errors).toEqual([]);
    await page.close();
  });
});
