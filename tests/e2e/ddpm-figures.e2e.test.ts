/** Operates the DDPM chapter's two figures by their labels, as a reader would. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { alphasCumprod, betaSchedule } from '../../src/lib/diffusion/index';
import { launchChromium, openPage, type Browser } from './browser';

let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  browser = await launchChromium();
  ({ page, errors } = await openPage(browser, '/chapters/ddpm/'));
});
afterAll(async () => {
  expect(errors).toEqual([]);
  await browser?.close();
});

/** Reader-level action on a range input: focus it, then keys (what a keyboard user does). */
async function setRange(slider: Locator, value: number) {
  await slider.fill(String(value));
}

describe('schedule explorer', () => {
  const figure = () => page.locator('schedule-explorer');

  async function readout(): Promise<Record<string, number[]>> {
    return figure().evaluate((el) => {
      const rows: Record<string, number[]> = {};
      for (const tr of el.querySelectorAll('tbody tr')) {
        rows[(tr as HTMLElement).dataset.schedule!] = [...tr.querySelectorAll('td')].map((td) =>
          Number(td.textContent!.replace('−', '-')),
        );
      }
      return rows;
    });
  }

  it('shows one line per selected schedule in each of the three plots', async () => {
    await figure().locator('svg').first().waitFor();
    expect(await figure().locator('svg[aria-label]').count()).toBe(3);
    const checked = await figure().getByRole('checkbox', { checked: true }).count();
    const lines = await figure().locator('svg').first().locator('path[stroke]').count();
    expect(lines).toBeGreaterThanOrEqual(checked);
    expect(Object.keys(await readout())).toHaveLength(checked);
  });

  it('moving the cursor updates the readout to the schedule values at t', async () => {
    const slider = figure().getByLabel('Timestep t');
    await setRange(slider, 750);
    const expected = alphasCumprod(betaSchedule('linear', 1000, 1e-4, 0.02))[750];
    const rows = await readout();
    // Columns: beta, alpha-bar, sqrt(alpha-bar), sqrt(1 - alpha-bar), log SNR; shown to 4 decimals.
    expect(rows.linear[1]).toBeCloseTo(expected, 3);
    expect(rows.linear[2]).toBeCloseTo(Math.sqrt(expected), 3);
    expect(rows.linear[4]).toBeCloseTo(Math.log(expected / (1 - expected)), 3);

    const before = rows.scaled_linear[1];
    await slider.focus();
    await page.keyboard.press('ArrowRight');
    expect(await slider.inputValue()).toBe('751');
    const after = (await readout()).scaled_linear[1];
    expect(after).toBeLessThan(before);
    // The cursor rule moved with it in every plot.
    const xs = await figure()
      .locator('g.cursor line')
      .evaluateAll((lines) => lines.map((l) => Number(l.getAttribute('x1'))));
    expect(xs).toHaveLength(3);
  });

  it('every curve stays inside its chart, between the outermost labelled ticks', async () => {
    await figure().getByRole('checkbox', { name: 'sigmoid' }).check();
    const charts = await figure()
      .locator('svg[aria-label]')
      .evaluateAll((svgs) =>
        svgs.map((svg) => {
          // Plot places each tick with translate(x, y); its group and the lines' share the same half-pixel shift.
          const at = (el: Element) => Number(/translate\([^,]+,([^)]+)\)/.exec(el.getAttribute('transform')!)![1]);
          const ticks = [...svg.querySelectorAll('g[aria-label="y-axis tick"] path')].map(at);
          const x = (svg as unknown as { scale(name: string): { range: number[] } }).scale('x').range;
          const curves = [...svg.querySelectorAll('g[aria-label="line"] path')].map((path) => {
            const box = (path as SVGPathElement).getBBox();
            return { left: box.x, right: box.x + box.width, top: box.y, bottom: box.y + box.height };
          });
          return {
            name: svg.getAttribute('aria-label')!,
            top: Math.min(...ticks),
            bottom: Math.max(...ticks),
            x,
            curves,
          };
        }),
      );
    expect(charts).toHaveLength(3);
    for (const { name, top, bottom, x, curves } of charts) {
      expect(curves.length, name).toBe(4);
      for (const curve of curves) {
        // Half a pixel for the lines' horizontal shift and rounding.
        expect(curve.top, name).toBeGreaterThanOrEqual(top - 0.5);
        expect(curve.bottom, name).toBeLessThanOrEqual(bottom + 0.5);
        expect(curve.left, name).toBeGreaterThanOrEqual(Math.min(...x) - 0.5);
        expect(curve.right, name).toBeLessThanOrEqual(Math.max(...x) + 0.5);
      }
    }
    await figure().getByRole('checkbox', { name: 'sigmoid' }).uncheck();
  });

  it('adding a schedule adds its line and its readout row', async () => {
    const sigmoid = figure().getByRole('checkbox', { name: 'sigmoid' });
    await sigmoid.check();
    expect(Object.keys(await readout())).toContain('sigmoid');
    await sigmoid.uncheck();
    expect(Object.keys(await readout())).not.toContain('sigmoid');
  });
});

describe('forward-process scrubber', () => {
  const figure = () => page.locator('forward-scrubber');

  /** RGB bytes of one panel's canvas. */
  async function pixels(panel: string): Promise<number[]> {
    return figure()
      .locator(`canvas[data-panel="${panel}"]`)
      .evaluate((canvas: HTMLCanvasElement) => {
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        return [...data].filter((_, i) => i % 4 !== 3);
      });
  }
  const meanAbsDiff = (a: number[], b: number[]) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

  async function scrub(t: number) {
    await setRange(figure().getByLabel('Timestep t'), t);
    await page.waitForFunction(
      (t) => document.querySelector('forward-scrubber')?.getAttribute('data-t') === String(t),
      t,
    );
  }

  it('at t = 0 both schedules show the picture itself', async () => {
    await scrub(0);
    const x0 = await pixels('x0');
    expect(x0.some((v) => v !== x0[0])).toBe(true);
    // sqrt(1 - alpha-bar_0) is 0.01 (linear) and 0.03 (scaled_linear): within a few grey levels.
    expect(meanAbsDiff(await pixels('linear'), x0)).toBeLessThan(4);
    expect(meanAbsDiff(await pixels('scaled_linear'), x0)).toBeLessThan(8);
  });

  it('scrubbing changes x_t, keeps the noise fixed, and the schedules disagree in the middle', async () => {
    const noise = await pixels('noise');
    const x0 = await pixels('x0');
    await scrub(500);
    const linear = await pixels('linear');
    const scaled = await pixels('scaled_linear');
    expect(meanAbsDiff(linear, scaled)).toBeGreaterThan(5);
    // At t = 500 scaled_linear keeps more of the picture (sqrt(alpha-bar) 0.53 vs 0.28).
    expect(meanAbsDiff(scaled, x0)).toBeLessThan(meanAbsDiff(linear, x0));
    await scrub(999);
    expect(await pixels('noise')).toEqual(noise);
    // At t = 999 linear x_t is the noise panel up to 0.6% of the picture.
    expect(meanAbsDiff(await pixels('linear'), noise)).toBeLessThan(4);
  });

  it('a new seed draws new noise', async () => {
    const before = await pixels('noise');
    const seed = figure().getByLabel('Noise seed');
    await seed.fill('7');
    await seed.press('Enter');
    await page.waitForFunction(() => true);
    await expect.poll(async () => meanAbsDiff(await pixels('noise'), before)).toBeGreaterThan(20);
  });

  it("another sample picture and the reader's own picture replace x_0; a non-image says why", async () => {
    const before = await pixels('x0');
    await figure().getByRole('radio', { name: 'rocket emoji (Twemoji)' }).check();
    await expect.poll(async () => meanAbsDiff(await pixels('x0'), before)).toBeGreaterThan(10);

    const rocket = await pixels('x0');
    await figure().getByLabel('Use your own picture').setInputFiles('public/samples/emoji-sunflower-noto.png');
    await expect.poll(async () => meanAbsDiff(await pixels('x0'), rocket)).toBeGreaterThan(10);
    expect(await figure().getAttribute('data-picture')).toBe('upload');

    await figure()
      .getByLabel('Use your own picture')
      .setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') });
    await expect(figure().getByRole('alert').textContent()).resolves.toMatch(/not a picture/);
  });
});

describe('posterior figure', () => {
  const figure = () => page.locator('ddpm-posterior');
  const cells = async () => (await figure().locator('tbody td').allTextContents()).map(Number);

  it('the readout follows the timestep slider and the schedule, with the library’s numbers', async () => {
    const slider = figure().getByLabel('Timestep t');
    await setRange(slider, 1);
    const [t1, beta1, tilde1, ratio1] = await cells();
    expect(t1).toBe(1);
    // beta~_1 / beta_1 = (1 - abar_0) / (1 - abar_1) for DDPM's linear schedule.
    const betas = betaSchedule('linear', 1000, 1e-4, 0.02);
    const abar = alphasCumprod(betas);
    expect(ratio1).toBeCloseTo((1 - abar[0]) / (1 - abar[1]), 3);
    expect(tilde1).toBeLessThan(beta1);
    await setRange(slider, 800);
    const [, beta800, , ratio800, weightX0, weightXt] = await cells();
    expect(beta800).toBeCloseTo(betas[800], 4);
    expect(ratio800).toBeGreaterThan(0.99);
    expect(weightXt).toBeGreaterThan(weightX0);
    await figure()
      .getByRole('combobox', { name: /^Schedule/ })
      .selectOption('scaled_linear');
    const [, betaScaled] = await cells();
    expect(betaScaled).not.toBeCloseTo(beta800, 4);
    await expect(
      figure()
        .getByRole('img', { name: /against t for the scaled_linear schedule; at t = 800/ })
        .count(),
    ).resolves.toBe(1);
  });
});
