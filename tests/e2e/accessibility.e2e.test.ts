/**
 * Accessibility sweep: axe-core (WCAG 2.0/2.1 A and AA plus best practice) on every built page, in
 * both themes, at desktop and phone widths; keyboard focus reaching a chapter's figure controls with
 * a visible indicator; and no motion for readers who ask for less.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseUrl, builtPages, CHEAP_RUNS, launchChromium, openPage, type Browser } from './browser';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; html: string }[];
}

/** Runs axe-core on the page (or the element `within` selects) as it is now; violations as readable lines. */
async function axeViolations(page: Page, within?: string): Promise<string[]> {
  await page.addScriptTag({ content: axeSource });
  const violations: AxeViolation[] = await page.evaluate(async (selector) => {
    const context = selector ? document.querySelector(selector) : document;
    const result = await (window as any).axe.run(context, {
      runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
    });
    return result.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n: any) => ({ target: n.target, html: n.html })),
    }));
  }, within);
  return violations.flatMap((v) =>
    v.nodes.map(
      (n) =>
        `${v.id} (${v.impact}): ${v.help}\n    at ${n.target.map(String).join(' >>> ')}\n    ${n.html.replace(/\s+/g, ' ').slice(0, 160)}`,
    ),
  );
}

const THEMES = ['light', 'dark'] as const;
const WIDTHS = [
  { name: 'desktop', viewport: { width: 1280, height: 900 } },
  { name: 'phone', viewport: { width: 375, height: 740 } },
];

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('axe-core finds no violations', () => {
  const pages = builtPages();

  it('the sweep covers the home page, the models, the credits and every chapter', () => {
    expect(pages).toEqual(expect.arrayContaining(['/', '/models/', '/credits/']));
    // Drafts are never built; every other chapter in the content folder must be in the sweep.
    const chapters = readdirSync('src/content/chapters')
      .filter((f) => f.endsWith('.mdx'))
      .filter((f) => !/^draft:\s*true/m.test(readFileSync(`src/content/chapters/${f}`, 'utf8')))
      .map((f) => `/chapters/${f.replace(/\.mdx$/, '')}/`);
    expect(chapters.length).toBeGreaterThan(0);
    expect(pages).toEqual(expect.arrayContaining(chapters));
  });

  for (const path of pages) {
    for (const theme of THEMES) {
      for (const { name, viewport } of WIDTHS) {
        it(`${path} (${theme}, ${name})`, { timeout: 120_000 }, async () => {
          // A fresh page has no stored theme, so the system preference picks it (Base.astro).
          const page = await browser.newPage({ viewport, colorScheme: theme });
          await page.goto(new URL(path, baseUrl()).href, { waitUntil: 'load' });
          await page.waitForLoadState('networkidle');
          expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(theme);
          const violations = await axeViolations(page);
          await page.close();
          if (violations.length) {
            throw new Error(`${violations.length} accessibility violations on ${path}:\n  ${violations.join('\n  ')}`);
          }
        });
      }
    }
  }
});

// One cheap run per chapter (CHEAP_RUNS, shared with the offline test), so the figures' drawn results
// are swept too. A chapter missing there is still swept in its initial state above.

describe('axe-core finds no violations in a figure after it has run', () => {
  const chapters = builtPages()
    .map((p) => /^\/chapters\/([^/]+)\/$/.exec(p)?.[1])
    .filter((id): id is string => Boolean(id && CHEAP_RUNS[id]));

  for (const id of chapters) {
    const { figure: tag, fill = [], click } = CHEAP_RUNS[id];
    it(`${id}: ${tag}`, { timeout: 240_000 }, async () => {
      const { page, errors } = await openPage(browser, `/chapters/${id}/?ep=wasm`);
      const figure = page.locator(tag);
      const imageNames = () =>
        figure.locator('[role="img"]').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
      const namesBefore = await imageNames();
      for (const [label, value] of fill) await figure.getByLabel(label, { exact: true }).fill(value);
      for (const name of click) await figure.getByRole('button', { name, exact: true }).click();
      await page.waitForFunction(
        (t) => ['done', 'error', 'stopped'].includes((document.querySelector(t) as HTMLElement).dataset.state!),
        tag,
        { timeout: 200_000 },
      );
      expect(await figure.getAttribute('data-state')).toBe('done');
      // Text alternatives describe the result: every picture and chart is named, none still says it is
      // waiting, and the names changed with the run (a fixed "image" would pass axe and say nothing).
      const namesAfter = await imageNames();
      expect(namesAfter.length).toBeGreaterThan(0);
      for (const name of namesAfter) expect(name).toMatch(/\S/);
      expect(namesAfter.filter((n) => /\b(yet|not measured|no sample)\b/i.test(n))).toEqual([]);
      expect(namesAfter.some((n, i) => n !== namesBefore[i])).toBe(true);
      const violations = await axeViolations(page, tag);
      expect(errors).toEqual([]);
      await page.close();
      if (violations.length) {
        throw new Error(
          `${violations.length} accessibility violations in ${tag} after a run:\n  ${violations.join('\n  ')}`,
        );
      }
    });
  }
});

/** Whether the focused element draws a focus ring: an outline or a box shadow. */
const focusIndicator = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    return {
      label: `${el.tagName.toLowerCase()} ${el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 40) ?? ''}`,
      visible: outline || style.boxShadow !== 'none',
      inFigure: Boolean(el.closest('.figure')),
    };
  });

describe('keyboard', () => {
  it('Tab reaches the first figure of the DDPM chapter, with a visible focus ring on every stop', async () => {
    const { page, errors } = await openPage(browser, '/chapters/ddpm/');
    const stops: { label: string; visible: boolean; inFigure: boolean }[] = [];
    for (let i = 0; i < 200; i++) {
      await page.keyboard.press('Tab');
      const focused = await focusIndicator(page);
      if (!focused) continue;
      stops.push(focused);
      if (focused.inFigure) break;
    }
    expect(stops[0]?.label).toMatch(/Skip to content/);
    expect(stops.at(-1)?.inFigure, 'no figure control was reached by Tab').toBe(true);
    expect(stops.filter((s) => !s.visible).map((s) => s.label)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the timestep slider moves with the arrow keys', async () => {
    const { page } = await openPage(browser, '/chapters/ddpm/');
    const slider = page.locator('forward-scrubber').getByRole('slider', { name: 'Timestep t' });
    await slider.focus();
    const before = Number(await slider.inputValue());
    await page.keyboard.press('ArrowRight');
    expect(Number(await slider.inputValue())).toBe(before + 1);
    await page.close();
  });
});

describe('prefers-reduced-motion', () => {
  it('without the preference, Play animates the forward process', async () => {
    const { page } = await openPage(browser, '/chapters/ddpm/');
    const figure = page.locator('forward-scrubber');
    await figure.getByRole('button', { name: 'Play' }).click();
    const pause = figure.getByRole('button', { name: 'Pause' });
    expect(await pause.getAttribute('aria-pressed')).toBe('true');
    await pause.click();
    await page.close();
  });

  it('Play jumps to the end instead of animating, and nothing on the page animates', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await page.goto(new URL('/chapters/ddpm/', baseUrl()).href, { waitUntil: 'load' });
    await page.waitForLoadState('networkidle');
    const figure = page.locator('forward-scrubber');
    const play = figure.getByRole('button', { name: 'Play' });
    await play.click();
    await expect(figure.getByRole('slider', { name: 'Timestep t' }).inputValue()).resolves.toBe('999');
    expect(await play.getAttribute('aria-pressed')).toBe('false');
    // No CSS animation or transition is running or left to run anywhere on the page.
    const running = await page.evaluate(() =>
      document.getAnimations().map((a) => (a.effect as KeyframeEffect | null)?.target?.nodeName ?? '?'),
    );
    expect(running).toEqual([]);
    await page.close();
  });

  it('the stylesheet turns animations and transitions off under reduce', async () => {
    const page = await browser.newPage();
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await page.goto(new URL('/', baseUrl()).href, { waitUntil: 'load' });
    const probe = await page.evaluate(() => {
      const el = document.createElement('div');
      el.style.transition = 'opacity 2s';
      el.style.animation = 'spin 2s infinite';
      document.body.append(el);
      const style = getComputedStyle(el);
      return { transition: style.transitionProperty, animation: style.animationName };
    });
    expect(probe).toEqual({ transition: 'none', animation: 'none' });
    await page.close();
  });
});
