/**
 * The flow chapter's figures, driven by their labels on WebAssembly: the 2-D paths (steps, shift and
 * new noise change what the readout reports; one step lands on the mean and reflow fixes that) and
 * the flow-vs-diffusion grid (ten pictures from one noise, with diffusers' timesteps).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { checkDownloadAndPlay, figureResult, launchChromium, openPage, settled, type Browser } from './browser';

let browser: Browser;
let page: Page;
let errors: string[];
beforeAll(async () => {
  browser = await launchChromium();
  ({ page, errors } = await openPage(browser, '/chapters/flow-matching/?ep=wasm'));
});
afterAll(async () => {
  await page?.close();
  await browser?.close();
});

/** The 2-D figure's readout table, as a reader sees it: method -> [straightness, mean log p]. */
async function readout(figure: Locator): Promise<Record<string, number[]>> {
  // Reflow's column fills in a moment after the others.
  await page.waitForSelector('toy-flow[data-ready="true"]');
  const rows: Record<string, number[]> = {};
  for (const method of ['ddim', 'flow', 'reflow']) {
    const cells = await figure.locator(`tr[data-method="${method}"] td`).allTextContents();
    rows[method] = cells.map(Number);
  }
  return rows;
}

/** RGBA pixels of a canvas. */
const pixels = (canvas: Locator) =>
  canvas.evaluate((c: HTMLCanvasElement) => Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data));

describe('flow matching', () => {
  it(
    '2-D: steps, shift and new noise drive the readout; reflow lands one step on the data',
    { timeout: 60_000 },
    async () => {
      const figure = page.locator('toy-flow');
      await figure.getByRole('combobox', { name: /^Data/ }).selectOption('mixture');
      const steps = figure.getByRole('combobox', { name: /^Steps/ });
      await steps.selectOption('1');
      const one = await readout(figure);
      // One step is a straight line for every sampler; the exact fields put everything on the mean.
      for (const m of ['ddim', 'flow', 'reflow']) expect(one[m][0]).toBe(1);
      expect(one.reflow[1]).toBeGreaterThan(one.flow[1] + 3);
      await steps.selectOption('2');
      const two = await readout(figure);
      expect(two.flow[1]).toBeCloseTo(one.flow[1], 1); // sigmas 1, 0.001, 0: the second step barely moves
      expect(two.ddim[1]).not.toBe(one.ddim[1]);
      await steps.selectOption('8');
      const eight = await readout(figure);
      await figure.getByLabel('Flow shift').selectOption('3');
      const shifted = await readout(figure);
      expect(shifted.flow).not.toEqual(eight.flow);
      expect(shifted.ddim).toEqual(eight.ddim); // the shift is the flow scheduler's
      await figure.getByRole('button', { name: 'New noise' }).click();
      expect((await readout(figure)).ddim).not.toEqual(shifted.ddim);
      expect(await figure.getAttribute('data-steps')).toBe('8');
    },
  );

  it('the grid samples both models from one noise at 1 to 25 steps', { timeout: 240_000 }, async () => {
    const figure = page.locator('flow-compare');
    await figure.getByLabel('Prompt', { exact: true }).fill('blue heart');
    await figure.getByRole('button', { name: 'Compare', exact: true }).click();
    expect(await settled(page, 'flow-compare')).toBe('done');
    const { images, shift } = await figureResult(page, 'flow-compare');
    expect(shift).toBe(1);
    expect(images).toHaveLength(10);
    const find = (model: string, steps: number) => images.find((i: any) => i.model === model && i.steps === steps);
    expect(find('flow', 2).timesteps.map(Math.round)).toEqual([1000, 1]);
    expect(find('diffusion', 2).timesteps).toEqual([999, 499]);
    for (const i of images) {
      expect(i.straightness).toBeGreaterThan(0);
      expect(i.straightness).toBeLessThanOrEqual(1 + 1e-6);
    }
    expect(find('flow', 1).straightness).toBeCloseTo(1, 6);
    expect(find('flow', 25).straightness).toBeLessThan(1);
    // Drawn: every canvas labelled with its straightness; flow's 2-step picture is its 1-step one.
    const flowRow = figure.locator('tr[data-model="flow"]');
    await expect(
      flowRow.getByRole('img', { name: /Rectified flow, 25 steps: path straightness 0\.\d\d/ }).count(),
    ).resolves.toBe(1);
    const p1 = await pixels(flowRow.locator('td[data-steps="1"] canvas'));
    const p2 = await pixels(flowRow.locator('td[data-steps="2"] canvas'));
    const p25 = await pixels(flowRow.locator('td[data-steps="25"] canvas'));
    const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k])), 0);
    expect(maxDiff(p1, p2)).toBeLessThanOrEqual(2);
    expect(maxDiff(p1, p25)).toBeGreaterThan(40);
    await checkDownloadAndPlay(page, figure);

    // SD3's shift moves the flow model's timesteps (not the diffusion model's).
    await figure.getByLabel('Flow shift').selectOption('3');
    await figure.getByRole('button', { name: 'Compare', exact: true }).click();
    expect(await settled(page, 'flow-compare')).toBe('done');
    const again = await figureResult(page, 'flow-compare');
    const shifted = again.images.find((i: any) => i.model === 'flow' && i.steps === 4).timesteps;
    expect(shifted[1]).toBeGreaterThan(find('flow', 4).timesteps[1] + 50);
    expect(again.images.find((i: any) => i.model === 'diffusion' && i.steps === 4).timesteps).toEqual(
      find('diffusion', 4).timesteps,
    );
    expect(await figure.locator('[data-role="timesteps"]').textContent()).toMatch(/shift 3/);
    expect(errors).toEqual([]);
  });
});
