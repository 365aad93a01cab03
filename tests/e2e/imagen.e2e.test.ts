/** The Imagen chapter's figures, driven through their labelled controls (WebAssembly, plus one short WebGPU run). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { checkDownloadAndPlay, launchChromium, openPage, type Browser } from './browser';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

const PATH = '/chapters/imagen/';

async function waitSettled(page: Page, figure: Locator) {
  await page.waitForFunction(
    (el) => ['done', 'error', 'stopped'].includes((el as HTMLElement).dataset.state!),
    await figure.elementHandle(),
    { timeout: 240_000 },
  );
  return figure.getAttribute('data-state');
}

async function runAndWait(page: Page, figure: Locator, button: string) {
  await figure.getByRole('button', { name: button }).click();
  return waitSettled(page, figure);
}

async function pixels(canvas: Locator): Promise<number[]> {
  return canvas.evaluate((c: HTMLCanvasElement) => [...c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data]);
}
const differs = (a: number[], b: number[]) => a.some((v, i) => v !== b[i]);
const meanAbsDiff = (a: number[], b: number[]) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

describe('Imagen chapter on WebAssembly', () => {
  let page: Page;
  let errors: string[];
  beforeAll(async () => {
    ({ page, errors } = await openPage(browser, `${PATH}?ep=wasm`));
  });
  afterAll(async () => {
    expect(errors).toEqual([]);
    await page.close();
  });

  it('runs the cascade; the augmentation slider changes what the upsampler sees and returns; a seed repeats', async () => {
    const figure = page.locator('imagen-cascade');
    await figure.getByLabel('Steps', { exact: true }).fill('8');
    await figure.getByLabel('Seed', { exact: true }).fill('2');
    expect(await runAndWait(page, figure, 'Generate and upsample')).toBe('done');
    expect(await figure.locator('.status-line').textContent()).toMatch(
      /^stage 1: 8 steps in \d+\.\d\d s · stage 2: 7 × 8 steps in \d+\.\d\d s · WebAssembly$/,
    );
    const output = figure.getByRole('img', { name: /^super-resolved at level [\d.]+: .* against / });
    const augmented = figure.getByRole('img', { name: /^upsampler input at augmentation level / });
    expect(await output.getAttribute('aria-label')).toMatch(/^super-resolved at level 0\.10: \d+\.\d dB/);
    const first = await pixels(output);
    const firstInput = await pixels(augmented);
    const strip = await figure.evaluate((el) => (el as unknown as { result: { strip: number[][] } }).result.strip);
    expect(strip).toHaveLength(6);
    // Level 0 and level 0.8 of the same input and noise are different pictures.
    expect(meanAbsDiff(strip[0], strip[5])).toBeGreaterThan(0.05);

    // Keyboard: raise the level; only the upsampler reruns.
    const slider = figure.getByLabel('Augmentation level', { exact: true });
    await slider.focus();
    for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowRight');
    expect(await waitSettled(page, figure)).toBe('done');
    await expect.poll(() => figure.locator('.level-readout').textContent()).toBe('0.40');
    await page.waitForFunction(
      (el) =>
        (el as unknown as { result: { level: number } }).result.level === 0.4 &&
        (el as HTMLElement).dataset.state === 'done',
      await figure.elementHandle(),
      { timeout: 120_000 },
    );
    expect(await figure.locator('.level-note').textContent()).toMatch(
      /^level 0\.40: k = 400 of 1000, input = 0\.\d\d × image/,
    );
    expect(await figure.locator('.status-line').textContent()).toMatch(/^stage 2: 1 × 8 steps/);
    expect(differs(await pixels(augmented), firstInput)).toBe(true);
    expect(differs(await pixels(output), first)).toBe(true);

    // Back to 0.1 with Home + two steps: the same seed gives exactly the first picture again.
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(
      (el) =>
        (el as unknown as { result: { level: number } }).result.level === 0.1 &&
        (el as HTMLElement).dataset.state === 'done',
      await figure.elementHandle(),
      { timeout: 120_000 },
    );
    expect(differs(await pixels(output), first)).toBe(false);
    await checkDownloadAndPlay(page, figure);
  });

  it('upsamples a real emoji and measures PSNR against the real 32 px picture', async () => {
    const figure = page.locator('imagen-cascade');
    await figure.getByLabel('Start from').selectOption({ label: 'real emoji: rocket (Twemoji)' });
    expect(await figure.getByLabel('Prompt', { exact: true }).inputValue()).toBe('rocket');
    expect(await runAndWait(page, figure, 'Generate and upsample')).toBe('done');
    expect(await figure.locator('.status-line').textContent()).toMatch(/^stage 2: 7 × 8 steps/);
    expect(await figure.locator('.reference-name').textContent()).toBe('the real 32 px picture');
    const psnr = await figure.locator('.strip .psnr').allTextContents();
    expect(psnr).toHaveLength(6);
    const values = psnr.map((t) => Number.parseFloat(t));
    // A real input needs no augmentation: level 0 is closer to the truth than level 0.8.
    expect(values[0]).toBeGreaterThan(values[5]);
    const note = figure.locator('.psnr-note');
    const db = (text: string | null, what: RegExp) => Number.parseFloat(what.exec(text ?? '')![1]);
    const plain = await note.textContent();
    expect(plain).toMatch(
      /^super-resolved at level 0\.10: \d+\.\d dB against the real 32 px picture · bicubic from the same 16 px: \d+\.\d dB$/,
    );

    // The projection reruns only the upsampler; every output's 2x2 means are then the 16 px input.
    const output = figure.locator('[data-panel="output"]');
    const before = await pixels(output);
    await figure.getByLabel(/Keep the 16 px input/).check();
    expect(await waitSettled(page, figure)).toBe('done');
    await expect.poll(() => note.textContent()).toMatch(/2 × 2 means kept/);
    expect(await figure.locator('.status-line').textContent()).toMatch(/^stage 2: 1 × 8 steps/);
    expect(differs(await pixels(output), before)).toBe(true);
    const low = await pixels(figure.locator('[data-panel="low"]'));
    // Mean |2x2 mean of the output - input pixel| in 8-bit levels: what the projection drives to zero
    // (up to rounding, and the final clamp where a block overshoots white).
    const mismatch = (out: number[]) => {
      let sum = 0;
      for (let y = 0; y < 16; y++) {
        for (let x = 0; x < 16; x++) {
          for (let c = 0; c < 3; c++) {
            const at = (yy: number, xx: number) => out[(yy * 32 + xx) * 4 + c];
            const mean =
              (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4;
            sum += Math.abs(mean - low[(y * 16 + x) * 4 + c]);
          }
        }
      }
      return sum / (16 * 16 * 3);
    };
    const after = await pixels(output);
    expect(mismatch(after)).toBeLessThan(1);
    expect(mismatch(after)).toBeLessThan(mismatch(before) / 3);
    const projected = await note.textContent();
    const bicubic = db(projected, /bicubic from the same 16 px: (\d+\.\d) dB/);
    expect(bicubic).toBe(db(plain, /bicubic from the same 16 px: (\d+\.\d) dB/));
    expect(db(projected, /kept: (\d+\.\d) dB/)).toBeGreaterThan(db(plain, /0\.10: (\d+\.\d) dB/));
    await figure.getByLabel(/Keep the 16 px input/).uncheck();
    expect(await waitSettled(page, figure)).toBe('done');
  });

  it('samples no thresholding, static clipping and dynamic thresholding at high guidance; they differ and repeat', async () => {
    const figure = page.locator('imagen-thresholding');
    await figure.getByLabel('Steps', { exact: true }).fill('10');
    expect(await figure.getByLabel('Guidance scale').inputValue()).toBe('15');
    expect(await runAndWait(page, figure, 'Sample all three')).toBe('done');
    expect(await figure.locator('.status-line').textContent()).toMatch(
      /^3 images × 10 steps at w = 15 in \d+\.\d\d s \(batch of 6, median \d+ ms per step\) · WebAssembly$/,
    );
    const canvas = (i: number) => figure.locator(`canvas[data-variant="${i}"]`);
    const [none, clipped, dynamic] = [await pixels(canvas(0)), await pixels(canvas(1)), await pixels(canvas(2))];
    expect(differs(none, clipped)).toBe(true);
    expect(differs(clipped, dynamic)).toBe(true);
    expect(await canvas(0).getAttribute('aria-label')).toMatch(
      /^No thresholding at guidance 15: \d+% of values at ±1$/,
    );
    const chart = figure.locator('.chart');
    expect(await chart.locator('svg').count()).toBeGreaterThan(0);
    expect(await chart.getAttribute('aria-label')).toMatch(/percentile of \|x̂₀\| per step/);
    const saturated = await figure.evaluate(
      (el) => (el as unknown as { result: { saturated: number[] } }).result.saturated,
    );
    // Unclipped high guidance saturates more of the picture than dynamic thresholding does.
    expect(saturated[0]).toBeGreaterThan(saturated[2]);

    // The percentile slider (keyboard) reruns; dynamic thresholding changes, the other two do not.
    const slider = figure.getByLabel('Percentile p');
    await slider.focus();
    await page.keyboard.press('Home');
    expect(await figure.locator('.percentile-readout').textContent()).toBe('80.0%');
    await expect.poll(async () => differs(await pixels(canvas(2)), dynamic), { timeout: 120_000 }).toBe(true);
    expect(await waitSettled(page, figure)).toBe('done');
    expect(differs(await pixels(canvas(0)), none)).toBe(false);
    expect(differs(await pixels(canvas(1)), clipped)).toBe(false);

    // Same seed and settings: exactly the same pictures.
    const before = await pixels(canvas(2));
    expect(await runAndWait(page, figure, 'Sample all three')).toBe('done');
    expect(differs(await pixels(canvas(2)), before)).toBe(false);
    await checkDownloadAndPlay(page, figure);
  });

  it('quotes our text encoder beside T5-XXL and CLIP', async () => {
    const table = page.getByRole('table').filter({ hasText: 'T5-XXL encoder' });
    expect(await table.getByRole('row').count()).toBe(4);
    expect(await table.getByRole('row', { name: /our tiny CLIP/ }).textContent()).toMatch(/\d+K/);
  });
});

describe('Imagen chapter on WebGPU', () => {
  it('samples the three thresholding modes in a 2-step run on WebGPU and says so', async () => {
    const { page, errors } = await openPage(browser, `${PATH}?ep=webgpu`);
    const figure = page.locator('imagen-thresholding');
    await figure.getByLabel('Steps', { exact: true }).fill('2');
    expect(await runAndWait(page, figure, 'Sample all three')).toBe('done');
    expect(await figure.locator('.model-status').getAttribute('data-provider')).toBe('webgpu');
    expect(await figure.locator('.status-line').textContent()).toMatch(/^3 images × 2 steps .* · WebGPU$/);
    const canvas = (i: number) => pixels(figure.locator(`canvas[data-variant="${i}"]`));
    expect(differs(await canvas(0), await canvas(1))).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);
});
