/** The model-backed figures of the chapters, operated by their labels (on WebAssembly, the fast path here). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { checkDownloadAndPlay, figureResult, launchChromium, openPage, type Browser } from './browser';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function waitDone(page: Page, selector: string) {
  await page.waitForFunction(
    (s) => ['done', 'error', 'stopped'].includes((document.querySelector(s) as HTMLElement).dataset.state!),
    selector,
    { timeout: 240_000 },
  );
  return page.locator(selector).getAttribute('data-state');
}

async function pixels(canvas: Locator): Promise<number[]> {
  return canvas.evaluate((c: HTMLCanvasElement) => [...c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data]);
}
const differs = (a: number[], b: number[]) => a.some((v, i) => v !== b[i]);

describe('DDPM chapter', () => {
  let page: Page;
  let errors: string[];
  beforeAll(async () => {
    ({ page, errors } = await openPage(browser, '/chapters/ddpm/?ep=wasm'));
  });
  afterAll(async () => {
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the reverse-process figure records every step and replays it with the Step slider', async () => {
    const figure = page.locator('mnist-sampler');
    await figure.getByLabel('Digit').selectOption('4');
    await figure.getByLabel('Steps').fill('6');
    await figure.getByRole('button', { name: 'Sample' }).click();
    expect(await waitDone(page, 'mnist-sampler')).toBe('done');
    const step = figure.getByLabel('Step', { exact: true });
    expect(await step.getAttribute('max')).toBe('5');
    expect(await figure.locator('.step-readout').textContent()).toBe('6 of 6, t = 0');
    const late = await pixels(figure.locator('[data-panel="sample"]'));
    await step.fill('0');
    expect(await figure.locator('.step-readout').textContent()).toMatch(/^1 of 6, t = \d+/);
    expect(differs(await pixels(figure.locator('[data-panel="sample"]')), late)).toBe(true);
    expect(await figure.locator('.status-line').textContent()).toMatch(/6 steps in \d+\.\d+ s .* WebAssembly/);
    await checkDownloadAndPlay(page, figure);
  });

  it('an unconditional digit has nothing to guide: the slider is off and the noise is not called guided', async () => {
    const figure = page.locator('mnist-sampler');
    const guidance = figure.getByLabel('Guidance scale');
    expect(await guidance.isEnabled()).toBe(true);
    await figure.getByRole('combobox', { name: /^Digit/ }).selectOption('none');
    expect(await guidance.isDisabled()).toBe(true);
    expect(await figure.getByText('nothing to guide towards').isVisible()).toBe(true);
    expect(await figure.locator('.noise-caption').textContent()).not.toContain('guided');
    await figure.getByRole('combobox', { name: /^Digit/ }).selectOption('4');
    expect(await figure.locator('.noise-caption').textContent()).toContain('(guided)');
  });

  it('Stop cancels a long run, leaves no spinner, and what ran can be replayed', async () => {
    const figure = page.locator('mnist-sampler');
    await figure.getByLabel('Steps').fill('400');
    await figure.getByRole('button', { name: 'Sample' }).click();
    await page.waitForFunction(() =>
      /Sampling: [1-9]\d* of 400/.test(document.querySelector('mnist-sampler .status-line')!.textContent!),
    );
    await figure.getByRole('button', { name: 'Stop' }).click();
    expect(await waitDone(page, 'mnist-sampler')).toBe('stopped');
    expect(await figure.locator('.status-line').textContent()).toBe('Stopped.');
    expect(await figure.getByRole('button', { name: 'Sample' }).isEnabled()).toBe(true);
    expect(await figure.getByRole('button', { name: 'Stop' }).isHidden()).toBe(true);
    expect(Number(await figure.getByLabel('Step', { exact: true }).getAttribute('max'))).toBeGreaterThan(0);
  });

  it('the sampler comparison fills all twelve cells', async () => {
    const figure = page.locator('sampler-grid');
    await figure.getByRole('button', { name: 'Run all twelve' }).click();
    expect(await waitDone(page, 'sampler-grid')).toBe('done');
    const times = await figure.locator('.cell-time').allTextContents();
    expect(times).toHaveLength(12);
    expect(times.every((t) => /^\d+\.\d\d s$/.test(t))).toBe(true);
    // Deterministic samplers from the same noise agree more with each other than DDPM does.
    const cell = (s: string, n: number) => pixels(figure.locator(`canvas[data-scheduler="${s}"][data-steps="${n}"]`));
    const mad = (a: number[], b: number[]) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;
    const ddim = await cell('ddim', 50);
    expect(mad(await cell('dpmsolver++', 50), ddim)).toBeLessThan(mad(await cell('ddpm', 50), ddim));
    // The sentence under the grid gives each row's change across step counts, as the cells show it:
    // mean difference of the drawn grey levels over the three pairs of its pictures.
    const sentence = (await figure.locator('.comparison').textContent()) ?? '';
    expect(sentence).toMatch(/row's 5 changes/);
    const spread = async (s: string) => {
      const [a, b, c] = [await cell(s, 10), await cell(s, 25), await cell(s, 50)];
      return (mad(a, b) + mad(a, c) + mad(b, c)) / 3 / (3 / 4); // RGB of RGBA: alpha never differs
    };
    const said = (label: string) => Number(new RegExp(`${label.replace(/[+()]/g, '\\$&')} (\\d+)`).exec(sentence)?.[1]);
    for (const [s, label] of [
      ['ddpm', 'DDPM'],
      ['ddim', 'DDIM'],
      ['dpmsolver++', 'DPM-Solver++ (2M)'],
    ]) {
      expect(Math.abs(said(label) - (await spread(s)))).toBeLessThan(1.5);
    }
    // DDPM redraws the digit at each step count; the deterministic samplers barely move.
    expect(said('DDPM')).toBeGreaterThan(2 * said('DDIM'));
    await checkDownloadAndPlay(page, figure);
  });
});

describe('Latent diffusion chapter', () => {
  let page: Page;
  let errors: string[];
  beforeAll(async () => {
    ({ page, errors } = await openPage(browser, '/chapters/latent-diffusion/?ep=wasm'));
  });
  afterAll(async () => {
    expect(errors).toEqual([]);
    await page.close();
  });

  it("round-trips a sample, then the reader's own picture, and draws the four latent channels", async () => {
    const figure = page.locator('vae-roundtrip');
    await figure.getByRole('button', { name: 'Encode and decode' }).click();
    expect(await waitDone(page, 'vae-roundtrip')).toBe('done');
    expect(await figure.locator('.status-line').textContent()).toMatch(/PSNR \d+\.\d dB/);
    expect(
      await figure.locator('.heatmap svg [aria-label="cell"] rect, .heatmap svg rect').count(),
    ).toBeGreaterThanOrEqual(256);
    // Download saves the picture, its reconstruction and their difference.
    await checkDownloadAndPlay(page, figure);
    const before = await pixels(figure.locator('[data-panel="reconstruction"]'));

    await figure.getByLabel('Use your own picture').setInputFiles('public/samples/digit-3.png');
    const reconstruction = figure.locator('[data-panel="reconstruction"]');
    await expect.poll(async () => differs(await pixels(reconstruction), before), { timeout: 60_000 }).toBe(true);
    expect(await waitDone(page, 'vae-roundtrip')).toBe('done');

    await figure
      .getByLabel('Use your own picture')
      .setInputFiles({ name: 'x.txt', mimeType: 'text/plain', buffer: Buffer.from('hi') });
    await expect.poll(() => figure.getByRole('alert').textContent()).toMatch(/not a picture/);
  });

  it('interpolates between two emoji and decodes all seven points', async () => {
    const figure = page.locator('latent-interpolation');
    const checked = (legend: string) =>
      figure.getByRole('group', { name: legend }).getByRole('radio', { checked: true }).getAttribute('value');
    // The defaults are two different pictures: the first press walks somewhere.
    expect(await checked('From')).not.toBe(await checked('To'));
    const note = figure.getByRole('status').filter({ hasText: /same picture/ });
    expect(await note.isVisible()).toBe(false);
    await figure.getByRole('button', { name: 'Interpolate' }).click();
    expect(await waitDone(page, 'latent-interpolation')).toBe('done');
    const row = figure.locator('[data-row="latent"] canvas');
    expect(await row.count()).toBe(7);
    const [first, middle, last] = await Promise.all([pixels(row.nth(0)), pixels(row.nth(3)), pixels(row.nth(6))]);
    expect(differs(first, last)).toBe(true);
    expect(differs(middle, first) && differs(middle, last)).toBe(true);
    await checkDownloadAndPlay(page, figure);

    // From = To: the figure says why every point is the same picture.
    const from = await checked('From');
    await figure.getByRole('group', { name: 'To' }).locator(`input[value="${from}"]`).check();
    expect(await note.isVisible()).toBe(true);
    await figure.getByRole('button', { name: 'Interpolate' }).click();
    expect(await waitDone(page, 'latent-interpolation')).toBe('done');
    expect(await figure.locator('.status-line').textContent()).toMatch(/From and To are the same picture/);
    expect(differs(await pixels(row.nth(0)), await pixels(row.nth(6)))).toBe(false);
  });
});

describe('Models page', () => {
  it('times one call of every shipped model on WebAssembly and prices the samplers', async () => {
    const { page, errors } = await openPage(browser, '/models/?ep=wasm');
    const figure = page.locator('model-timings');
    await figure.getByLabel('Timed runs per model').selectOption('3');
    await figure.getByRole('button', { name: 'Time every model' }).click();
    expect(await waitDone(page, 'model-timings')).toBe('done');
    const result = await figureResult(page, 'model-timings');
    const ids = Object.keys(JSON.parse(readFileSync('public/weights/manifest.json', 'utf8')).models);
    expect(result.provider).toBe('wasm');
    expect(result.rows.map((r: { id: string }) => r.id)).toEqual(ids);
    for (const row of result.rows) {
      expect(row.runsMs, row.id).toHaveLength(3);
      expect(row.medianMs, row.id).toBeGreaterThan(0);
      if (row.steps !== null) expect(row.sampleMs).toBeCloseTo(row.steps * row.medianMs, 6);
    }
    // The table shows what was measured, not the placeholder.
    expect(await figure.locator('[data-cell="sd_unet-ms"]').textContent()).toMatch(/^\d+(\.\d+)? (ms|s)$/);
    expect(await figure.locator('[data-cell="sd_unet-sample"]').textContent()).toMatch(/^\d+(\.\d+)? (ms|s)$/);
    expect(await figure.locator('.summary').textContent()).toMatch(
      new RegExp(`Timed ${ids.length} models, 3 calls each`),
    );
    expect(errors).toEqual([]);
    await page.close();
  });
});
