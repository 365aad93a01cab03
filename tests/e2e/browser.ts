/** Shared plumbing for the browser tests: one Chromium per test file, pages that record errors. */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
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
  const errors = watchErrors(page);
  await page.goto(new URL(path, baseUrl()).href, { waitUntil: 'load' });
  return { page, errors };
}

/** Starts recording a page's console errors, uncaught exceptions, failed requests and HTTP errors. */
export function watchErrors(page: Page): string[] {
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
  return errors;
}

/** Every page the build produced, as a site path ("/", "/chapters/ddpm/", ...). */
export function builtPages(root = process.env.E2E_DIST ?? 'dist'): string[] {
  const pages: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name === 'index.html') {
        const rel = relative(root, dir).split(sep).join('/');
        pages.push(rel ? `/${rel}/` : '/');
      }
    }
  };
  walk(root);
  return pages.sort();
}

/** The chapter a site path shows ("/chapters/ddpm/" -> "ddpm"), or null. */
export const chapterOf = (path: string): string | null => /^\/chapters\/([^/]+)\/$/.exec(path)?.[1] ?? null;

/**
 * One cheap model run per chapter (few steps; open the page with ?ep=wasm): the figure's tag, the
 * fields to fill and the buttons to press, all found by label and role.
 */
export const CHEAP_RUNS: Record<
  string,
  {
    figure: string;
    fill?: [string, string][];
    click: string[];
    /** false: the figure runs no ONNX model */ onnx?: false;
  }
> = {
  ddpm: { figure: 'mnist-sampler', click: ['Sample'] },
  'latent-diffusion': { figure: 'vae-roundtrip', click: ['Encode and decode'] },
  'stable-diffusion': { figure: 'text-to-image-figure', fill: [['Steps', '4']], click: ['Generate'] },
  sdxl: { figure: 'micro-conditioning', fill: [['Steps', '4']], click: ['Generate both rows'] },
  dit: { figure: 'dit-patchify', click: ['Encode the picture'] },
  'dall-e-2': { figure: 'unclip-map', click: ['Place the prompt'] },
  glide: { figure: 'glide-inpaint', fill: [['Steps', '2']], click: ['Left half', 'Fill the mask'] },
  imagen: { figure: 'imagen-thresholding', fill: [['Steps', '2']], click: ['Sample all three'] },
  // No ONNX model on this page: its run trains the in-page MLP (TensorFlow.js) for a few steps.
  'diffusion-2d': { figure: 'toy-trainer', fill: [['Training steps', '100']], click: ['Train'], onnx: false },
  'flow-matching': { figure: 'flow-compare', click: ['Compare'] },
};

/** Runs a chapter's CHEAP_RUNS figure on an open chapter page and returns how the run ended. */
export async function runCheaply(page: Page, chapter: string, timeout = 200_000): Promise<string> {
  const { figure: tag, fill = [], click } = CHEAP_RUNS[chapter];
  const figure = page.locator(tag);
  for (const [label, value] of fill) await figure.getByLabel(label, { exact: true }).fill(value);
  for (const name of click) await figure.getByRole('button', { name, exact: true }).click();
  return settled(page, tag, timeout);
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

/**
 * The figure kit's shared controls on a figure that has just run: Download saves a PNG of the
 * generated pictures; Play (where the figure records steps) replays them from the first to the last.
 */
export async function checkDownloadAndPlay(page: Page, figure: Locator): Promise<void> {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    figure.getByRole('button', { name: 'Download' }).click(),
  ]);
  const stream = await download.createReadStream();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const png = Buffer.concat(chunks);
  expect(download.suggestedFilename()).toMatch(/\.png$/);
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  // Pictures are enlarged (nearest neighbour) to at least 256 px tall.
  expect(png.readUInt32BE(20)).toBeGreaterThanOrEqual(256);
  const step = figure.locator('input[name="step"]');
  if ((await step.count()) === 0) return;
  const last = await step.getAttribute('max');
  await step.fill('0');
  await figure.getByRole('button', { name: /^Play/ }).click();
  await expect.poll(() => step.inputValue(), { timeout: 10_000 }).toBe(last);
  expect(await figure.getByRole('button', { name: /^Play/ }).getAttribute('aria-pressed')).toBe('false');
}

export { launchChromium, type Browser };
