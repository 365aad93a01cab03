/**
 * Shareable state: a figure's settings live in the URL (`?<figure>.<control>=`), out-of-range or
 * malformed values are clamped or dropped with a notice, and opening a copied link reproduces the
 * same sample bit for bit on the same provider. Driven on the DiT chapter's sampler (WebAssembly).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium, openPage, type Browser } from './browser';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function sample(page: Page): Promise<number[]> {
  const figure = page.locator('dit-sampler');
  await figure.getByRole('button', { name: 'Sample', exact: true }).click();
  await page.waitForFunction(() => document.querySelector('dit-sampler')!.getAttribute('data-state') === 'done', null, {
    timeout: 120_000,
  });
  return page.evaluate(() =>
    Array.from((document.querySelector('dit-sampler') as any).result.image.data as Float32Array),
  );
}

describe('settings in the URL', () => {
  it('restores settings from a link, clamping what is out of range with a notice', { timeout: 60_000 }, async () => {
    const { page, errors } = await openPage(
      browser,
      '/chapters/dit/?ep=wasm&dit-sampler.seed=7&dit-sampler.steps=abc&dit-sampler.guidance=99',
    );
    const figure = page.locator('dit-sampler');
    await expect(figure.getByLabel('Seed', { exact: true }).inputValue()).resolves.toBe('7');
    await expect(figure.getByLabel('Steps', { exact: true }).inputValue()).resolves.not.toBe('abc');
    await expect(figure.getByLabel('Guidance scale').inputValue()).resolves.toBe('8');
    const notice = await figure.locator('.url-notice').textContent();
    expect(notice).toMatch(/“steps” \(abc\) is not a number/);
    expect(notice).toMatch(/“guidance” 99 is outside .* used 8/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('writes changes to the URL, and the link reproduces the sample exactly', { timeout: 300_000 }, async () => {
    const { page, errors } = await openPage(browser, '/chapters/dit/?ep=wasm');
    const figure = page.locator('dit-sampler');
    await figure.getByLabel('Steps', { exact: true }).fill('4');
    await figure.getByLabel('Seed', { exact: true }).fill('11');
    const url = new URL(await page.evaluate(() => location.href));
    expect(url.searchParams.get('dit-sampler.steps')).toBe('4');
    expect(url.searchParams.get('dit-sampler.seed')).toBe('11');
    const first = await sample(page);

    const { page: shared, errors: sharedErrors } = await openPage(browser, `${url.pathname}${url.search}`);
    await expect(shared.locator('dit-sampler').getByLabel('Seed', { exact: true }).inputValue()).resolves.toBe('11');
    const again = await sample(shared);
    expect(again).toEqual(first);
    // Back to the default: the parameter leaves the URL.
    await shared.locator('dit-sampler').getByLabel('Seed', { exact: true }).fill('0');
    expect(await shared.evaluate(() => new URLSearchParams(location.search).has('dit-sampler.seed'))).toBe(false);
    expect([...errors, ...sharedErrors]).toEqual([]);
    await page.close();
    await shared.close();
  });
});
