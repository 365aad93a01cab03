/**
 * `npm run bench`: what a reader downloads and how fast the models run, measured in Debian's
 * Chromium on this machine. Prints tables of bytes and of timings (WASM and WebGPU), including one
 * call of every shipped model on both providers.
 *
 * Run with `vite-node scripts/bench.ts` (npm run bench builds first). Options via environment:
 * BENCH_RUNS (timed runs per measurement, default 3), BENCH_WEBGPU_STEPS (default 5: SwiftShader's
 * WebGPU adapter is about 100x slower than WASM on a CPU-only machine).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { preview } from 'astro';
import type { Page } from 'playwright-core';
import { launchChromium } from '../tests/e2e/chromium';
import { freePort } from '../tests/helpers/net';
import { CHAPTER_MODEL_BUDGET, chapterModelBytes, readChapterModels } from '../src/lib/site/chapter-models';
import { median } from '../src/lib/pipelines/step-cost';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WEBGPU_STEPS = Number(process.env.BENCH_WEBGPU_STEPS ?? 5);
const manifest = JSON.parse(readFileSync('public/weights/manifest.json', 'utf8'));

/** A page with service workers blocked: the background offline save must not run beside the timings. */
const quietPage = async (browser: Awaited<ReturnType<typeof launchChromium>>) => {
  const context = await browser.newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  page.on('close', () => void context.close());
  return page;
};
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

function table(headers: string[], rows: (string | number)[][]) {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(
    [line(headers), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.slice(1).map(line)].join('\n'),
  );
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function bytesReport() {
  const rows: (string | number)[][] = [];
  let weights = 0;
  for (const [id, m] of Object.entries<any>(manifest.models)) {
    weights += m.bytes;
    rows.push([`weights: ${id}`, mb(m.bytes), mb(gzipSync(readFileSync(join('public/weights', m.file))).length)]);
  }
  rows.push(['weights: all', mb(weights), '']);
  for (const engine of ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.asyncify.wasm']) {
    const bytes = readFileSync(join('dist/ort', engine));
    rows.push([`engine: ${engine}`, mb(bytes.length), mb(gzipSync(bytes).length)]);
  }
  const js = walk('dist/_astro').filter((f) => f.endsWith('.js'));
  const jsBytes = js.reduce((s, f) => s + statSync(f).size, 0);
  const jsGzip = js.reduce((s, f) => s + gzipSync(readFileSync(f)).length, 0);
  rows.push([`JavaScript (${js.length} files in dist/_astro)`, mb(jsBytes), mb(jsGzip)]);
  console.log('\nBytes a reader can download (gzip as a server would send them)\n');
  table(['what', 'bytes', 'gzip'], rows);
}

/** Each chapter's model download: the frontmatter's `models`, which its figures fetch on first use. */
function chapterBytesReport() {
  const rows = readChapterModels().map((c) => {
    const bytes = chapterModelBytes(c, manifest);
    return [c.id, c.models.join(', '), mb(bytes), bytes < CHAPTER_MODEL_BUDGET ? 'yes' : 'no'];
  });
  console.log(`\nModel bytes per chapter (target: under ${CHAPTER_MODEL_BUDGET / 1e6} MB)\n`);
  table(['chapter', 'models', 'bytes', `under ${CHAPTER_MODEL_BUDGET / 1e6} MB`], rows);
}

async function runFigure(page: Page, selector: string, button: string) {
  await page.locator(selector).getByRole('button', { name: button, exact: true }).click();
  await page.waitForFunction(
    (s) => ['done', 'error'].includes((document.querySelector(s) as HTMLElement).dataset.state!),
    selector,
    {
      timeout: 600_000,
    },
  );
  return page.locator(selector).evaluate((el: any) => ({
    state: el.dataset.state,
    status: el.querySelector('.status-line').textContent,
    result: el.result && {
      stepMs: el.result.stepMs,
      totalMs: el.result.totalMs,
      encodeMs: el.result.encodeMs,
      decodeMs: el.result.decodeMs,
    },
  }));
}

/** Mini Stable Diffusion through the chapter's text-to-image figure: per step and the whole sample. */
async function benchTextToImage(
  browser: Awaited<ReturnType<typeof launchChromium>>,
  base: string,
  provider: 'wasm' | 'webgpu',
): Promise<(string | number)[][]> {
  const page = await quietPage(browser);
  await page.goto(`${base}/chapters/stable-diffusion/?ep=${provider}`, { waitUntil: 'networkidle' });
  const steps = provider === 'wasm' ? 25 : Math.min(WEBGPU_STEPS, 3);
  const figure = page.locator('text-to-image-figure').first();
  await figure.locator('input[name="steps"]').fill(String(steps));
  await figure.locator('input[name="guidance"]').fill('5');
  const selector = 'text-to-image-figure';
  const first = await runFigure(page, selector, 'Generate');
  if (first.state !== 'done') throw new Error(`text-to-image on ${provider}: ${first.status}`);
  const totals: number[] = [];
  const stepMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await runFigure(page, selector, 'Generate');
    totals.push(r.result.totalMs);
    stepMs.push(...r.result.stepMs);
  }
  const unet = manifest.models.sd_unet;
  const flops = 2 * unet.flops_per_sample;
  const perStep = median(stepMs);
  const weights = ['clip_text', 'sd_unet', 'vae_decoder'].reduce((n, id) => n + manifest.models[id].bytes, 0);
  const rows: (string | number)[][] = [
    [
      'sd_unet (CFG, batch 2)',
      provider,
      `${perStep.toFixed(1)} ms`,
      `${steps} steps + text encoder + decode: ${(median(totals) / 1000).toFixed(3)} s`,
      mb(weights),
      `${(flops / 1e9).toFixed(3)} GFLOP`,
      (flops / 1e9 / (perStep / 1000)).toFixed(2),
    ],
  ];
  await page.close();
  return rows;
}

/**
 * Time to first interactive figure: from navigation start until every figure element on the page
 * (custom elements) is defined, i.e. its controls are wired, on a cold page load (no cache).
 */
async function benchInteractive(browser: Awaited<ReturnType<typeof launchChromium>>, base: string) {
  const rows: (string | number)[][] = [];
  for (const { id } of readChapterModels()) {
    const times: number[] = [];
    let pageBytes = 0;
    for (let i = 0; i < RUNS; i++) {
      // Service workers blocked: this is the page alone; the background offline save is reported apart.
      const context = await browser.newContext({ serviceWorkers: 'block' });
      const page = await context.newPage();
      const sizes: Promise<number>[] = [];
      if (i === 0) page.on('requestfinished', (r) => sizes.push(r.sizes().then((z) => z.responseBodySize)));
      await page.goto(`${base}/chapters/${id}/?ep=wasm`, { waitUntil: 'commit' });
      const ms = await page.evaluate(async () => {
        await new Promise((r) =>
          document.readyState === 'loading' ? addEventListener('DOMContentLoaded', r) : r(null),
        );
        const tags = [...new Set([...document.querySelectorAll('*')].map((e) => e.localName))].filter((t) =>
          t.includes('-'),
        );
        await Promise.all(tags.map((t) => customElements.whenDefined(t)));
        return performance.now();
      });
      times.push(ms);
      if (i === 0) {
        await page.waitForLoadState('networkidle');
        pageBytes = (await Promise.all(sizes)).reduce((a, b) => a + b, 0);
      }
      await context.close();
    }
    rows.push([id, `${median(times).toFixed(0)} ms`, median(times) < 2000 ? 'yes' : 'no', mb(pageBytes)]);
  }
  console.log(
    `\nTime to first interactive figure per chapter (cold load from astro preview, median of ${RUNS}), and the bytes the page itself loads before any figure runs (uncompressed)\n`,
  );
  table(['chapter', 'all figures wired', 'under 2 s', 'first-load bytes'], rows);
}

/** What the service worker and the offline job keep after a first visit, from the built files. */
function offlineReport() {
  const sw = readFileSync('dist/sw.js', 'utf8');
  const precache = JSON.parse(/const PRECACHE = (\{.*?\});/.exec(sw)?.[1] ?? '{"files":[]}') as { files: string[] };
  const site = precache.files.reduce((n, f) => n + statSync(join('dist', f)).size, 0);
  const engine = (files: string[]) => files.reduce((n, f) => n + statSync(join('dist/ort', f)).size, 0);
  const weights = Object.values(manifest.models).reduce((n: number, m: any) => n + m.bytes, 0);
  console.log('\nKept for offline reading after a first visit (once, in the background)\n');
  table(
    ['what', 'bytes'],
    [
      [`site: ${precache.files.length} pages, scripts, styles, fonts, pictures (service worker install)`, mb(site)],
      ['weights: every model', mb(weights)],
      ['engine, WebAssembly', mb(engine(['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']))],
      ['engine, WebGPU', mb(engine(['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm']))],
    ],
  );
}

/** Whole-figure run times on WASM (click to done, warm, median of RUNS) for the part-2 chapters' figures. */
async function benchChapterFigures(browser: Awaited<ReturnType<typeof launchChromium>>, base: string) {
  const figures: [chapter: string, selector: string, button: string, what: string][] = [
    ['dit', 'dit-sampler', 'Sample', 'DiT, 25 steps with guidance + decode'],
    ['glide', 'glide-cascade', 'Generate', 'base 16 px (25 steps, guidance) + upsampler (25 steps)'],
    ['glide', 'glide-inpaint', 'Fill the mask', 'inpainting, 25 steps with guidance'],
    ['dall-e-2', 'unclip-prior', 'Generate', 'prior (25) + decoder (25, 2 pictures) + decode'],
    ['dall-e-2', 'unclip-variations', 'Make variations', '4 variations, 25 steps'],
    ['imagen', 'imagen-thresholding', 'Sample all three', '3 thresholding modes at w = 15, 25 steps'],
    [
      'flow-matching',
      'flow-compare',
      'Compare',
      'flow and diffusion at 1, 2, 4, 8, 25 steps with guidance + 10 decodes',
    ],
  ];
  const rows: (string | number)[][] = [];
  let page: Page | null = null;
  let open = '';
  for (const [chapter, selector, button, what] of figures) {
    if (open !== chapter) {
      await page?.close();
      page = await quietPage(browser);
      await page.goto(`${base}/chapters/${chapter}/?ep=wasm`, { waitUntil: 'networkidle' });
      open = chapter;
    }
    const first = await runFigure(page!, selector, button);
    if (first.state !== 'done') throw new Error(`${selector}: ${first.status}`);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = Date.now();
      await runFigure(page!, selector, button);
      times.push(Date.now() - t0);
    }
    rows.push([chapter, selector, what, `${(median(times) / 1000).toFixed(2)} s`]);
  }
  await page?.close();
  console.log(`\nFigure runs on WebAssembly (click to finished, warm, median of ${RUNS})\n`);
  table(['chapter', 'figure', 'what runs', 'time'], rows);
}

/**
 * Every shipped model through the models page's timing figure: one call at the batch it runs with
 * (2 under guidance), and a whole sample as steps times that call, on the given provider.
 */
async function benchEveryModel(
  browser: Awaited<ReturnType<typeof launchChromium>>,
  base: string,
  provider: 'wasm' | 'webgpu',
) {
  const page = await quietPage(browser);
  await page.goto(`${base}/models/?ep=${provider}`, { waitUntil: 'networkidle' });
  const figure = page.locator('model-timings');
  await figure.getByLabel('Timed runs per model').selectOption(String(Math.max(3, Math.min(5, RUNS))));
  // Two passes; the second is reported. The first follows the download and session creation of all
  // fifteen models, and its timings scatter (garbage collection of the downloaded buffers): on WASM
  // here, mnist_ddpm's calls took 5-25 ms in a first pass and 4.6-5.1 ms in the next.
  for (let pass = 0; pass < 2; pass++) {
    await figure.getByRole('button', { name: 'Time every model' }).click();
    await page.waitForFunction(
      () => ['done', 'error'].includes(document.querySelector('model-timings')!.getAttribute('data-state')!),
      null,
      { timeout: 1_200_000 },
    );
  }
  const { state, status, result } = await figure.evaluate((el: any) => ({
    state: el.dataset.state,
    status: el.querySelector('.status-line').textContent,
    result: el.result,
  }));
  await page.close();
  if (state !== 'done') throw new Error(`model timings on ${provider}: ${status}`);
  const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`);
  return (
    result.rows as {
      id: string;
      batch: number;
      steps: number | null;
      firstMs: number;
      medianMs: number;
      sampleMs: number | null;
    }[]
  ).map((r) => [
    r.id,
    provider,
    `batch ${r.batch}`,
    ms(r.firstMs),
    ms(r.medianMs),
    r.sampleMs === null ? '' : `${r.steps} steps: ${ms(r.sampleMs)}`,
  ]);
}

async function main() {
  bytesReport();
  chapterBytesReport();
  offlineReport();
  const server = await preview({
    root: process.cwd(),
    logLevel: 'error',
    server: { host: '127.0.0.1', port: await freePort() },
  });
  const base = `http://127.0.0.1:${server.port}`;
  const browser = await launchChromium();
  const rows: (string | number)[][] = [];
  try {
    for (const provider of ['wasm', 'webgpu'] as const) {
      const page = await quietPage(browser);
      await page.goto(`${base}/models/?ep=${provider}`, { waitUntil: 'networkidle' });
      const steps = provider === 'wasm' ? 50 : WEBGPU_STEPS;
      const mnist = page.locator('mnist-sampler');
      await mnist.getByLabel('Steps').fill(String(steps));
      const first = await runFigure(page, 'mnist-sampler', 'Sample');
      if (first.state !== 'done') throw new Error(`MNIST on ${provider}: ${first.status}`);
      const totals: number[] = [];
      const stepMs: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const r = await runFigure(page, 'mnist-sampler', 'Sample');
        totals.push(r.result.totalMs);
        stepMs.push(...r.result.stepMs);
      }
      const m = manifest.models.mnist_ddpm;
      // Guidance runs the UNet on a batch of 2 each step.
      const flops = typeof m.flops_per_sample === 'number' ? 2 * m.flops_per_sample : NaN;
      const perStep = median(stepMs);
      rows.push([
        'mnist_ddpm (CFG, batch 2)',
        provider,
        `${perStep.toFixed(1)} ms`,
        `${steps} steps: ${(median(totals) / 1000).toFixed(3)} s`,
        mb(m.bytes),
        Number.isFinite(flops) ? `${(flops / 1e9).toFixed(3)} GFLOP` : '—',
        Number.isFinite(flops) ? (flops / 1e9 / (perStep / 1000)).toFixed(2) : '—',
      ]);

      const vaeFirst = await runFigure(page, 'vae-roundtrip', 'Encode and decode');
      if (vaeFirst.state !== 'done') throw new Error(`VAE on ${provider}: ${vaeFirst.status}`);
      const encode: number[] = [];
      const decode: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const r = await runFigure(page, 'vae-roundtrip', 'Encode and decode');
        encode.push(r.result.encodeMs);
        decode.push(r.result.decodeMs);
      }
      for (const [id, times] of [
        ['vae_encoder', encode],
        ['vae_decoder', decode],
      ] as const) {
        const e = manifest.models[id];
        const f = typeof e.flops_per_sample === 'number' ? e.flops_per_sample : NaN;
        rows.push([
          id,
          provider,
          `${median(times).toFixed(1)} ms`,
          '',
          mb(e.bytes),
          Number.isFinite(f) ? `${(f / 1e9).toFixed(3)} GFLOP` : '—',
          Number.isFinite(f) ? (f / 1e9 / (median(times) / 1000)).toFixed(2) : '—',
        ]);
      }
      rows.push(['vae round trip', provider, `${(median(encode) + median(decode)).toFixed(1)} ms`, '', '', '', '']);
      await page.close();
      rows.push(...(await benchTextToImage(browser, base, provider)));
    }
    const everyModel = [
      ...(await benchEveryModel(browser, base, 'wasm')),
      ...(await benchEveryModel(browser, base, 'webgpu')),
    ];
    await benchChapterFigures(browser, base);
    await benchInteractive(browser, base);
    console.log(
      `\nModel timings in Chromium (median of ${RUNS} runs after a warm-up run; WebGPU is SwiftShader on the CPU here)\n`,
    );
    table(['model', 'provider', 'per step / call', 'full sample', 'weights', 'FLOPs per call', 'GFLOP/s'], rows);
    console.log(
      '\nEvery model, one call on seeded inputs of its shapes (models page figure, second pass; a whole sample = steps x median call, that model alone)\n',
    );
    table(['model', 'provider', 'call', 'first call', 'per call (median)', 'whole sample'], everyModel);
  } finally {
    await browser.close();
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
