/**
 * Shareable state: a figure's settings live in the URL (`?<figure>.<control>=`), out-of-range or
 * malformed values are clamped or dropped with a notice, and opening a copied link reproduces the
 * same sample bit for bit on the same provider. Driven on the DiT sampler and the MNIST sampler
 * (WebAssembly), and on settings outside a figure's form: sample pictures, step scrubbers, the DiT's
 * picked token, the forward process's timestep and the inpainting mask.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { figureResult, launchChromium, openPage, settled, type Browser } from './browser';

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

/** A canvas's RGBA bytes. */
const pixels = (canvas: Locator): Promise<number[]> =>
  canvas.evaluate((c: HTMLCanvasElement) => [...c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data]);

/** The page's own address, as a reader would copy it, relative to the test server. */
async function copiedLink(page: Page): Promise<string> {
  const url = new URL(await page.evaluate(() => location.href));
  return `${url.pathname}${url.search}`;
}

const param = (page: Page, name: string) => page.evaluate((n) => new URLSearchParams(location.search).get(n), name);

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

  it(
    'carries the MNIST sampler bit for bit, with the step the reader was looking at',
    { timeout: 300_000 },
    async () => {
      const { page, errors } = await openPage(browser, '/chapters/ddpm/?ep=wasm');
      const figure = page.locator('mnist-sampler');
      await figure.getByLabel('Digit').selectOption('7');
      await figure.getByLabel('Scheduler').selectOption('euler');
      await figure.getByLabel('Guidance scale').fill('3.5');
      await figure.getByLabel('Steps', { exact: true }).fill('8');
      await figure.getByLabel('Seed', { exact: true }).fill('42');
      await figure.getByRole('button', { name: 'Sample', exact: true }).click();
      expect(await settled(page, 'mnist-sampler')).toBe('done');
      await figure.getByLabel('Step', { exact: true }).fill('2');
      expect(await figure.locator('.step-readout').textContent()).toMatch(/^3 of 8, t = \d+$/);
      expect(await param(page, 'mnist-sampler.step')).toBe('2');
      const link = await copiedLink(page);
      const first = {
        image: (await figureResult(page, 'mnist-sampler')).image.data,
        final: await pixels(figure.locator('.final canvas')),
        atStep: await pixels(figure.locator('[data-panel="x0"]')),
        readout: await figure.locator('.step-readout').textContent(),
      };

      const { page: shared, errors: sharedErrors } = await openPage(browser, link);
      const again = shared.locator('mnist-sampler');
      await expect(again.getByLabel('Digit').inputValue()).resolves.toBe('7');
      await expect(again.getByLabel('Scheduler').inputValue()).resolves.toBe('euler');
      await again.getByRole('button', { name: 'Sample', exact: true }).click();
      expect(await settled(shared, 'mnist-sampler')).toBe('done');
      // The run ends on the link's step, not on the last one, and draws the same picture bit for bit.
      await expect(again.getByLabel('Step', { exact: true }).inputValue()).resolves.toBe('2');
      expect(await again.locator('.step-readout').textContent()).toBe(first.readout);
      expect((await figureResult(shared, 'mnist-sampler')).image.data).toEqual(first.image);
      expect(await pixels(again.locator('.final canvas'))).toEqual(first.final);
      expect(await pixels(again.locator('[data-panel="x0"]'))).toEqual(first.atStep);
      expect([...errors, ...sharedErrors]).toEqual([]);
      await page.close();
      await shared.close();
    },
  );

  it(
    "applies a link's step after the run, clamped to the steps it recorded; a new run drops it",
    { timeout: 300_000 },
    async () => {
      const { page, errors } = await openPage(
        browser,
        '/chapters/ddpm/?ep=wasm&mnist-sampler.steps=6&mnist-sampler.step=2&schedule-explorer.t=40',
      );
      const figure = page.locator('mnist-sampler');
      const step = figure.getByLabel('Step', { exact: true });
      await figure.getByRole('button', { name: 'Sample', exact: true }).click();
      expect(await settled(page, 'mnist-sampler')).toBe('done');
      await expect(step.inputValue()).resolves.toBe('2');
      expect(await figure.locator('.step-readout').textContent()).toMatch(/^3 of 6, t = \d+$/);
      expect(await param(page, 'mnist-sampler.step')).toBe('2');
      // Another run leaves the scrubber at its own default, the last step, and the link follows.
      await figure.getByRole('button', { name: 'Sample', exact: true }).click();
      expect(await settled(page, 'mnist-sampler')).toBe('done');
      await expect(step.inputValue()).resolves.toBe('5');
      expect(await param(page, 'mnist-sampler.step')).toBeNull();
      // Other figures' parameters are left as they were.
      expect(await param(page, 'schedule-explorer.t')).toBe('40');
      await page.close();

      const { page: late, errors: lateErrors } = await openPage(
        browser,
        '/chapters/ddpm/?ep=wasm&mnist-sampler.steps=6&mnist-sampler.step=40',
      );
      const lateFigure = late.locator('mnist-sampler');
      await lateFigure.getByRole('button', { name: 'Sample', exact: true }).click();
      expect(await settled(late, 'mnist-sampler')).toBe('done');
      await expect(lateFigure.getByLabel('Step', { exact: true }).inputValue()).resolves.toBe('5');
      expect(await lateFigure.locator('.url-notice').textContent()).toMatch(/“step” 40 is outside .* used 5/);
      expect([...errors, ...lateErrors]).toEqual([]);
      await late.close();
    },
  );

  it(
    'opens a link with another sample picture, and the figure encodes that picture',
    { timeout: 120_000 },
    async () => {
      const { page, errors } = await openPage(browser, '/chapters/latent-diffusion/?ep=wasm');
      const figure = page.locator('vae-roundtrip');
      await figure.getByRole('radio', { name: 'rocket emoji (Twemoji)' }).check();
      expect(await param(page, 'vae-roundtrip.picture')).toBe('emoji-rocket-twemoji');
      await figure.getByRole('button', { name: 'Encode and decode' }).click();
      expect(await settled(page, 'vae-roundtrip')).toBe('done');
      const clicked = await pixels(figure.locator('[data-panel="input"]'));

      const { page: shared, errors: sharedErrors } = await openPage(
        browser,
        '/chapters/latent-diffusion/?ep=wasm&vae-roundtrip.picture=emoji-rocket-twemoji',
      );
      const again = shared.locator('vae-roundtrip');
      await expect(again.getByRole('radio', { name: 'rocket emoji (Twemoji)' }).isChecked()).resolves.toBe(true);
      await again.getByRole('button', { name: 'Encode and decode' }).click();
      expect(await settled(shared, 'vae-roundtrip')).toBe('done');
      expect(await pixels(again.locator('[data-panel="input"]'))).toEqual(clicked);
      expect([...errors, ...sharedErrors]).toEqual([]);
      await page.close();
      await shared.close();
    },
  );

  it('restores settings outside the forms: picture, timestep and seed of the forward process, schedules, DiT token and block', async () => {
    const { page, errors } = await openPage(
      browser,
      '/chapters/ddpm/?forward-scrubber.picture=emoji-sunflower-noto&forward-scrubber.t=900&forward-scrubber.seed=3' +
        '&schedule-explorer.schedule=sigmoid,linear,laplace',
    );
    const scrubber = page.locator('forward-scrubber');
    await expect.poll(() => scrubber.getAttribute('data-picture')).toMatch(/emoji-sunflower-noto\.png$/);
    await expect(scrubber.getByLabel('Timestep t').inputValue()).resolves.toBe('900');
    await expect.poll(() => scrubber.getAttribute('data-t')).toBe('900');
    await expect(scrubber.getByLabel('Noise seed').inputValue()).resolves.toBe('3');
    const explorer = page.locator('schedule-explorer');
    const checked = await explorer
      .locator('input[name="schedule"]:checked')
      .evaluateAll((boxes) => boxes.map((b) => (b as HTMLInputElement).value));
    expect(checked).toEqual(['linear', 'sigmoid']);
    expect(await explorer.locator('.url-notice').textContent()).toMatch(/“schedule” names “laplace”/);
    // Written back as the reader changes them.
    await scrubber.getByLabel('Timestep t').fill('120');
    expect(await param(page, 'forward-scrubber.t')).toBe('120');
    await scrubber.getByRole('radio', { name: /a handwritten 3/ }).check();
    expect(await param(page, 'forward-scrubber.picture')).toBeNull();
    expect(errors).toEqual([]);
    await page.close();

    const { page: dit, errors: ditErrors } = await openPage(
      browser,
      '/chapters/dit/?dit-sampler.token=10&dit-sampler.block=2',
    );
    const sampler = dit.locator('dit-sampler');
    const token = (n: number) => sampler.getByRole('radio', { name: new RegExp(`^Token ${n}:`) });
    await expect.poll(() => token(11).getAttribute('aria-checked')).toBe('true');
    await expect(token(6).getAttribute('aria-checked')).resolves.toBe('false');
    await expect(sampler.getByLabel('Block').inputValue()).resolves.toBe('2');
    await token(3).click();
    expect(await param(dit, 'dit-sampler.token')).toBe('2');
    await token(6).click();
    expect(await param(dit, 'dit-sampler.token')).toBeNull();
    expect(ditErrors).toEqual([]);
    await dit.close();
  });

  it('carries a hand-painted inpainting mask and the picture under it', async () => {
    const { page, errors } = await openPage(browser, '/chapters/glide/');
    const figure = page.locator('glide-inpaint');
    const editor = figure.getByRole('application', { name: /Inpainting mask/ });
    const readout = figure.locator('.mask-readout');
    await figure.getByRole('radio', { name: 'rocket emoji (Twemoji)' }).check();
    await figure.getByRole('button', { name: 'Top half' }).click();
    expect(await param(page, 'glide-inpaint.mask')).toBe('top');
    // The cursor starts at row 9, column 9 (below the top half): Space masks it, off every preset.
    await editor.focus();
    await page.keyboard.press('Space');
    await editor.blur();
    expect(await readout.textContent()).toMatch(/^129 of 256 pixels masked/);
    const mask = await param(page, 'glide-inpaint.mask');
    expect(mask).toBe('ffff'.repeat(8) + '0080' + '0000'.repeat(7));
    expect(await param(page, 'glide-inpaint.picture')).toBe('emoji-rocket-twemoji');
    const drawn = await pixels(editor);

    const { page: shared, errors: sharedErrors } = await openPage(browser, await copiedLink(page));
    const again = shared.locator('glide-inpaint');
    const againEditor = again.getByRole('application', { name: /Inpainting mask/ });
    await expect.poll(() => pixels(againEditor)).toEqual(drawn);
    expect(await again.locator('.mask-readout').textContent()).toBe(await readout.textContent());
    await page.close();

    const { page: bad } = await openPage(browser, '/chapters/glide/?glide-inpaint.mask=ffff');
    expect(await bad.locator('glide-inpaint .url-notice').textContent()).toMatch(/“mask” is not in a form/);
    await expect.poll(() => bad.locator('glide-inpaint .mask-readout').textContent()).toMatch(/^64 of 256/);
    expect([...errors, ...sharedErrors]).toEqual([]);
    await shared.close();
    await bad.close();
  });

  it(
    "carries a token picked among the prompt's chips, which exist only after the run",
    { timeout: 240_000 },
    async () => {
      const { page, errors } = await openPage(browser, '/chapters/stable-diffusion/?ep=wasm');
      const figure = page.locator('cross-attention-maps');
      const trace = async (p: Page) => {
        await p.locator('cross-attention-maps').getByRole('button', { name: 'Generate and trace' }).click();
        expect(await settled(p, 'cross-attention-maps')).toBe('done');
      };
      await figure.getByLabel('Prompt', { exact: true }).fill('red heart');
      await figure.getByLabel('Steps', { exact: true }).fill('4');
      await trace(page);
      await figure.getByRole('radio', { name: /^heart/ }).check();
      await figure.getByLabel('Layers', { exact: true }).selectOption({ index: 1 });
      expect(await param(page, 'cross-attention-maps.token')).toBe('2');
      const overlay = figure.locator('[data-view="overlay"]');
      const label = await overlay.getAttribute('aria-label');
      expect(label).toMatch(/^attention to “heart”, down_blocks\.0/);
      const drawn = await pixels(overlay);

      const { page: shared, errors: sharedErrors } = await openPage(browser, await copiedLink(page));
      await trace(shared);
      const again = shared.locator('cross-attention-maps [data-view="overlay"]');
      expect(await again.getAttribute('aria-label')).toBe(label);
      expect(await pixels(again)).toEqual(drawn);
      expect([...errors, ...sharedErrors]).toEqual([]);
      await page.close();
      await shared.close();
    },
  );
});
