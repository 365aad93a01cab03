/** The Stable Diffusion chapter's figures, driven through their labelled controls (WebAssembly, plus one WebGPU run). */
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

const PATH = '/chapters/stable-diffusion/';

async function runAndWait(page: Page, figure: Locator, button: string) {
  await figure.getByRole('button', { name: button }).click();
  await page.waitForFunction(
    (el) => ['done', 'error', 'stopped'].includes((el as HTMLElement).dataset.state!),
    await figure.elementHandle(),
    { timeout: 240_000 },
  );
  return figure.getAttribute('data-state');
}

async function pixels(canvas: Locator): Promise<number[]> {
  return canvas.evaluate((c: HTMLCanvasElement) => [...c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data]);
}
const differs = (a: number[], b: number[]) => a.some((v, i) => v !== b[i]);

/** Where a canvas's pixels lie on the lightness range, 0 to 1: the 2nd and 98th percentiles of their luma. */
function lumaRange(rgba: number[]): { low: number; high: number } {
  const luma: number[] = [];
  for (let i = 0; i < rgba.length; i += 4) luma.push(0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2]);
  luma.sort((a, b) => a - b);
  const at = (q: number) => luma[Math.floor(q * (luma.length - 1))] / 255;
  return { low: at(0.02), high: at(0.98) };
}

/** Readable at a glance: a map covers most of the lightness range and reaches its dark end (no washed-out overlay). */
function expectFullContrast(rgba: number[]) {
  const { low, high } = lumaRange(rgba);
  expect(high - low).toBeGreaterThan(0.5);
  expect(low).toBeLessThan(0.25);
}

describe('Stable Diffusion chapter on WebAssembly', () => {
  let page: Page;
  let errors: string[];
  beforeAll(async () => {
    ({ page, errors } = await openPage(browser, `${PATH}?ep=wasm`));
  });
  afterAll(async () => {
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows the tokens the encoder sees, with unknown and cut-off words marked', async () => {
    const figure = page.locator('text-to-image-figure');
    const prompt = figure.getByLabel('Prompt', { exact: true });
    await prompt.fill('red heart blorptastic');
    const tokens = figure.getByRole('list', { name: 'The 16 tokens the text encoder sees' }).getByRole('listitem');
    await expect.poll(() => tokens.count(), { timeout: 30_000 }).toBe(16);
    const unknown = figure.locator('.token[data-kind="unknown"]');
    expect(await unknown.count()).toBe(1);
    expect(await unknown.textContent()).toContain('blorptastic');
    expect(await figure.locator('.token-note').textContent()).toMatch(/“blorptastic” is not in the vocabulary/);

    await prompt.fill(Array.from({ length: 16 }, () => 'heart').join(' '));
    const cut = figure.getByRole('list', { name: 'Words cut off beyond the context' }).getByRole('listitem');
    await expect.poll(() => cut.count()).toBe(2);
    expect(await figure.locator('.token[data-kind="pad"]').count()).toBe(0);

    // The examples are measured prompts (manifest prompt_report); one fills the box and retokenises it.
    const example = figure.locator('button.example').first();
    const words = (await example.textContent())!.trim();
    await example.click();
    expect(await prompt.inputValue()).toBe(words);
    expect(await figure.locator('.token[data-kind="word"]').count()).toBe(words.split(/\s+/).length);
  });

  it('generates, repeats exactly with the same seed, changes with another, and the scrubber replays the run', async () => {
    const figure = page.locator('text-to-image-figure');
    await figure.getByLabel('Steps', { exact: true }).fill('6');
    await figure.getByLabel('Seed', { exact: true }).fill('3');
    expect(await runAndWait(page, figure, 'Generate')).toBe('done');
    expect(await figure.locator('.status-line').textContent()).toMatch(
      /6 steps in \d+\.\d\d s .* 12 latents decoded in \d+\.\d\d s · WebAssembly/,
    );
    const final = figure.getByRole('img', { name: /Generated image/ });
    const first = await pixels(final);

    const step = figure.getByLabel('Step', { exact: true });
    expect(await step.getAttribute('max')).toBe('5');
    const x0 = figure.locator('[data-panel="x0"]');
    const late = await pixels(x0);
    const lateLatent = await pixels(figure.locator('[data-channel="0"]'));
    await step.focus();
    await page.keyboard.press('Home');
    expect(await figure.locator('.step-readout').textContent()).toMatch(/^1 of 6, t = \d+/);
    expect(differs(await pixels(x0), late)).toBe(true);
    expect(differs(await pixels(figure.locator('[data-channel="0"]')), lateLatent)).toBe(true);
    await page.keyboard.press('ArrowRight');
    expect(await figure.locator('.step-readout').textContent()).toMatch(/^2 of 6/);

    expect(await runAndWait(page, figure, 'Generate')).toBe('done');
    expect(differs(await pixels(final), first)).toBe(false);

    await figure.getByLabel('Seed', { exact: true }).fill('4');
    expect(await runAndWait(page, figure, 'Generate')).toBe('done');
    expect(differs(await pixels(final), first)).toBe(true);
    expect(await figure.locator('.call code').textContent()).toContain('generator=torch.manual_seed(4)');
    await checkDownloadAndPlay(page, figure);
  });

  it('renders seven guidance scales in one run; w = 0 and w = 7.5 differ; the noise panel follows the step', async () => {
    const figure = page.locator('cfg-sweep');
    await figure.getByLabel('Steps', { exact: true }).fill('5');
    expect(await runAndWait(page, figure, 'Render all seven')).toBe('done');
    expect(await figure.locator('.status-line').textContent()).toMatch(/7 images × 5 steps in \d+\.\d\d s/);
    const image = (i: number) => pixels(figure.locator(`canvas[data-variant="${i}"]`));
    expect(differs(await image(0), await image(5))).toBe(true);

    await figure.getByRole('radio', { name: 'guidance scale 0', exact: true }).check();
    expect(await figure.locator('.step-readout').textContent()).toMatch(/w = 0$/);
    const difference = figure.locator('[data-part="difference"] canvas').first();
    const before = await pixels(difference);
    await figure.getByLabel('Step', { exact: true }).fill('0');
    expect(differs(await pixels(difference), before)).toBe(true);
    // At w = 0 the guided prediction is the unconditional one.
    const stats = (part: string) => figure.locator(`[data-part="${part}"] .part-stats`).textContent();
    expect(await stats('guided')).toBe(await stats('uncond'));

    const unrescaled = await image(6);
    await figure.getByRole('radio', { name: '0.7' }).check();
    expect(await runAndWait(page, figure, 'Render all seven')).toBe('done');
    expect(differs(await image(6), unrescaled)).toBe(true);
    await checkDownloadAndPlay(page, figure);
  });

  it('maps cross-attention per token and per layer over the image', async () => {
    const figure = page.locator('cross-attention-maps');
    await figure.getByLabel('Prompt', { exact: true }).fill('red heart');
    expect(await runAndWait(page, figure, 'Generate and trace')).toBe('done');
    const tokens = figure.getByRole('group', { name: /Token/ }).getByRole('radio');
    // BOS, red, heart, EOS, and the 12 padding positions as one choice
    expect(await tokens.count()).toBe(5);
    const overlay = figure.locator('[data-view="overlay"]');
    expect(await overlay.getAttribute('aria-label')).toMatch(/^attention to “red”, all layers/);
    // The label states the colour scale: the map's own least and most, in percent of each position's attention.
    expect(await overlay.getAttribute('aria-label')).toMatch(
      /from black \(\d+\.\d%, its least\) to pale yellow \(\d+\.\d%/,
    );
    const red = await pixels(overlay);
    // However narrow the map's values (a few percent), its colours span the scale.
    expectFullContrast(red);
    await figure.getByRole('radio', { name: /^heart/ }).check();
    expect(await overlay.getAttribute('aria-label')).toMatch(/^attention to “heart”/);
    expect(differs(await pixels(overlay), red)).toBe(true);
    const heart = await pixels(overlay);
    expectFullContrast(heart);
    await figure.getByLabel('Layers', { exact: true }).selectOption({ index: 1 });
    expect(await overlay.getAttribute('aria-label')).toMatch(/^attention to “heart”, down_blocks\.0/);
    expect(differs(await pixels(overlay), heart)).toBe(true);
    const shares = await figure.evaluate((el) => (el as unknown as { result: { shares: number[] } }).result.shares);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    await checkDownloadAndPlay(page, figure);
  });

  it('draws both UNets from their configs', async () => {
    const diagrams = page.getByRole('img', { name: /^Block diagram of/ });
    expect(await diagrams.count()).toBe(2);
    expect(await diagrams.first().getAttribute('aria-label')).toMatch(/CrossAttnDownBlock2D/);
    expect(await diagrams.nth(1).getAttribute('aria-label')).toMatch(/DownBlock2D, down_blocks\.3/);
  });

  it('fits both UNet diagrams in their boxes at 1280 and 375 px, every label whole and readable', async () => {
    const diagrams = page.getByRole('img', { name: /^Block diagram of/ });
    for (const width of [1280, 375]) {
      await page.setViewportSize({ width, height: 900 });
      for (const svg of await diagrams.all()) {
        const fit = await svg.evaluate((el) => {
          const inside = (a: DOMRect, b: DOMRect) =>
            a.left >= b.left - 0.5 && a.right <= b.right + 0.5 && a.top >= b.top - 0.5 && a.bottom <= b.bottom + 0.5;
          const drawing = el.getBoundingClientRect();
          const box = el.closest('figure')!.getBoundingClientRect();
          const texts = [...el.querySelectorAll('text')];
          const outside = texts.filter((t) => !inside(t.getBoundingClientRect(), drawing)).map((t) => t.textContent);
          // A block's lines stay inside the block's own box too.
          const spilling = texts
            .filter(
              (t) =>
                t.closest('.block') &&
                !inside(t.getBoundingClientRect(), t.closest('.block')!.querySelector('rect')!.getBoundingClientRect()),
            )
            .map((t) => t.textContent);
          const scale = drawing.width / (el as unknown as SVGSVGElement).viewBox.baseVal.width;
          return {
            overflow: drawing.right - box.right,
            left: drawing.left - box.left,
            outside,
            spilling,
            textPx: 10 * scale,
          };
        });
        expect(fit.overflow, `at ${width} px`).toBeLessThanOrEqual(0.5);
        expect(fit.left, `at ${width} px`).toBeGreaterThanOrEqual(-0.5);
        expect(fit.outside, `at ${width} px`).toEqual([]);
        expect(fit.spilling, `at ${width} px`).toEqual([]);
        // Scaled to fit, the block text stays at a readable size.
        expect(fit.textPx, `at ${width} px`).toBeGreaterThanOrEqual(9);
      }
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});

describe('Stable Diffusion chapter on WebGPU', () => {
  it('generates a short run on WebGPU and says so', async () => {
    const { page, errors } = await openPage(browser, `${PATH}?ep=webgpu`);
    const figure = page.locator('text-to-image-figure');
    await figure.getByLabel('Steps', { exact: true }).fill('2');
    expect(await runAndWait(page, figure, 'Generate')).toBe('done');
    expect(await figure.locator('.status-line').textContent()).toMatch(/2 steps in .* · WebGPU$/);
    const final = await pixels(figure.getByRole('img', { name: /Generated image/ }));
    expect(new Set(final).size).toBeGreaterThan(2);
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);

  it('renders the guidance sweep on WebGPU: w = 0 and w = 7.5 differ', async () => {
    const { page, errors } = await openPage(browser, `${PATH}?ep=webgpu`);
    const figure = page.locator('cfg-sweep');
    await figure.getByLabel('Steps', { exact: true }).fill('2');
    expect(await runAndWait(page, figure, 'Render all seven')).toBe('done');
    expect(await figure.locator('.model-status').getAttribute('data-provider')).toBe('webgpu');
    expect(await figure.locator('.status-line').textContent()).toMatch(/^7 images × 2 steps in .* · WebGPU$/);
    const image = (i: number) => pixels(figure.locator(`canvas[data-variant="${i}"]`));
    expect(differs(await image(0), await image(5))).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);

  it('traces cross-attention on WebGPU: the map follows the chosen token', async () => {
    const { page, errors } = await openPage(browser, `${PATH}?ep=webgpu`);
    const figure = page.locator('cross-attention-maps');
    await figure.getByLabel('Prompt', { exact: true }).fill('red heart');
    await figure.getByLabel('Steps', { exact: true }).fill('2');
    expect(await runAndWait(page, figure, 'Generate and trace')).toBe('done');
    expect(await figure.locator('.model-status').getAttribute('data-provider')).toBe('webgpu');
    expect(await figure.locator('.status-line').textContent()).toMatch(/^2 steps at guidance .* · WebGPU$/);
    const overlay = figure.locator('[data-view="overlay"]');
    expect(await overlay.getAttribute('aria-label')).toMatch(/^attention to “red”, all layers, averaged over 2 steps/);
    const red = await pixels(overlay);
    await figure.getByRole('radio', { name: /^heart/ }).check();
    expect(await overlay.getAttribute('aria-label')).toMatch(/^attention to “heart”/);
    expect(differs(await pixels(overlay), red)).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);
});
