/**
 * Bad input and faults, in Chromium: pictures that are not pictures, absurdly big, big, transparent or
 * not square; prompts that are empty, emoji or markup; a download cut half-way or lost altogether; a run
 * stopped half-way; and fifty runs in a row without the JS heap growing. Cases covered elsewhere are
 * not repeated here: a text file as a picture (ddpm-figures, model-figures, glide), unknown and
 * cut-off words (stable-diffusion), no WebGPU, a missing or corrupted weight file (runtime-faults),
 * Stop on the MNIST sampler (model-figures).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Locator, type Page } from 'playwright-core';
import { baseUrl, launchChromium, openPage, settled, type Browser } from './browser';
import { CHROMIUM_FLAGS, findChromium } from './chromium';

const manifest = JSON.parse(readFileSync('public/weights/manifest.json', 'utf8'));
const unetFile = manifest.models.mnist_ddpm.file as string;

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A PNG (8-bit grey, or RGBA when `channels` is 4) whose pixel bytes come from `pixel(x, y)`. */
function png(width: number, height: number, channels: 1 | 4, pixel: (x: number, y: number) => number[]): Buffer {
  const stride = width * channels + 1;
  const raw = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set(pixel(x, y), y * stride + 1 + x * channels);
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, channels === 4 ? 6 : 0, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** An uncompressed 24-bit BMP whose pixels come from `pixel(x, y)` as [r, g, b]. */
function bmp(width: number, height: number, pixel: (x: number, y: number) => number[]): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const out = Buffer.alloc(54 + stride * height);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10); // pixels start after the two headers
  out.writeUInt32LE(40, 14); // BITMAPINFOHEADER
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22); // positive: rows stored bottom-up
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  out.writeUInt32LE(stride * height, 34);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      out[row + x * 3] = b;
      out[row + x * 3 + 1] = g;
      out[row + x * 3 + 2] = r;
    }
  }
  return out;
}

/** RGBA bytes of a canvas. */
function pixels(canvas: Locator): Promise<number[]> {
  return canvas.evaluate((c: HTMLCanvasElement) => [...c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data]);
}

describe("a reader's own picture (forward-process figure)", () => {
  let page: Page;
  let errors: string[];
  const figure = () => page.locator('forward-scrubber');
  const upload = (file: { name: string; mimeType: string; buffer: Buffer }) =>
    figure().getByLabel('Use your own picture').setInputFiles(file);
  const x0 = () => pixels(figure().locator('canvas[data-panel="x0"]'));
  const note = () => figure().locator('.upload-note');

  let uploads: string;

  beforeAll(async () => {
    uploads = mkdtempSync(join(tmpdir(), 'denoised-uploads-'));
    ({ page, errors } = await openPage(browser, '/chapters/ddpm/'));
    // Wait for the first sample picture to be drawn.
    await page.waitForFunction(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('forward-scrubber canvas[data-panel="x0"]')!;
      return canvas
        .getContext('2d')!
        .getImageData(0, 0, canvas.width, canvas.height)
        .data.some((v) => v > 0);
    });
  });
  afterAll(async () => {
    rmSync(uploads, { recursive: true, force: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('refuses a file over 256 MB and one that only claims to be a picture, and keeps the last picture', async () => {
    const before = await x0();
    // Sparse: 300 MB on paper, nothing on disk; the size is refused before a byte is read.
    const huge = join(uploads, 'huge.jpg');
    writeFileSync(huge, '');
    truncateSync(huge, 300 * 1048576);
    await figure().getByLabel('Use your own picture').setInputFiles(huge);
    await expect
      .poll(() => figure().getByRole('alert').textContent())
      .toMatch(/300 MB, more than a browser tab can safely decode; please pick a picture under 256 MB/);
    await upload({ name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from('definitely not a PNG') });
    await expect
      .poll(() => figure().getByRole('alert').textContent())
      .toMatch(/could not decode that file as a picture/);
    expect(await x0()).toEqual(before);
  });

  it('takes a 48 MB photo, decoded small in a few seconds, and says it was large and scaled down', async () => {
    // 4096 × 4096 uncompressed BMP, left half black, right half white: 48 MB, the size the issue's
    // reader drops. A path, as a reader picks a file (Playwright refuses buffers over 50 MB).
    const photo = join(uploads, 'photo.bmp');
    writeFileSync(
      photo,
      bmp(4096, 4096, (x) => (x < 2048 ? [0, 0, 0] : [255, 255, 255])),
    );
    expect(statSync(photo).size).toBeGreaterThan(40 * 1048576);
    const started = Date.now();
    await figure().getByLabel('Use your own picture').setInputFiles(photo);
    await expect
      .poll(() => note().textContent(), { timeout: 30_000 })
      .toBe(
        'Your 4096 × 4096 picture is scaled to 64 × 64. It is a large file (48 MB), so it was scaled down while it was decoded instead of opened at full size.',
      );
    const seconds = (Date.now() - started) / 1000;
    console.log(`[robustness] 48 MB BMP upload drawn in ${seconds.toFixed(1)} s`);
    expect(seconds).toBeLessThan(15);
    const rgba = await x0();
    expect(rgba[(32 * 64 + 4) * 4]).toBeLessThan(10); // left: black
    expect(rgba[(32 * 64 + 60) * 4]).toBeGreaterThan(245); // right: white
    expect(await figure().getByRole('alert').isHidden()).toBe(true);
  });

  it('takes an 8000 × 8000 picture, decoded small, and says it was scaled', async () => {
    // Left half black, right half white: 64 MB of grey pixels, a few hundred kB as PNG.
    const big = png(8000, 8000, 1, (x) => [x < 4000 ? 0 : 255]);
    const started = Date.now();
    await upload({ name: 'big.png', mimeType: 'image/png', buffer: big });
    await expect
      .poll(() => note().textContent(), { timeout: 30_000 })
      .toBe('Your 8000 × 8000 picture is scaled to 64 × 64.');
    const seconds = (Date.now() - started) / 1000;
    console.log(`[robustness] 8000 × 8000 upload drawn in ${seconds.toFixed(1)} s`);
    const rgba = await x0();
    expect(rgba[(32 * 64 + 4) * 4]).toBeLessThan(10); // left: black
    expect(rgba[(32 * 64 + 60) * 4]).toBeGreaterThan(245); // right: white
    expect(await figure().getByRole('alert').isHidden()).toBe(true);
  });

  it('shows transparent parts on white, as the models were trained, and says so', async () => {
    // A red disc on a transparent square.
    const disc = png(64, 64, 4, (x, y) => ((x - 32) ** 2 + (y - 32) ** 2 < 400 ? [255, 0, 0, 255] : [0, 0, 0, 0]));
    await upload({ name: 'disc.png', mimeType: 'image/png', buffer: disc });
    await expect.poll(() => note().textContent()).toMatch(/transparent parts are shown on white/);
    const rgba = await x0();
    expect(rgba.slice(0, 4)).toEqual([255, 255, 255, 255]); // corner: white, not black
    expect(rgba.slice((32 * 64 + 32) * 4, (32 * 64 + 32) * 4 + 3)).toEqual([255, 0, 0]);
  });

  it('crops a wide picture to its centre square and says which part it kept', async () => {
    // Three bands: red | green | blue, each 200 px wide; the centre square is all green.
    const bands = png(600, 200, 4, (x) => (x < 200 ? [255, 0, 0, 255] : x < 400 ? [0, 255, 0, 255] : [0, 0, 255, 255]));
    await upload({ name: 'wide.png', mimeType: 'image/png', buffer: bands });
    await expect
      .poll(() => note().textContent())
      .toBe(
        'Your picture is 600 × 200, not square: the figure uses its centre 200 × 200 square (the left and right edges are cropped off), scaled to 64 × 64.',
      );
    const rgba = await x0();
    // Edges blend a little with the cropped-off bands through the resampling filter; the rest is pure green.
    for (const x of [3, 32, 60]) {
      const [r, g, b] = rgba.slice((32 * 64 + x) * 4, (32 * 64 + x) * 4 + 3);
      expect([r < 8, g > 247, b < 8]).toEqual([true, true, true]);
    }

    // Back to a sample picture: the note about the reader's picture goes away.
    await figure().getByRole('radio', { name: 'rocket emoji (Twemoji)' }).check();
    await expect.poll(() => note().isHidden()).toBe(true);
  });
});

describe('prompts (mini Stable Diffusion)', () => {
  let page: Page;
  let errors: string[];
  const figure = () => page.locator('text-to-image-figure');
  const prompt = () => figure().getByLabel('Prompt', { exact: true });
  const tokenNote = () => figure().locator('.token-strip .token-note');

  beforeAll(async () => {
    ({ page, errors } = await openPage(browser, '/chapters/stable-diffusion/?ep=wasm'));
  });
  afterAll(async () => {
    expect(errors).toEqual([]);
    await page.close();
  });

  async function generate(steps: number) {
    await figure().getByLabel('Steps', { exact: true }).fill(String(steps));
    await figure().getByRole('button', { name: 'Generate' }).click();
    return settled(page, 'text-to-image-figure');
  }

  it('markup in a prompt is shown as text, never run as HTML', async () => {
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const markup = '<img src=x onerror=alert(1)>';
    await prompt().fill(markup);
    const words = figure()
      .getByRole('list', { name: /tokens the text encoder sees/ })
      .locator('.token-text');
    await expect.poll(() => words.allTextContents(), { timeout: 30_000 }).toContain('onerror');
    expect(await generate(2)).toBe('done');
    expect(await figure().locator('.call code').textContent()).toContain(`pipe("${markup}"`);
    expect(await figure().locator('.final canvas').getAttribute('aria-label')).toContain(markup);
    expect(await figure().locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('emoji are named as skipped, and an emoji-only prompt runs as the unconditional prompt', async () => {
    await prompt().fill('red ❤️ heart');
    await expect.poll(() => tokenNote().textContent()).toMatch(/“❤️” is not made of the letters a–z .* skipped/);
    await prompt().fill('🔥🚀');
    await expect.poll(() => tokenNote().textContent()).toMatch(/no words, so it is the unconditional prompt/);
  });

  it('an empty prompt generates (unconditionally) and says so', async () => {
    await prompt().fill('');
    await expect.poll(() => tokenNote().textContent()).toMatch(/no words, so it is the unconditional prompt/);
    expect(await generate(2)).toBe('done');
    const image = await pixels(figure().locator('.final canvas'));
    expect(new Set(image).size).toBeGreaterThan(2);
  });

  it('Stop half-way leaves no spinner: the button comes back and the steps so far replay', async () => {
    await prompt().fill('red heart');
    await figure().getByLabel('Steps', { exact: true }).fill('250');
    await figure().getByRole('button', { name: 'Generate' }).click();
    await page.waitForFunction(() =>
      /Sampling: [1-9]\d* of 250/.test(document.querySelector('text-to-image-figure .status-line')!.textContent!),
    );
    await figure().getByRole('button', { name: 'Stop' }).click();
    expect(await settled(page, 'text-to-image-figure')).toBe('stopped');
    expect(await figure().locator('.status-line').textContent()).toBe('Stopped.');
    expect(await figure().getByRole('button', { name: 'Generate' }).isEnabled()).toBe(true);
    expect(await figure().getByRole('button', { name: 'Stop' }).isHidden()).toBe(true);
    const step = figure().getByLabel('Step', { exact: true });
    expect(await step.isEnabled()).toBe(true);
    const recorded = Number(await step.getAttribute('max')) + 1;
    expect(recorded).toBeGreaterThan(0);
    expect(recorded).toBeLessThan(250);
    // And the next run starts cleanly.
    expect(await generate(2)).toBe('done');
  });
});

describe('a weight download that breaks off', () => {
  /** /models/ with the service worker blocked (page.route does not see a controlled page's fetches). */
  async function modelsPage() {
    const context = await browser.newContext({ serviceWorkers: 'block' });
    const page = await context.newPage();
    await page.goto(new URL('/models/?ep=wasm', baseUrl()).href);
    return { context, page, figure: page.locator('mnist-sampler') };
  }
  const cachedUnet = (page: Page) =>
    page.evaluate(
      async (file) =>
        (await (await caches.open('denoised-weights-v1')).keys()).filter((r) => r.url.includes(file)).length,
      unetFile,
    );

  it('resumes from where the connection dropped, with a Range request', async () => {
    const { context, page, figure } = await modelsPage();
    const whole = readFileSync(`public/weights/${unetFile}`);
    const ranges: (string | null)[] = [];
    await page.route(`**/weights/${unetFile}`, async (route) => {
      const range = (await route.request().headerValue('range')) ?? null;
      ranges.push(range);
      // The first response stops half-way; the resumed one comes from the real server.
      if (!range) return route.fulfill({ status: 200, body: whole.subarray(0, whole.length >> 1) });
      return route.continue();
    });
    await figure.getByLabel('Steps').fill('2');
    await figure.getByRole('button', { name: 'Sample' }).click();
    expect(await settled(page, 'mnist-sampler')).toBe('done');
    expect(ranges).toEqual([null, `bytes=${whole.length >> 1}-`]);
    expect(await cachedUnet(page)).toBe(1);
    await context.close();
  });

  it('when the network stays down: a sentence, Retry, no half file cached; Retry then works', async () => {
    const { context, page, figure } = await modelsPage();
    let requests = 0;
    await page.route(`**/weights/${unetFile}`, (route) => (requests++, route.abort('internetdisconnected')));
    await figure.getByLabel('Steps').fill('2');
    await figure.getByRole('button', { name: 'Sample' }).click();
    expect(await settled(page, 'mnist-sampler')).toBe('error');
    expect(requests).toBe(4); // the first try and three resumes
    expect(await figure.locator('.status-line').textContent()).toMatch(/The download was interrupted/);
    expect(await figure.getByRole('button', { name: 'Sample' }).isEnabled()).toBe(true);
    expect(await cachedUnet(page)).toBe(0);

    await page.unroute(`**/weights/${unetFile}`);
    await figure.getByRole('button', { name: 'Retry' }).click();
    await page.waitForFunction(
      () => document.querySelector('mnist-sampler')!.getAttribute('data-state') === 'done',
      null,
      {
        timeout: 120_000,
      },
    );
    expect(await cachedUnet(page)).toBe(1);
    await context.close();
  });
});

describe('fifty runs in a row', () => {
  it('the MNIST sampler runs 50 times without the JS heap growing', { timeout: 300_000 }, async () => {
    const gcBrowser = await chromium.launch({
      executablePath: findChromium(),
      args: [...CHROMIUM_FLAGS, '--js-flags=--expose-gc', '--enable-precise-memory-info'],
      headless: true,
    });
    try {
      const { page, errors } = await openPage(gcBrowser, '/models/?ep=wasm');
      await page.locator('mnist-sampler').getByLabel('Steps').fill('10');
      const heap = await page.evaluate(async () => {
        const figure = document.querySelector<HTMLElement>('mnist-sampler')!;
        const button = figure.querySelector<HTMLButtonElement>('button.run')!;
        let finished = 0;
        new MutationObserver(() => {
          if (figure.dataset.state === 'done' || figure.dataset.state === 'error') finished++;
        }).observe(figure, { attributes: true, attributeFilter: ['data-state'] });
        const measure = async () => {
          const w = window as unknown as { gc: () => void };
          for (let i = 0; i < 3; i++) {
            w.gc();
            await new Promise((r) => setTimeout(r, 50));
          }
          // The JS heap only: measureUserAgentSpecificMemory (which counts the engine's WASM memory too)
          // takes a minute a call here; measured once it moved 24.73 -> 24.82 MB from run 10 to run 50.
          return (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize;
        };
        const at: Record<number, number> = {};
        for (let run = 1; run <= 50; run++) {
          button.click();
          while (finished < run) await new Promise((r) => setTimeout(r, 5));
          if (figure.dataset.state !== 'done') throw new Error(`run ${run} ended in ${figure.dataset.state}`);
          if (run === 10 || run === 50) at[run] = await measure();
        }
        return at;
      });
      const growth = heap[50] - heap[10];
      const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
      console.log(
        `[robustness] JS heap after GC: run 10 ${mb(heap[10])}, run 50 ${mb(heap[50])}, growth ${(growth / 1e3).toFixed(0)} kB over 40 runs`,
      );
      // A leak of one [2, 1, 32, 32] float tensor a step would add 40 x 10 x 8 kB = 3.3 MB.
      expect(growth).toBeLessThan(1_000_000);
      expect(errors).toEqual([]);
    } finally {
      await gcBrowser.close();
    }
  });
});
