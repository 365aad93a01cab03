/**
 * The pipelines on the shipped weights (public/weights), run with onnxruntime-node, against outputs
 * of the trained PyTorch modules written by `python -m training.pipeline_reference`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sampleMnist } from '../../src/lib/pipelines/mnist';
import { vaeRoundTrip } from '../../src/lib/pipelines/vae';
import { textToImage } from '../../src/lib/pipelines/text-to-image';
import { WordTokenizer } from '../../src/lib/pipelines/tokenizer';
import { nodeRunner } from '../helpers/node-runner';
import { maxAbsDiff } from '../helpers/compare';

const manifest = JSON.parse(readFileSync('public/weights/manifest.json', 'utf8'));
const reference = JSON.parse(readFileSync('tests/fixtures/pipeline_reference.json', 'utf8'));
const path = (id: string) => `public/weights/${manifest.models[id].file}`;

const STALE = 'the reference was computed for other weights: run `python -m training.pipeline_reference`';

describe('MNIST pipeline on the shipped UNet', () => {
  const ref = reference.mnist;

  it('the reference belongs to the shipped file', () => {
    expect(manifest.models.mnist_ddpm.sha256, STALE).toBe(ref.onnx_sha256);
  });

  it('10 DDIM steps with guidance match PyTorch', async () => {
    const unet = await nodeRunner('mnist_ddpm', path('mnist_ddpm'));
    const result = await sampleMnist(unet, manifest.models.mnist_ddpm.scheduler, {
      classLabel: ref.class_label,
      guidanceScale: ref.guidance_scale,
      scheduler: 'ddim',
      numInferenceSteps: ref.num_inference_steps,
      seed: 0,
      latents: { data: Float32Array.from(ref.latents), shape: [1, 1, 32, 32] },
    });
    expect(result.timesteps).toEqual(ref.timesteps);
    // PyTorch vs onnxruntime kernels through 10 guided steps with clipping (measured 4e-6 here): 1e-4.
    expect(maxAbsDiff(result.image.data, ref.image)).toBeLessThan(1e-4);
  });
});

describe('VAE round trip on the shipped encoder and decoder', () => {
  const ref = reference.vae;

  it('the reference belongs to the shipped files', () => {
    expect(manifest.models.vae_encoder.sha256, STALE).toBe(ref.onnx_sha256.vae_encoder);
    expect(manifest.models.vae_decoder.sha256, STALE).toBe(ref.onnx_sha256.vae_decoder);
  });

  it('latent mean and reconstruction match PyTorch', async () => {
    const result = await vaeRoundTrip(
      await nodeRunner('vae_encoder', path('vae_encoder')),
      await nodeRunner('vae_decoder', path('vae_decoder')),
      { data: Float32Array.from(ref.input), shape: [1, 3, 32, 32] },
    );
    expect(maxAbsDiff(result.latentMean.data, ref.latent_mean)).toBeLessThan(1e-4);
    expect(maxAbsDiff(result.latentLogvar.data, ref.latent_logvar)).toBeLessThan(1e-4);
    expect(maxAbsDiff(result.reconstruction.data, ref.reconstruction)).toBeLessThan(1e-4);
    expect(result.psnr).toBeGreaterThan(20);
  });
});

describe('text-to-image pipeline on the shipped mini Stable Diffusion', () => {
  const ref = reference.text_to_image;

  it('the reference belongs to the shipped files', () => {
    expect(manifest.models.sd_unet.sha256, STALE).toBe(ref.onnx_sha256.sd_unet);
    expect(manifest.models.clip_text.sha256, STALE).toBe(ref.onnx_sha256.clip_text);
  });

  it('5 DDIM steps with guidance and micro-conditioning match PyTorch', async () => {
    const tokenizer = new WordTokenizer(
      JSON.parse(readFileSync(`public/weights/${manifest.models.clip_text.tokenizer.file}`, 'utf8')),
    );
    const result = await textToImage(
      {
        tokenizer,
        textEncoder: await nodeRunner('clip_text', path('clip_text')),
        unet: await nodeRunner('sd_unet', path('sd_unet')),
        vaeDecoder: await nodeRunner('vae_decoder', path('vae_decoder')),
        scheduler: manifest.models.sd_unet.scheduler,
        scalingFactor: manifest.models.vae_decoder.scaling_factor,
        latentShape: [4, 8, 8],
        addedConditions: true,
      },
      {
        prompt: ref.prompt,
        guidanceScale: ref.guidance_scale,
        numInferenceSteps: ref.num_inference_steps,
        originalSize: ref.original_size,
        scheduler: 'ddim',
        latents: { data: Float32Array.from(ref.latents), shape: [1, 4, 8, 8] },
      },
    );
    expect(result.timesteps).toEqual(ref.timesteps);
    // The reference rounds the UNet's weights through float16 as the export stores them, so what is
    // left is kernel order and float32 rounding through 5 guided steps: 1e-3 absolute.
    expect(maxAbsDiff(result.latents.data, ref.final_latents)).toBeLessThan(1e-3);
    expect(maxAbsDiff(result.image.data, ref.image)).toBeLessThan(1e-3);
  });
});
