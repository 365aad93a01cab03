/**
 * The 2-D chapter's figures, driven by their labels on WebAssembly: the exact-score samplers (step
 * slider and sampling steps), guidance (the slider moves samples off the class) and the in-page MLP
 * (a short training run on TensorFlow.js that must lower its loss and draw a learned field).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium, openPage, settled, type Browser } from './browser';

let browser: Browser;
let page: Page;
let errors: string[];
beforeAll(async () => {
  browser = await launchChromium();
  ({ page, errors } = await openPage(browser, '/chapters/diffusion-2d/?ep=wasm'));
});
afterAll(async () => {
  await page?.close();
  await browser?.close();
});

describe('diffusion in two dimensions', () => {
  it('the samplers follow the step slider and the step count', { timeout: 60_000 }, async () => {
    const figure = page.locator('toy-diffusion');
    await figure.getByLabel('Sampling steps').selectOption('10');
    await expect(figure.locator('.step-readout').textContent()).resolves.toMatch(/of 10/);
    const before = await figure.locator('[data-role="readout"]').textContent();
    await figure.getByLabel('Sampling step', { exact: true }).fill('10');
    await expect(figure.locator('.step-readout').textContent()).resolves.toMatch(/^10 of 10/);
    expect(await figure.locator('[data-role="readout"]').textContent()).not.toBe(before);
  });

  it('Play replays the run from the noise to the samples', { timeout: 60_000 }, async () => {
    const figure = page.locator('toy-diffusion');
    const step = figure.getByLabel('Sampling step', { exact: true });
    await step.fill('0');
    const play = figure.getByRole('button', { name: 'Play' });
    await play.click();
    expect(await figure.getByRole('button', { name: 'Pause' }).getAttribute('aria-pressed')).toBe('true');
    const last = await step.getAttribute('max');
    await expect.poll(() => step.inputValue(), { timeout: 10_000 }).toBe(last);
    expect(await play.getAttribute('aria-pressed')).toBe('false');
    await expect(figure.locator('.step-readout').textContent()).resolves.toBe(`${last} of ${last}, done`);
  });

  it('guidance: a large w puts more samples off the class than w = 1', { timeout: 60_000 }, async () => {
    const figure = page.locator('toy-guidance');
    await figure.getByRole('combobox', { name: /^Data/ }).selectOption('mixture');
    const offAt = async (w: string) => {
      await figure.getByLabel('Guidance scale w').fill(w);
      await page.waitForTimeout(300);
      const text = (await figure.locator('[data-role="readout"]').textContent()) ?? '';
      return Number(/(\d+)% of samples off the class/.exec(text)?.[1]);
    };
    const low = await offAt('1');
    const high = await offAt('8');
    expect(high).toBeGreaterThan(low);
  });

  it('the MLP trains in the page and its loss falls', { timeout: 120_000 }, async () => {
    const figure = page.locator('toy-trainer');
    await figure.getByLabel('Training steps').fill('300');
    await figure.getByRole('button', { name: 'Train', exact: true }).click();
    expect(await settled(page, 'toy-trainer', 100_000)).toBe('done');
    const finalLoss = Number(await figure.getAttribute('data-final-loss'));
    const fieldError = Number(await figure.getAttribute('data-field-error'));
    expect(finalLoss).toBeGreaterThan(0);
    expect(finalLoss).toBeLessThan(0.5); // an untrained net starts near 1 (it predicts ~0 for unit-variance noise)
    expect(fieldError).toBeLessThan(0.5);
    expect(await figure.getByRole('img', { name: /Training loss over 300 steps/ }).count()).toBe(1);
    expect(errors).toEqual([]);
  });
});
