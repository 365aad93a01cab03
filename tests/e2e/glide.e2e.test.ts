/** The GLIDE chapter's figures, driven through their labelled controls (WebAssembly, plus one WebGPU run). */
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

const PATH = '/chapters/glide/';

async function runAndWait(page: Page, figure: Locator, button: string) {
  await figure.getByRole('button', { name: button, exact: true }).click();
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

/** A 32-bit FNV-1a hash of a canvas's bytes: cheaper to pass around than the 256 x 256 editor's pixels. */
function fingerprint(canvas: Locator): Promise<number> {
  return canvas.evaluate((c: HTMLCanvasElement) => {
    let hash = 0x811c9dc5;
    for (const byte of c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data) {
      hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
    }
    return hash;
  });
}

/** The inpainting figure's last run, split by its mask: known pixels vs the picture, and the filled ones. */
interface InpaintRun {
  /** Largest |result - picture| over the known pixels, as the figure measured it. */
  keptMaxDiff: number;
  /** The same, recomputed here from the tensors. */
  keptRecomputed: number;
  /** Largest |result - picture| over the masked pixels. */
  filledMaxDiff: number;
  /** The filled pixels' values (all channels), to compare runs. */
  filled: number[];
  masked: number;
  provider: string;
}

function inpaintRun(figure: Locator): Promise<InpaintRun> {
  return figure.evaluate((el) => {
    type T = { data: Float32Array };
    const r = (
      el as unknown as {
        result: { picture: T; image: T; keep: Float32Array; keptMaxDiff: number; provider: string };
      }
    ).result;
    const plane = r.keep.length;
    let kept = 0;
    let filled = 0;
    const values: number[] = [];
    for (let i = 0; i < r.image.data.length; i++) {
      const d = Math.abs(r.image.data[i] - r.picture.data[i]);
      if (r.keep[i % plane] === 1) kept = Math.max(kept, d);
      else {
        filled = Math.max(filled, d);
        values.push(r.image.data[i]);
      }
    }
    return {
      keptMaxDiff: r.keptMaxDiff,
      keptRecomputed: kept,
      filledMaxDiff: filled,
      filled: values,
      masked: [...r.keep].filter((k) => k === 0).length,
      provider: r.provider,
    };
  });
}

describe('GLIDE chapter on WebAssembly', () => {
  let page: Page;
  let errors: string[];
  beforeAll(async () => {
    ({ page, errors } = await openPage(browser, `${PATH}?ep=wasm`));
  });
  afterAll(async () => {
    expect(errors).toEqual([]);
    await page.close();
  });

  it('runs both stages of the cascade, replays the base run, and repeats exactly with the same seed', async () => {
    const figure = page.locator('glide-cascade');
    await figure.getByLabel('Prompt', { exact: true }).fill('red heart');
    await figure.getByLabel('Steps', { exact: true }).fill('4');
    await figure.getByLabel('Seed', { exact: true }).fill('2');
    expect(await runAndWait(page, figure, 'Generate')).toBe('done');
    expect(await figure.locator('.status-line').textContent()).toMatch(
      /^Base: 4 steps in \d+\.\d\d s .* · upsampler: \d+ steps in \d+\.\d\d s · WebAssembly$/,
    );
    const small = figure.getByRole('img', { name: '16 px sample for “red heart”' });
    const large = figure.getByRole('img', { name: '32 px sample for “red heart”' });
    expect(await small.getAttribute('width')).toBe('16');
    expect(await large.getAttribute('width')).toBe('32');
    const first = await pixels(large);
    expect(new Set(first).size).toBeGreaterThan(10);
    // The upsampler's input is the bilinear picture plus noise, so the two panels differ.
    const upsampled = await pixels(figure.locator('[data-panel="upsampled"]'));
    expect(differs(await pixels(figure.locator('[data-panel="augmented"]')), upsampled)).toBe(true);

    const step = figure.getByLabel('Step', { exact: true });
    expect(await step.getAttribute('max')).toBe('3');
    const x0 = figure.locator('[data-panel="x0"]');
    const before = await pixels(x0);
    await step.focus();
    await page.keyboard.press('Home');
    expect(await figure.locator('.step-readout').textContent()).toMatch(/^1 of 4, t = \d+$/);
    expect(differs(await pixels(x0), before)).toBe(true);

    expect(await runAndWait(page, figure, 'Generate')).toBe('done');
    expect(differs(await pixels(large), first)).toBe(false);
    await checkDownloadAndPlay(page, figure);
  });

  it('reruns only the upsampler when its noise level moves after a run, and names the new level', async () => {
    const figure = page.locator('glide-cascade');
    const small = figure.getByRole('img', { name: '16 px sample for “red heart”' });
    const large = figure.getByRole('img', { name: '32 px sample for “red heart”' });
    const base = await pixels(small);
    const before = await pixels(large);
    const input = await pixels(figure.getByRole('img', { name: 'Upsampler input at noise level 0.1' }));

    // No Generate: moving the slider is enough.
    await figure.getByLabel('Upsampler noise level').fill('0.5');
    await page.waitForFunction(
      (el) =>
        (el as unknown as { result: { noiseLevel: number } }).result.noiseLevel === 0.5 &&
        (el as HTMLElement).dataset.state === 'done',
      await figure.elementHandle(),
      { timeout: 120_000 },
    );
    expect(await figure.locator('.status-line').textContent()).toMatch(
      /^Upsampler only, at noise level 0\.5 \(base sample kept\): \d+ steps in \d+\.\d\d s · WebAssembly$/,
    );
    expect(await figure.evaluate((el) => (el as unknown as { result: { baseMs: null } }).result.baseMs)).toBeNull();
    expect(differs(await pixels(small), base)).toBe(false);
    expect(differs(await pixels(large), before)).toBe(true);
    const noised = figure.getByRole('img', { name: 'Upsampler input at noise level 0.5' });
    expect(differs(await pixels(noised), input)).toBe(true);
    expect(await figure.getByText("noised (level 0.5): the upsampler's input").isVisible()).toBe(true);
    // The base run is still there to replay.
    expect(await figure.getByLabel('Step', { exact: true }).getAttribute('max')).toBe('3');

    // Generate runs both stages again; the same seed gives the same base sample.
    expect(await runAndWait(page, figure, 'Generate')).toBe('done');
    expect(await figure.locator('.status-line').textContent()).toMatch(/^Base: 4 steps in .* · upsampler: /);
    expect(differs(await pixels(small), base)).toBe(false);
  });

  it('samples seven guidance scales in one batch: w = 0 and w = 10 differ, and a rerun repeats exactly', async () => {
    const figure = page.locator('glide-cfg-sweep');
    await figure.getByLabel('Steps', { exact: true }).fill('4');
    expect(await runAndWait(page, figure, 'Render all seven')).toBe('done');
    expect(await figure.locator('.status-line').textContent()).toMatch(/^7 images × 4 steps in \d+\.\d\d s/);
    const image = (w: string) => pixels(figure.getByRole('img', { name: new RegExp(`at guidance scale ${w}$`) }));
    const unguided = await image('0');
    const strong = await image('10');
    expect(differs(unguided, strong)).toBe(true);

    expect(await runAndWait(page, figure, 'Render all seven')).toBe('done');
    expect(differs(await image('10'), strong)).toBe(false);
    await figure.getByRole('radio', { name: 'not clipped' }).check();
    expect(await runAndWait(page, figure, 'Render all seven')).toBe('done');
    expect(differs(await image('10'), strong)).toBe(true);
    await checkDownloadAndPlay(page, figure);
  });

  it('edits the mask with presets, the keyboard and the pointer', async () => {
    const figure = page.locator('glide-inpaint');
    const readout = figure.locator('.mask-readout');
    await figure.getByRole('button', { name: 'Left half' }).click();
    expect(await readout.textContent()).toMatch(/^128 of 256 pixels masked/);
    await figure.getByRole('button', { name: 'Top half' }).click();
    expect(await readout.textContent()).toMatch(/^128 of 256/);
    await figure.getByRole('button', { name: 'Centre square' }).click();
    expect(await readout.textContent()).toMatch(/^64 of 256/);

    const editor = figure.getByRole('application', { name: /Inpainting mask/ });
    await editor.focus();
    // The cursor starts at row 9, column 9, inside the centre square: Space unmasks it.
    await page.keyboard.press('Space');
    expect(await readout.textContent()).toBe('63 of 256 pixels masked · cursor at row 9, column 9: kept');
    // Shift + arrows paint with the brush (mask) as they move: columns 10 to 12 are in the square
    // already, 13 and 14 are new.
    for (let i = 0; i < 5; i++) await page.keyboard.press('Shift+ArrowRight');
    expect(await readout.textContent()).toBe('65 of 256 pixels masked · cursor at row 9, column 14: masked');
    await page.keyboard.press('ArrowUp');
    expect(await readout.textContent()).toBe('65 of 256 pixels masked · cursor at row 8, column 14: kept');

    // A click at the top-left corner masks that pixel; the unmask brush takes it away again.
    await editor.click({ position: { x: 3, y: 3 } });
    expect(await readout.textContent()).toBe('66 of 256 pixels masked · cursor at row 1, column 1: masked');
    await figure.getByRole('radio', { name: 'unmask' }).check();
    await editor.click({ position: { x: 3, y: 3 } });
    expect(await readout.textContent()).toMatch(/^65 of 256/);
    await figure.getByRole('button', { name: 'Clear' }).click();
    expect(await readout.textContent()).toMatch(/^0 of 256/);
    await figure.getByRole('button', { name: 'Fill the mask' }).click();
    expect(await figure.getByRole('alert').textContent()).toMatch(/^Nothing is masked/);
    expect(await figure.getAttribute('data-state')).toBe('idle');
    await figure.getByRole('radio', { name: 'mask', exact: true }).check();
  });

  it('inpaints: known pixels stay exactly, masked ones follow the prompt and seed, same seed repeats', async () => {
    const figure = page.locator('glide-inpaint');
    await figure.getByRole('button', { name: 'Left half' }).click();
    await figure.getByLabel('Prompt for the fill').fill('crying face');
    await figure.getByLabel('Steps', { exact: true }).fill('6');
    await figure.getByLabel('Seed', { exact: true }).fill('1');
    expect(await runAndWait(page, figure, 'Fill the mask')).toBe('done');
    expect(await figure.locator('.status-line').textContent()).toMatch(/^6 steps in \d+\.\d\d s .* · WebAssembly$/);
    expect(await figure.locator('.kept').textContent()).toBe(
      '128 masked pixels sampled; the 128 known ones differ from the picture by exactly 0.',
    );
    const first = await inpaintRun(figure);
    expect(first.masked).toBe(128);
    expect(first.keptMaxDiff).toBe(0);
    expect(first.keptRecomputed).toBe(0);
    expect(first.filledMaxDiff).toBeGreaterThan(0.05);

    expect(await runAndWait(page, figure, 'Fill the mask')).toBe('done');
    expect((await inpaintRun(figure)).filled).toEqual(first.filled);

    await figure.getByLabel('Seed', { exact: true }).fill('2');
    expect(await runAndWait(page, figure, 'Fill the mask')).toBe('done');
    const otherSeed = await inpaintRun(figure);
    expect(otherSeed.keptRecomputed).toBe(0);
    expect(differs(otherSeed.filled, first.filled)).toBe(true);

    await figure.getByLabel('Seed', { exact: true }).fill('1');
    await figure.getByLabel('Prompt for the fill').fill('red heart');
    expect(await runAndWait(page, figure, 'Fill the mask')).toBe('done');
    const otherPrompt = await inpaintRun(figure);
    expect(otherPrompt.keptRecomputed).toBe(0);
    expect(differs(otherPrompt.filled, first.filled)).toBe(true);

    const step = figure.getByLabel('Step', { exact: true });
    expect(await step.getAttribute('max')).toBe('5');
    await step.fill('0');
    expect(await figure.locator('.step-readout').textContent()).toMatch(/^1 of 6, t = \d+$/);
    await checkDownloadAndPlay(page, figure);
  });

  it('takes the reader’s own picture, and says so when a file is not one', async () => {
    const figure = page.locator('glide-inpaint');
    const editor = figure.getByRole('application', { name: /Inpainting mask/ });
    const grinning = await fingerprint(editor);
    const upload = figure.locator('input[type="file"]');
    await upload.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') });
    const notice = figure.getByRole('alert');
    await expect.poll(() => notice.textContent()).toMatch(/text\/plain, not a picture/);
    expect(await fingerprint(editor)).toBe(grinning);

    await upload.setInputFiles('public/samples/emoji-sunflower-noto.png');
    await expect.poll(() => fingerprint(editor)).not.toBe(grinning);
    expect(await notice.isHidden()).toBe(true);
    expect(await figure.locator('input[type="radio"][value$=".png"]:checked').count()).toBe(0);
  });
});

describe('GLIDE chapter on WebGPU', () => {
  it('inpaints a short run on WebGPU: known pixels kept exactly, and says so', async () => {
    const { page, errors } = await openPage(browser, `${PATH}?ep=webgpu`);
    const figure = page.locator('glide-inpaint');
    await figure.getByRole('button', { name: 'Top half' }).click();
    await figure.getByLabel('Steps', { exact: true }).fill('2');
    expect(await runAndWait(page, figure, 'Fill the mask')).toBe('done');
    expect(await figure.locator('.model-status').getAttribute('data-provider')).toBe('webgpu');
    expect(await figure.locator('.status-line').textContent()).toMatch(/^2 steps in .* · WebGPU$/);
    const run = await inpaintRun(figure);
    expect(run.provider).toBe('webgpu');
    expect(run.keptRecomputed).toBe(0);
    expect(run.filledMaxDiff).toBeGreaterThan(0.05);
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);
});
