/**
 * The shipped models run in Chromium on both execution providers (WebGPU: SwiftShader's adapter
 * here, correct but slow, so runs are short), agree with each other and with onnxruntime-node on
 * the same files, and the figure names the provider that ran.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { sampleMnist } from '../../src/lib/pipelines/mnist';
import { vaeRoundTrip } from '../../src/lib/pipelines/vae';
import { textToImage } from '../../src/lib/pipelines/text-to-image';
import { WordTokenizer } from '../../src/lib/pipelines/tokenizer';
import { nodeRunner } from '../helpers/node-runner';
import { launchChromium, openPage, type Browser } from './browser';
import { maxAbsDiff } from '../helpers/compare';

const manifest = JSON.parse(readFileSync('public/weights/manifest.json', 'utf8'));
const weights = (id: string) => `public/weights/${manifest.models[id].file}`;
const PROVIDERS = ['wasm', 'webgpu'] as const;
const MNIST = { classLabel: 7, guidanceScale: 2, scheduler: 'ddim' as const, numInferenceSteps: 3, seed: 11 };

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function runFigure(page: Page, selector: string, button: string): Promise<any> {
  const figure = page.locator(selector);
  await figure.getByRole('button', { name: button }).click();
  await page.waitForFunction(
    (s) => ['done', 'error'].includes((document.querySelector(s) as HTMLElement).dataset.state!),
    selector,
    {
      timeout: 240_000,
    },
  );
  const status = await figure.locator('.status-line').textContent();
  expect(await figure.getAttribute('data-state'), status ?? '').toBe('done');
  return figure.evaluate((el: any) => ({
    status: el.querySelector('.status-line').textContent,
    provider: el.querySelector('.model-status').dataset.provider,
    image: el.result.image ? Array.from(el.result.image.data) : null,
    reconstruction: el.result.reconstruction ? Array.from(el.result.reconstruction.data) : null,
    latent: el.result.latent ? Array.from(el.result.latent.data) : null,
    input: el.result.input ? Array.from(el.result.input.data) : null,
  }));
}

describe('MNIST sample on both providers', () => {
  const results: Record<string, number[]> = {};

  for (const provider of PROVIDERS) {
    it(`runs on ${provider} and says so`, async () => {
      const { page, errors } = await openPage(browser, `/models/?ep=${provider}`);
      const figure = page.locator('mnist-sampler');
      await figure.getByLabel('Digit').selectOption(String(MNIST.classLabel));
      await figure.getByLabel('Steps').fill(String(MNIST.numInferenceSteps));
      await figure.getByLabel('Seed').fill(String(MNIST.seed));
      const out = await runFigure(page, 'mnist-sampler', 'Sample');
      expect(out.provider).toBe(provider);
      expect(out.status).toContain(provider === 'webgpu' ? 'WebGPU' : 'WebAssembly');
      results[provider] = out.image;
      expect(errors).toEqual([]);
      await page.close();
    });
  }

  it('WebGPU, WASM and onnxruntime-node agree', async () => {
    const unet = await nodeRunner('mnist_ddpm', weights('mnist_ddpm'));
    const node = await sampleMnist(unet, manifest.models.mnist_ddpm.scheduler, MNIST);
    // Same graph, same float32 inputs; kernels differ in summation order: 1e-3 after 3 steps.
    expect(maxAbsDiff(results.wasm, node.image.data)).toBeLessThan(1e-3);
    expect(maxAbsDiff(results.webgpu, node.image.data)).toBeLessThan(1e-3);
  });
});

describe('VAE round trip on both providers', () => {
  const results: Record<string, { reconstruction: number[]; latent: number[]; input: number[] }> = {};

  for (const provider of PROVIDERS) {
    it(`runs on ${provider}`, async () => {
      const { page, errors } = await openPage(browser, `/models/?ep=${provider}`);
      const out = await runFigure(page, 'vae-roundtrip', 'Encode and decode');
      expect(out.provider).toBe(provider);
      expect(out.status).toMatch(/PSNR \d+\.\d dB/);
      results[provider] = out;
      expect(errors).toEqual([]);
      await page.close();
    });
  }

  it('agrees across providers and with onnxruntime-node on the same picture', async () => {
    expect(maxAbsDiff(results.wasm.latent, results.webgpu.latent)).toBeLessThan(1e-3);
    expect(maxAbsDiff(results.wasm.reconstruction, results.webgpu.reconstruction)).toBeLessThan(1e-3);
    // Node runs the same round trip on the picture the browser decoded and resized.
    const node = await vaeRoundTrip(
      await nodeRunner('vae_encoder', weights('vae_encoder')),
      await nodeRunner('vae_decoder', weights('vae_decoder')),
      { data: Float32Array.from(results.wasm.input), shape: [1, 3, 32, 32] },
    );
    expect(maxAbsDiff(results.wasm.latent, node.latent.data)).toBeLessThan(1e-4);
    expect(maxAbsDiff(results.wasm.reconstruction, node.reconstruction.data)).toBeLessThan(1e-4);
  });
});

describe('text to image on both providers (text states kept on the GPU under WebGPU)', () => {
  const SETTINGS = { prompt: 'red heart', guidanceScale: 5, numInferenceSteps: 2, seed: 5 };
  const results: Record<string, number[]> = {};

  for (const provider of PROVIDERS) {
    it(`runs on ${provider}`, async () => {
      const { page, errors } = await openPage(browser, `/chapters/stable-diffusion/?ep=${provider}`);
      const figure = page.locator('text-to-image-figure');
      await figure.getByLabel('Prompt', { exact: true }).fill(SETTINGS.prompt);
      await figure.getByLabel('Guidance scale', { exact: true }).fill(String(SETTINGS.guidanceScale));
      await figure.getByLabel('Steps', { exact: true }).fill(String(SETTINGS.numInferenceSteps));
      await figure.getByLabel('Seed', { exact: true }).fill(String(SETTINGS.seed));
      const out = await runFigure(page, 'text-to-image-figure', 'Generate');
      expect(out.provider).toBe(provider);
      results[provider] = out.image;
      expect(errors).toEqual([]);
      await page.close();
    });
  }

  it('WebGPU, WASM and onnxruntime-node agree', async () => {
    const tokenizerFile = `public/weights/${manifest.models.clip_text.tokenizer.file}`;
    const node = await textToImage(
      {
        tokenizer: new WordTokenizer(JSON.parse(readFileSync(tokenizerFile, 'utf8'))),
        textEncoder: await nodeRunner('clip_text', weights('clip_text')),
        unet: await nodeRunner('sd_unet', weights('sd_unet')),
        vaeDecoder: await nodeRunner('vae_decoder', weights('vae_decoder')),
        scheduler: manifest.models.sd_unet.scheduler,
        scalingFactor: manifest.models.vae_decoder.scaling_factor,
        latentShape: [4, 8, 8],
        addedConditions: true,
      },
      { ...SETTINGS, scheduler: 'ddim' },
    );
    // Two guided steps through three networks; kernels differ in summation order: 1e-3.
    expect(maxAbsDiff(results.wasm, node.image.data)).toBeLessThan(1e-3);
    expect(maxAbsDiff(results.webgpu, node.image.data)).toBeLessThan(1e-3);
  });
});
