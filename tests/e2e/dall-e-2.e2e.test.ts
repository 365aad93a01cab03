/**
 * The DALL-E 2 chapter's figures, driven by their labels on WebAssembly: the CLIP map (the prompt's
 * point moves with the prompt; hover and arrow keys show an emoji), text -> prior -> decoder (a seed
 * repeats exactly, another seed changes the embedding), variations (variation k is seed + k) and
 * slerp interpolation (its first point is the first emoji's own variation). Then one short
 * variations run on WebGPU (SwiftShader here, about 100x slower: two steps).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { checkDownloadAndPlay, launchChromium, openPage, settled, figureResult, type Browser } from './browser';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A CLIP map as drawn on the page (CSS pixels): the drawing, its marker labels, the marks and the emoji. */
const mapOnPage = (figure: Locator) =>
  figure.locator('svg.map').evaluate((svg) => {
    const rect = (e: Element) => {
      const r = e.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    };
    const all = (selector: string) => [...svg.querySelectorAll(selector)];
    return {
      drawing: rect(svg),
      labels: all('text.mark-label').map((t) => ({ text: t.textContent ?? '', ...rect(t) })),
      marks: all('.mark').map(rect),
      icons: all('.icons image').map(rect),
    };
  });

const overlaps = (a: Rect, b: Rect) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const inside = (a: Rect, d: Rect) =>
  a.x >= d.x - 0.5 &&
  a.y >= d.y - 0.5 &&
  a.x + a.width <= d.x + d.width + 0.5 &&
  a.y + a.height <= d.y + d.height + 0.5;

/** How far a point lies from a box (0 inside it). */
const distance = (x: number, y: number, r: Rect) =>
  Math.hypot(Math.max(r.x - x, 0, x - r.x - r.width), Math.max(r.y - y, 0, y - r.y - r.height));

/**
 * Readable at a glance (issue 15, item 9): every label inside the drawing, beside its own mark (the
 * marks come in the labels' order), clear of the other labels and of every mark, in text at least
 * 12 px tall, over emoji at least 12 px wide.
 */
async function expectLegibleMap(figure: Locator, labels: number) {
  const map = await mapOnPage(figure);
  expect(map.labels).toHaveLength(labels);
  expect(map.icons).toHaveLength(156);
  for (const icon of map.icons) expect(icon.width).toBeGreaterThanOrEqual(12);
  map.labels.forEach((label, i) => {
    expect(label.height, label.text).toBeGreaterThanOrEqual(12);
    expect(inside(label, map.drawing), `${label.text} inside the map`).toBe(true);
    for (const mark of map.marks) expect(overlaps(label, mark), `${label.text} clear of the marks`).toBe(false);
    const own = map.marks[i];
    expect(
      distance(own.x + own.width / 2, own.y + own.height / 2, label),
      `${label.text} beside its mark`,
    ).toBeLessThan(30);
    for (const other of map.labels.slice(i + 1))
      expect(overlaps(label, other), `${label.text} / ${other.text}`).toBe(false);
  });
  return map;
}

const maxAbsDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
/** Picture k of a batch [N, 3, 32, 32]. */
const picture = (data: number[], k: number) => data.slice(k * 3072, (k + 1) * 3072);

describe('DALL-E 2 chapter on WebAssembly', () => {
  let page: Page;
  let errors: string[];
  beforeAll(async () => {
    ({ page, errors } = await openPage(browser, '/chapters/dall-e-2/?ep=wasm'));
  });
  afterAll(async () => {
    await page?.close();
  });

  it('the map: the prompt lands on it, and moves when the prompt changes', { timeout: 120_000 }, async () => {
    const figure = page.locator('unclip-map');
    await figure.getByLabel('Prompt', { exact: true }).fill('red heart');
    await figure.getByRole('button', { name: 'Place the prompt' }).click();
    expect(await settled(page, 'unclip-map')).toBe('done');
    const first = await figureResult(page, 'unclip-map');
    expect(first.nearest).toHaveLength(3);
    await expectLegibleMap(figure, 1);
    expect(
      await figure.getByRole('img', { name: /^Map of 156 held-out emoji .* the prompt “red heart” is at/ }).count(),
    ).toBe(1);
    expect(await figure.locator('.status-line').textContent()).toMatch(
      /^map: 156 images \+ captions embedded in \d+ ms; prompt in [\d.]+ ms .* · WebAssembly$/,
    );
    await figure.getByLabel('Prompt', { exact: true }).fill('cat face');
    await figure.getByRole('button', { name: 'Place the prompt' }).click();
    expect(await settled(page, 'unclip-map')).toBe('done');
    const second = await figureResult(page, 'unclip-map');
    expect(second.prompt).toBe('cat face');
    expect(Math.hypot(second.xy[0] - first.xy[0], second.xy[1] - first.xy[1])).toBeGreaterThan(0.01);
    // An example prompt moves the point without pressing the button.
    const example = figure.locator('button.example').first();
    const words = (await example.textContent())!.trim();
    await example.click();
    await page.waitForFunction((w) => (document.querySelector('unclip-map') as any).result.prompt === w, words);
    expect(await settled(page, 'unclip-map')).toBe('done');
  });

  it('the map: arrow keys and the pointer show an emoji large', { timeout: 30_000 }, async () => {
    const figure = page.locator('unclip-map');
    const map = figure.getByRole('group', { name: /^CLIP map of held-out emoji/ });
    const tip = figure.locator('.map-tip');
    await map.focus();
    await page.keyboard.press('ArrowRight');
    await expect(tip.isVisible()).resolves.toBe(true);
    const firstTip = await tip.textContent();
    await page.keyboard.press('ArrowRight');
    expect(await tip.textContent()).not.toBe(firstTip);
    await page.keyboard.press('Escape');
    await expect(tip.isVisible()).resolves.toBe(false);
    // The pointer over an emoji (the last drawn is on top of any neighbour it overlaps).
    const box = (await figure.locator('svg.map .icons image').last().boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => !document.querySelector<HTMLElement>('unclip-map .map-tip')!.hidden);
    expect(await tip.textContent()).toMatch(/ · /);
  });

  it('prior + decoder: a seed repeats exactly, another seed changes the embedding', { timeout: 200_000 }, async () => {
    const figure = page.locator('unclip-prior');
    await figure.getByLabel('Prompt', { exact: true }).fill('beating heart');
    await figure.getByLabel('Prior steps').fill('4');
    await figure.getByLabel('Decoder steps').fill('3');
    await figure.getByLabel('Seed', { exact: true }).fill('1');
    const run = async () => {
      await figure.getByRole('button', { name: 'Generate' }).click();
      expect(await settled(page, 'unclip-prior')).toBe('done');
      return figureResult(page, 'unclip-prior');
    };
    const first = await run();
    expect(first.imageEmbeds.data).toHaveLength(64);
    expect(first.nearest).toHaveLength(3);
    const again = await run();
    expect(again.imageEmbeds.data).toEqual(first.imageEmbeds.data);
    expect(again.image.data).toEqual(first.image.data);
    // With and without the prior, from the same noise: different embeddings, different pictures.
    expect(maxAbsDiff(first.image.data, first.noPriorImage.data)).toBeGreaterThan(0.01);
    await figure.getByLabel('Seed', { exact: true }).fill('2');
    const other = await run();
    expect(maxAbsDiff(other.imageEmbeds.data, first.imageEmbeds.data)).toBeGreaterThan(1e-3);
    expect(
      await figure
        .getByRole('img', { name: /^Picture decoded from the prior's image embedding for “beating heart”, seed 2$/ })
        .count(),
    ).toBe(1);
    expect(await figure.locator('.status-line').textContent()).toMatch(
      /^prior 4 steps in \d+ ms · decoder 3 steps \(2 pictures\) in [\d.]+ s .* · WebAssembly$/,
    );
    await expectLegibleMap(figure, 2);
    await checkDownloadAndPlay(page, figure);
  });

  let catVariations: number[] = [];

  it('variations: variation k uses seed + k, so shifting the seed shifts the row', { timeout: 200_000 }, async () => {
    const figure = page.locator('unclip-variations');
    await figure.getByRole('combobox', { name: 'Emoji' }).selectOption({ label: 'cat face' });
    await figure.getByRole('combobox', { name: 'Variations' }).selectOption('2');
    await figure.getByLabel('Steps', { exact: true }).fill('3');
    await figure.getByLabel('Seed', { exact: true }).fill('5');
    const run = async () => {
      await figure.getByRole('button', { name: 'Make variations' }).click();
      expect(await settled(page, 'unclip-variations')).toBe('done');
      return figureResult(page, 'unclip-variations');
    };
    const first = await run();
    expect(first.seeds).toEqual([5, 6]);
    expect(maxAbsDiff(picture(first.images.data, 0), picture(first.images.data, 1))).toBeGreaterThan(0.01);
    const again = await run();
    expect(again.images.data).toEqual(first.images.data);
    await figure.getByLabel('Seed', { exact: true }).fill('6');
    const shifted = await run();
    // Seed 6 was the second picture before and is the first now; the batch is the same size.
    expect(maxAbsDiff(picture(shifted.images.data, 0), picture(first.images.data, 1))).toBeLessThan(1e-5);
    expect(maxAbsDiff(picture(shifted.images.data, 1), picture(first.images.data, 1))).toBeGreaterThan(0.01);
    expect(await figure.getByRole('img', { name: /^Variation 2 of cat face, seed 7$/ }).count()).toBe(1);
    expect(await figure.locator('.status-line').textContent()).toMatch(
      /^CLIP image embedding [\d.]+ ms · 2 variations, 3 steps in [\d.]+ s .* · WebAssembly$/,
    );
    catVariations = picture(first.images.data, 0);
    await checkDownloadAndPlay(page, figure);
  });

  it("interpolation: the ends of the slerp decode to the ends' own variations", { timeout: 200_000 }, async () => {
    const figure = page.locator('unclip-interpolation');
    await figure.getByRole('combobox', { name: 'From' }).selectOption({ label: 'cat face' });
    await figure.getByRole('combobox', { name: 'To' }).selectOption({ label: 'banana' });
    await figure.getByRole('combobox', { name: 'Points' }).selectOption('3');
    await figure.getByLabel('Steps', { exact: true }).fill('3');
    await figure.getByLabel('Seed', { exact: true }).fill('5');
    await figure.getByRole('button', { name: 'Interpolate' }).click();
    expect(await settled(page, 'unclip-interpolation')).toBe('done');
    const walk = await figureResult(page, 'unclip-interpolation');
    expect(walk.images.shape).toEqual([3, 3, 32, 32]);
    // Same embedding, seed, steps and guidance as the cat's first variation; only the batch differs
    // (3 points against 2 variations), which onnxruntime may round differently.
    expect(maxAbsDiff(picture(walk.images.data, 0), catVariations)).toBeLessThan(1e-3);
    expect(maxAbsDiff(picture(walk.images.data, 1), picture(walk.images.data, 0))).toBeGreaterThan(0.01);
    expect(maxAbsDiff(picture(walk.images.data, 2), picture(walk.images.data, 1))).toBeGreaterThan(0.01);
    expect(
      await figure.getByRole('img', { name: /^Decoded point t = 0.50 between cat face and banana, seed 5$/ }).count(),
    ).toBe(1);
    expect(await figure.locator('.status-line').textContent()).toMatch(
      /^\d+° between the two embeddings · 3 points, 3 steps in .* · WebAssembly$/,
    );
    await checkDownloadAndPlay(page, figure);
    expect(errors).toEqual([]);
  });
});

describe('DALL-E 2 CLIP maps on a 375 px phone', () => {
  let page: Page;
  let errors: string[];
  beforeAll(async () => {
    ({ page, errors } = await openPage(browser, '/chapters/dall-e-2/?ep=wasm', { width: 375, height: 800 }));
  });
  afterAll(async () => {
    await page?.close();
  });

  // A long prompt: its label must be cut short rather than cross the map.
  const prompt = 'thumbs up medium skin tone';

  it(
    'the map: emoji and the prompt label readable, the label inside and clear of the mark',
    { timeout: 120_000 },
    async () => {
      const figure = page.locator('unclip-map');
      await figure.getByLabel('Prompt', { exact: true }).fill(prompt);
      await figure.getByRole('button', { name: 'Place the prompt' }).click();
      expect(await settled(page, 'unclip-map')).toBe('done');
      const map = await expectLegibleMap(figure, 1);
      expect(map.drawing.width).toBeLessThan(375);
      const [label] = map.labels;
      expect(label.text === `“${prompt}”` || (label.text.startsWith('“thumbs') && label.text.endsWith('…”'))).toBe(
        true,
      );
      // Turned to a desktop width, the map redraws for it and stays legible.
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.waitForFunction(() => {
        const svg = document.querySelector<SVGSVGElement>('unclip-map svg.map')!;
        return Math.abs(svg.viewBox.baseVal.width - svg.getBoundingClientRect().width) < 2;
      });
      expect((await expectLegibleMap(figure, 1)).drawing.width).toBeGreaterThan(600);
      await page.setViewportSize({ width: 375, height: 800 });
    },
  );

  it('prior + decoder: the prompt and prior labels stay apart and inside the map', { timeout: 200_000 }, async () => {
    const figure = page.locator('unclip-prior');
    await figure.getByLabel('Prompt', { exact: true }).fill(prompt);
    await figure.getByLabel('Prior steps').fill('2');
    await figure.getByLabel('Decoder steps').fill('2');
    await figure.getByRole('button', { name: 'Generate' }).click();
    expect(await settled(page, 'unclip-prior')).toBe('done');
    await expectLegibleMap(figure, 2);
    expect(errors).toEqual([]);
  });
});

describe('DALL-E 2 chapter on WebGPU (SwiftShader here: two steps)', () => {
  it('makes variations on WebGPU', { timeout: 300_000 }, async () => {
    const { page, errors } = await openPage(browser, '/chapters/dall-e-2/?ep=webgpu');
    const figure = page.locator('unclip-variations');
    await figure.getByRole('combobox', { name: 'Variations' }).selectOption('2');
    await figure.getByLabel('Steps', { exact: true }).fill('2');
    await figure.getByRole('button', { name: 'Make variations' }).click();
    expect(await settled(page, 'unclip-variations', 280_000)).toBe('done');
    expect(await figure.locator('.model-status').getAttribute('data-provider')).toBe('webgpu');
    expect(await figure.locator('.status-line').textContent()).toMatch(/2 variations, 2 steps in .* · WebGPU$/);
    const r = await figureResult(page, 'unclip-variations');
    expect(r.images.data.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(picture(r.images.data, 0), picture(r.images.data, 1))).toBeGreaterThan(0.01);
    expect(errors).toEqual([]);
    await page.close();
  });
});
