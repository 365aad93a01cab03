/** The SDXL chapter's micro-conditioning figure, operated by its labels (WebAssembly, then a short WebGPU run). */
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

async function waitSettled(page: Page) {
  await page.waitForFunction(
    () =>
      ['done', 'error', 'stopped'].includes(
        (document.querySelector('micro-conditioning') as HTMLElement).dataset.state!,
      ),
    undefined,
    { timeout: 300_000 },
  );
  return page.locator('micro-conditioning').getAttribute('data-state');
}

async function pixels(canvas: Locator): Promise<number[]> {
  return canvas.evaluate((c: HTMLCanvasElement) => [...c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data]);
}
const meanAbsDiff = (a: number[], b: number[]) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;
const detail = async (figure: Locator, attr: string) =>
  Number((await figure.locator(`.detail[${attr}]`).textContent())!.replace('detail ', ''));

describe('SDXL chapter on WebAssembly', () => {
  let page: Page;
  let errors: string[];
  beforeAll(async () => {
    ({ page, errors } = await openPage(browser, '/chapters/sdxl/?ep=wasm'));
  });
  afterAll(async () => {
    expect(errors).toEqual([]);
    await page.close();
  });

  it('original size 8 and 32 give different pictures with different detail, from the time_ids shown', async () => {
    const figure = page.locator('micro-conditioning');
    await figure.getByLabel('Steps', { exact: true }).fill('12');
    await figure.getByRole('button', { name: 'Generate both rows' }).click();
    expect(await waitSettled(page)).toBe('done');

    const small = figure.getByRole('img', { name: /^Generated with original size 8 by 8/ });
    const full = figure.getByRole('img', { name: /^Generated with original size 32 by 32/ });
    expect(meanAbsDiff(await pixels(small), await pixels(full))).toBeGreaterThan(0.5);
    const [d8, d32] = [await detail(figure, 'data-original-size="8"'), await detail(figure, 'data-original-size="32"')];
    expect(d8).toBeGreaterThan(0);
    // The trained model's point (manifest: several times the detail at 32 than at 8 over 64 prompts).
    expect(d32).toBeGreaterThan(d8);

    // The feed as printed: one row per image, original size first, target size last.
    const sizeIds = await figure.locator('pre.time-ids[data-sweep="size"]').textContent();
    expect(sizeIds).toMatch(/\[\s*8,\s*8,\s*0,\s*0,\s*32,\s*32\]/);
    expect(sizeIds).toMatch(/\[10, 6\]/);
    const cropIds = await figure.locator('pre.time-ids[data-sweep="crop"]').textContent();
    expect(cropIds).toMatch(/\[32,\s*32,\s*0,\s*8,\s*32,\s*32\]/);

    // Crop (0, 0) has exactly the conditions of original size 32: the same picture.
    const uncropped = figure.getByRole('img', { name: /^Generated with crop top-left \(0, 0\)/ });
    expect(await pixels(uncropped)).toEqual(await pixels(full));
    const shifted = figure.getByRole('img', { name: /^Generated with crop top-left \(8, 8\)/ });
    expect(meanAbsDiff(await pixels(shifted), await pixels(uncropped))).toBeGreaterThan(0.5);
    // The sliders rest at (32, 0, 0), the conditions of crop (0, 0): the single image is that picture.
    const own = figure.getByRole('img', { name: /^Your conditions: original size 32 by 32, crop top-left \(0, 0\)/ });
    expect(await pixels(own)).toEqual(await pixels(uncropped));

    expect(await figure.getByRole('img', { name: /^Detail against original size/ }).count()).toBe(1);
    expect(await figure.locator('.status-line').textContent()).toMatch(
      /^5 sizes in \d+\.\d\d s, 4 crops in \d+\.\d\d s \(12 steps, guidance [\d.]+\) · WebAssembly$/,
    );
    await checkDownloadAndPlay(page, figure);
  });

  it("renders one image for the sliders' conditions: original size 32 to 8 loses detail", async () => {
    const figure = page.locator('micro-conditioning');
    // The prompt stays the one the rows were generated with (the figure's default), so the row can be compared.
    await figure.getByLabel('Steps', { exact: true }).fill('12');
    const size = figure.getByLabel('Original size', { exact: true });
    expect(await size.inputValue()).toBe('32');
    const rendered = async (name: RegExp) => {
      const canvas = figure.getByRole('img', { name });
      await canvas.waitFor({ timeout: 240_000 });
      const part = figure.getByRole('region', { name: /^Your own conditions/ });
      // The canvas may carry these conditions already (a rows run paints them too): wait for this render.
      await expect.poll(() => part.getAttribute('data-state'), { timeout: 240_000 }).toBe('done');
      return {
        pixels: await pixels(canvas),
        detail: Number((await figure.locator('.detail[data-custom]').textContent())!.replace('detail ', '')),
      };
    };
    // Down and back up within the debounce: one render, at 32.
    await size.focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowRight');
    const full = await rendered(/^Your conditions: original size 32 by 32, crop top-left \(0, 0\)/);
    // Batched with four others or alone, the same conditions give (all but) the same picture as the row's.
    const row = figure.getByRole('img', { name: /^Generated with original size 32 by 32/ });
    expect(meanAbsDiff(full.pixels, await pixels(row))).toBeLessThan(1);

    await page.keyboard.press('Home');
    expect(await figure.locator('output[for$="-originalSize"]').textContent()).toBe('8');
    expect(await figure.locator('pre.time-ids[data-sweep="custom"]').textContent()).toMatch(
      /\[\[\s*8,\s*8,\s*0,\s*0,\s*32,\s*32\]\]/,
    );
    const small = await rendered(/^Your conditions: original size 8 by 8/);
    expect(meanAbsDiff(small.pixels, full.pixels)).toBeGreaterThan(0.5);
    expect(small.detail).toBeGreaterThan(0);
    expect(small.detail).toBeLessThan(full.detail);
    expect(await figure.locator('.status-line').textContent()).toMatch(
      /^1 image \(original size 8, crop \(0, 0\)\) in/,
    );
  });

  it('a new prompt repaints your own conditions with "Generate both rows", as a fresh render of them would', async () => {
    const figure = page.locator('micro-conditioning');
    const part = figure.getByRole('region', { name: /^Your own conditions/ });
    const own = part.getByRole('img');
    const settle = async (state: () => Promise<string | null>) => {
      await expect.poll(state, { timeout: 240_000 }).toMatch(/^(done|error|stopped)$/);
      expect(await state()).toBe('done');
    };
    await figure.getByLabel('Prompt', { exact: true }).fill('grinning face');
    await figure.getByLabel('Steps', { exact: true }).fill('6');
    // Conditions in neither row (original size 16 with a crop): the rows run renders them on their own.
    await figure.getByLabel('Original size', { exact: true }).focus();
    await page.keyboard.press('Home');
    for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowRight');
    await figure.getByLabel('Crop top', { exact: true }).focus();
    await page.keyboard.press('ArrowRight');
    await settle(() => part.getAttribute('data-state'));
    const conditions = /^Your conditions: original size 16 by 16, crop top-left \(1, 0\)/;
    expect(await own.getAttribute('aria-label')).toMatch(conditions);
    const before = await pixels(own);

    await figure.getByLabel('Prompt', { exact: true }).fill('red heart');
    await figure.getByRole('button', { name: 'Generate both rows' }).click();
    await settle(() => figure.getAttribute('data-state'));
    expect(await part.getAttribute('data-state')).toBe('done');
    expect(await own.getAttribute('aria-label')).toMatch(conditions);
    const repainted = await pixels(own);
    expect(meanAbsDiff(repainted, before)).toBeGreaterThan(0.5);
    expect(await figure.locator('.status-line').textContent()).toMatch(/, your conditions in \d+\.\d\d s \(6 steps/);

    // Down and back up within the debounce: the same conditions rendered on their own, from the new prompt.
    await figure.getByLabel('Crop top', { exact: true }).focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowRight');
    await settle(() => part.getAttribute('data-state'));
    expect(await figure.locator('.status-line').textContent()).toMatch(/^1 image \(original size 16, crop \(1, 0\)\)/);
    expect(await pixels(own)).toEqual(repainted);
  });

  it('says which words of the prompt the text encoder cannot read', async () => {
    const figure = page.locator('micro-conditioning');
    await figure.getByLabel('Prompt', { exact: true }).fill('grinning face qwzx');
    await figure.getByLabel('Steps', { exact: true }).fill('1');
    await figure.getByRole('button', { name: 'Generate both rows' }).click();
    expect(await waitSettled(page)).toBe('done');
    await expect(figure.getByRole('status').filter({ hasText: 'vocabulary' }).textContent()).resolves.toContain(
      '“qwzx”',
    );
  });
});

describe('SDXL chapter on WebGPU (SwiftShader here: two steps, then Stop)', () => {
  it('draws the size row on WebGPU, and Stop ends the run cleanly', { timeout: 300_000 }, async () => {
    const { page, errors } = await openPage(browser, '/chapters/sdxl/?ep=webgpu');
    const figure = page.locator('micro-conditioning');
    await figure.getByLabel('Steps', { exact: true }).fill('2');
    await figure.getByRole('button', { name: 'Generate both rows' }).click();
    // The size row is drawn once its batched run ends; stop during the crop row.
    await page.waitForFunction(
      () => /^Crops: step/.test(document.querySelector('micro-conditioning .status-line')!.textContent!),
      undefined,
      {
        timeout: 280_000,
      },
    );
    await figure.getByRole('button', { name: 'Stop' }).click();
    expect(await waitSettled(page)).toBe('stopped');
    expect(await figure.locator('.status-line').textContent()).toBe('Stopped.');
    expect(await page.locator('micro-conditioning').getAttribute('data-state')).toBe('stopped');
    expect(await figure.locator('.model-status').getAttribute('data-provider')).toBe('webgpu');
    const drawn = await figure.getByRole('img', { name: /^Generated with original size/ }).count();
    expect(drawn).toBe(5);
    expect(await detail(figure, 'data-original-size="8"')).toBeGreaterThan(0);
    expect(await figure.getByRole('button', { name: 'Generate both rows' }).isEnabled()).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});
