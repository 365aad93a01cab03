/** Shared plumbing for the browser tests: one Chromium per test file, pages that record errors. */
import type { Browser, Page } from 'playwright-core';
import { inject } from 'vitest';
import { launchChromium } from './chromium';

export const baseUrl = (): string => inject('baseUrl');

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught exceptions and failed requests seen so far. */
  errors: string[];
}

export async function openPage(
  browser: Browser,
  path: string,
  viewport = { width: 1280, height: 900 },
): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`exception: ${error.message}`));
  page.on('requestfailed', (request) =>
    errors.push(`request failed: ${request.url()} (${request.failure()?.errorText})`),
  );
  page.on('response', (response) => {
    if (response.status() >= 400) errors.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  await page.goto(new URL(path, baseUrl()).href, { waitUntil: 'load' });
  return { page, errors };
}

/** Waits until a figure's run has ended (its data-state is done, error or stopped) and returns which. */
export async function settled(page: Page, selector: string, timeout = 240_000): Promise<string> {
  await page.waitForFunction(
    (s) => ['done', 'error', 'stopped'].includes((document.querySelector(s) as HTMLElement).dataset.state!),
    selector,
    { timeout },
  );
  return (await page.locator(selector).getAttribute('data-state'))!;
}

/** A figure element's last `result`, as plain JSON (Float32Arrays turned into number[]). */
export const figureResult = (page: Page, selector: string) =>
  page.evaluate((s) => {
    const r = (document.querySelector(s) as any).result;
    return JSON.parse(JSON.stringify(r, (_k, v) => (v instanceof Float32Array ? Array.from(v) : v)));
  }, selector);

export { launchChromium, type Browser };
