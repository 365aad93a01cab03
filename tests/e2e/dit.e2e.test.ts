/**
 * The DiT chapter's figures, driven by their labels: patchify (VAE encoder), the adaLN-Zero gates,
 * class-conditional sampling with attention maps, and the UNet-vs-DiT step timing, on WebAssembly;
 * plus one two-step sample on WebGPU (SwiftShader here, about 100x slower, so kept short).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { checkDownloadAndPlay, launchChromium, openPage, settled, type Browser } from './browser';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** The pixels of a canvas, to compare two drawings exactly. */
const pixels = (canvas: Locator) => canvas.evaluate((c: HTMLCanvasElement) => c.toDataURL());

/** A canvas's RGBA bytes. */
const rgba = (canvas: Locator): Promise<number[]> =>
  canvas.evaluate((c: HTMLCanvasElement) => [...c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data]);

/** Mean absolute difference of two pictures' RGB bytes (0 to 255). */
function meanDifference(a: number[], b: number[]): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    sum += Math.abs(a[i] - b[i]);
    n++;
  }
  return sum / n;
}

/** The last sample's values, rounded to nothing: a repeat with the same seed must match exactly. */
const sampleData = (page: Page) =>
  page.evaluate(() => Array.from((document.querySelector('dit-sampler') as any).result.image.data as Float32Array));

describe('DiT chapter on WebAssembly', () => {
  let page: Page;
  let errors: string[];
  beforeAll(async () => {
    ({ page, errors } = await openPage(browser, '/chapters/dit/?ep=wasm'));
  });
  afterAll(async () => {
    await page?.close();
  });

  it('patchify: the patch size sets the token count, and the VAE latent is drawn', { timeout: 120_000 }, async () => {
    const figure = page.locator('dit-patchify');
    await expect(figure.locator('.tokens').textContent()).resolves.toMatch(/= 16 tokens/);
    await figure.getByRole('radio', { name: '4 × 4' }).check();
    await expect(figure.locator('.tokens').textContent()).resolves.toMatch(/= 4 tokens, each 4 × 4 × 4 = 64 numbers/);
    await figure.getByRole('radio', { name: '8 × 8' }).check();
    await expect(figure.locator('.tokens').textContent()).resolves.toMatch(/= 1 token,/);
    const embed = figure.getByRole('img', { name: /^Sine-cosine position embedding: 1 token by \d+ dimensions/ });
    expect(await embed.count()).toBe(1);
    await figure.getByRole('button', { name: 'Encode the picture' }).click();
    expect(await settled(page, 'dit-patchify')).toBe('done');
    expect(await figure.getByRole('img', { name: /^Latent channel \d of the encoded picture/ }).count()).toBe(4);
    expect(await figure.locator('.status-line').textContent()).toMatch(/^encoded in [\d.]+ ms · WebAssembly$/);
    await checkDownloadAndPlay(page, figure);
  });

  it('gates: one bar pair per block, and they move with the timestep', { timeout: 120_000 }, async () => {
    const figure = page.locator('dit-gates');
    await figure.getByRole('button', { name: 'Read the gates' }).click();
    expect(await settled(page, 'dit-gates')).toBe('done');
    const chart = figure.getByRole('img', { name: /^Mean gate magnitude per block at t = 500/ });
    const before = await chart.getAttribute('aria-label');
    await figure.getByLabel('Timestep t').fill('50');
    await page.waitForFunction(() =>
      /at t = 50,/.test(document.querySelector('dit-gates .chart')!.getAttribute('aria-label')!),
    );
    expect(await settled(page, 'dit-gates')).toBe('done');
    const after = await figure.locator('.chart').getAttribute('aria-label');
    expect(after!.split(':')[1]).not.toBe(before!.split(':')[1]);
  });

  it(
    'sampling: a seed repeats exactly, another seed or category changes the sample',
    { timeout: 200_000 },
    async () => {
      const figure = page.locator('dit-sampler');
      await figure.getByLabel('Steps', { exact: true }).fill('6');
      await figure.getByLabel('Seed', { exact: true }).fill('3');
      const run = async () => {
        await figure.getByRole('button', { name: 'Sample' }).click();
        expect(await settled(page, 'dit-sampler')).toBe('done');
        return sampleData(page);
      };
      const first = await run();
      expect(first.every(Number.isFinite)).toBe(true);
      expect(await run()).toEqual(first);
      await figure.getByLabel('Seed', { exact: true }).fill('4');
      const otherSeed = await run();
      expect(otherSeed).not.toEqual(first);
      await figure.getByLabel('Seed', { exact: true }).fill('3');
      const category = figure.getByRole('combobox', { name: 'Category' });
      await category.selectOption({
        index: (await category.evaluate((s: HTMLSelectElement) => s.selectedIndex)) === 0 ? 1 : 0,
      });
      const otherCategory = await run();
      expect(otherCategory).not.toEqual(first);
      expect(await figure.getByRole('img', { name: /^Generated emoji of the category .*, seed 3$/ }).count()).toBe(1);
      expect(await figure.locator('.status-line').textContent()).toMatch(/^6 steps in [\d.]+ s .* · WebAssembly$/);
    },
  );

  it('attention: picking another token (click or arrow key) changes the map', { timeout: 60_000 }, async () => {
    const figure = page.locator('dit-sampler');
    const head = figure.getByRole('img', { name: /^Head 1, block \d+: token 6 attends/ });
    expect(await head.count()).toBe(1);
    const before = await pixels(figure.locator('canvas[data-head="0"]'));
    const tokens = figure.getByRole('radiogroup', { name: 'Query token' });
    await tokens.getByRole('radio', { name: /^Token 6:/ }).focus();
    await page.keyboard.press('ArrowDown');
    expect(await tokens.getByRole('radio', { name: /^Token 10:/ }).getAttribute('aria-checked')).toBe('true');
    expect(await figure.getByRole('img', { name: /^Head 1, block \d+: token 10 attends/ }).count()).toBe(1);
    await tokens.getByRole('radio', { name: /^Token 1:/ }).click();
    const after = await pixels(figure.locator('canvas[data-head="0"]'));
    expect(after).not.toBe(before);
    await figure.getByRole('combobox', { name: 'Block' }).selectOption({ label: '2' });
    expect(await figure.getByRole('img', { name: /^Head 1, block 2: token 1 attends/ }).count()).toBe(1);
  });

  it(
    'x0: the step scrubber and Play move the predicted clean picture, which ends at the sample',
    { timeout: 120_000 },
    async () => {
      const figure = page.locator('dit-sampler');
      await figure.getByLabel('Steps', { exact: true }).fill('25');
      await figure.getByRole('button', { name: 'Sample' }).click();
      expect(await settled(page, 'dit-sampler')).toBe('done');
      const x0 = figure.getByRole('img', { name: /^Predicted clean picture x̂₀ at step/ });
      const shows = (step: number) =>
        expect.poll(() => x0.getAttribute('aria-label')).toMatch(new RegExp(`at step ${step} of 25, t = \\d+$`));
      const sample = await rgba(figure.getByRole('img', { name: /^Generated emoji/ }));
      // The scrubber rests at the last step (t = 1), where the sample is sqrt(alpha-bar_0) x0 plus 0.03 of
      // the predicted noise: under a level of 255 apart on average (0.2-0.3 measured over seeds).
      await shows(25);
      const last = await rgba(x0);
      expect(meanDifference(last, sample)).toBeLessThan(2);
      // At the first step (t = 961) the guess is a blur far from the sample (25-49 levels measured).
      await figure.getByLabel('Denoising step').fill('0');
      await shows(1);
      const first = await rgba(x0);
      expect(meanDifference(first, sample)).toBeGreaterThan(12);
      await figure.getByLabel('Denoising step').fill('12');
      await shows(13);
      expect(await rgba(x0)).not.toEqual(first);
      // Play sweeps the steps and stops at the last, so x0 is the sample again.
      await checkDownloadAndPlay(page, figure);
      await shows(25);
      expect(await rgba(x0)).toEqual(last);
    },
  );

  it('times a UNet step and a DiT step', { timeout: 200_000 }, async () => {
    const figure = page.locator('dit-cost');
    await figure.getByLabel('Timed runs per model').selectOption('3');
    await figure.getByRole('button', { name: 'Time both steps' }).click();
    expect(await settled(page, 'dit-cost')).toBe('done');
    const cells = await figure
      .getByRole('row', { name: /^time per step/ })
      .getByRole('cell')
      .allTextContents();
    expect(cells).toHaveLength(2);
    for (const cell of cells) expect(cell).toMatch(/^[\d.]+ (ms|s)$/);
    expect(await figure.locator('.status-line').textContent()).toMatch(/UNet step .* DiT step .* · WebAssembly$/);
    expect(errors).toEqual([]);
  });
});

describe('DiT chapter on WebGPU (SwiftShader here: two steps)', () => {
  it('samples on WebGPU', { timeout: 300_000 }, async () => {
    const { page, errors } = await openPage(browser, '/chapters/dit/?ep=webgpu');
    const figure = page.locator('dit-sampler');
    await figure.getByLabel('Steps', { exact: true }).fill('2');
    await figure.getByRole('button', { name: 'Sample' }).click();
    expect(await settled(page, 'dit-sampler', 280_000)).toBe('done');
    expect(await figure.locator('.model-status').getAttribute('data-provider')).toBe('webgpu');
    expect(await figure.locator('.status-line').textContent()).toMatch(/^2 steps in .* · WebGPU$/);
    expect((await sampleData(page)).every(Number.isFinite)).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});
