import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtPages, launchChromium, openPage, type Browser } from './browser';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('every page', () => {
  const pages = builtPages();

  it('the build has a home page, a chapter and the credits', () => {
    expect(pages).toContain('/');
    expect(pages).toContain('/credits/');
    expect(pages.some((p) => p.startsWith('/chapters/'))).toBe(true);
  });

  for (const path of pages) {
    it(`${path} loads without console errors and fits a phone screen`, async () => {
      const { page, errors } = await openPage(browser, path, { width: 375, height: 740 });
      await page.waitForLoadState('networkidle');
      expect(errors).toEqual([]);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      // Prose that MDX split or glued: a paragraph that stops at a comma (unless a display equation
      // continues it) or a ")" run into the next word, as "(10 minutes on a GPU)still" was.
      const broken = await page.evaluate(() =>
        [...document.querySelectorAll('main p')].flatMap((p) => {
          const copy = p.cloneNode(true) as HTMLElement;
          copy.querySelectorAll('.katex').forEach((k) => k.replaceWith('x'));
          const text = copy.textContent!.trim();
          const next = p.nextElementSibling;
          const continued = next?.querySelector('.katex-display') || next?.classList.contains('katex-display');
          const split = text.endsWith(',') && !continued;
          return split || /\)[a-z]/.test(text) ? [text.slice(-80)] : [];
        }),
      );
      expect(broken).toEqual([]);
      await page.close();
    });
  }
});

describe('site structure', () => {
  it('the home page lists the chapters in reading order and they open', async () => {
    const { page, errors } = await openPage(browser, '/');
    const links = page
      .getByRole('list')
      .filter({ has: page.getByRole('link', { name: /DDPM/ }) })
      .getByRole('link');
    expect(await links.count()).toBeGreaterThan(0);
    // What the introduction says exists is the list itself: its count and every chapter's short name.
    const titles = await page.locator('.chapter-list .title').allTextContents();
    const intro = (await page.locator('.hero').textContent())!.replace(/\s+/g, ' ');
    expect(intro).toContain(`All ${titles.length} chapters are below`);
    for (const title of titles) expect(intro).toContain(title.split(':')[0].trim());
    expect(intro).not.toMatch(/come next/);
    await links.first().click();
    await page.waitForURL(/\/chapters\//);
    await expect(
      page.getByRole('navigation', { name: 'Table of contents' }).getByRole('link').count(),
    ).resolves.toBeGreaterThan(2);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the theme toggle switches to dark and is remembered', async () => {
    const { page } = await openPage(browser, '/');
    const toggle = page.getByRole('button', { name: 'Dark theme' });
    const before = await page.evaluate(() => document.documentElement.dataset.theme);
    await toggle.click();
    const after = await page.evaluate(() => document.documentElement.dataset.theme);
    expect(after).not.toBe(before);
    expect(await toggle.getAttribute('aria-pressed')).toBe(String(after === 'dark'));
    const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    await page.reload();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(after);
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).toBe(background);
    await page.close();
  });

  it('records whether navigator.gpu gives a WebGPU adapter', async () => {
    const { page } = await openPage(browser, '/');
    const gpu = await page.evaluate(async () => {
      if (!('gpu' in navigator)) return { navigatorGpu: false, adapter: false, info: null };
      const adapter = await (navigator as any).gpu.requestAdapter();
      const info = adapter?.info
        ? {
            vendor: adapter.info.vendor,
            architecture: adapter.info.architecture,
            description: adapter.info.description,
          }
        : null;
      return { navigatorGpu: true, adapter: Boolean(adapter), info };
    });
    mkdirSync('test-results', { recursive: true });
    writeFileSync('test-results/webgpu.json', JSON.stringify(gpu, null, 2));
    console.log(`[e2e] navigator.gpu: ${gpu.navigatorGpu}, adapter: ${gpu.adapter}`, gpu.info ?? '');
    // The flags in chromium.ts turn WebGPU on (SwiftShader without a GPU); later tests rely on it.
    expect(gpu.navigatorGpu).toBe(true);
    expect(gpu.adapter).toBe(true);
    await page.close();
  });
});
