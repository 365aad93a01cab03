/**
 * The text-to-image pipeline on tiny fixture ONNX models (tests/fixtures/onnx), run with
 * onnxruntime-node and compared with an independent NumPy implementation of the same loop.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { textToImage, type TextToImageModels } from '../../src/lib/pipelines/text-to-image';
import { WordTokenizer } from '../../src/lib/pipelines/tokenizer';
import { nodeRunner } from '../helpers/node-runner';
import { maxAbsDiff } from '../helpers/compare';

const DIR = 'tests/fixtures/onnx';
const reference = JSON.parse(readFileSync(`${DIR}/text_to_image_reference.json`, 'utf8'));
const tokenizer = new WordTokenizer(JSON.parse(readFileSync(`${DIR}/tokenizer.json`, 'utf8')));

let models: TextToImageModels;
beforeAll(async () => {
  models = {
    tokenizer,
    textEncoder: await nodeRunner('text_encoder', `${DIR}/text_encoder.onnx`),
    unet: await nodeRunner('unet', `${DIR}/unet.onnx`),
    vaeDecoder: await nodeRunner('vae_decoder', `${DIR}/vae_decoder.onnx`),
    scheduler: reference.scheduler,
    scalingFactor: reference.scaling_factor,
    latentShape: [4, 8, 8],
  };
});

describe('WordTokenizer', () => {
  it('encodes like the Python reference, with CLIP layout', () => {
    expect(tokenizer.encode(reference.prompt).ids).toEqual(reference.prompt_ids);
    expect(tokenizer.encode('').ids).toEqual(reference.uncond_ids);
  });

  it('reports unknown and truncated words', () => {
    const enc = tokenizer.encode(reference.prompt);
    expect(enc.unknown).toEqual(['with']);
    expect(enc.dropped).toEqual(['zebra']);
    expect(enc.tokens.map((t) => t.kind)).toEqual(['bos', 'word', 'word', 'word', 'word', 'unknown', 'word', 'eos']);
  });

  it('folds accents and case, and never lets markup through as words', () => {
    expect(
      tokenizer
        .encode('CAT Fâce')
        .tokens.slice(1, 3)
        .map((t) => t.text),
    ).toEqual(['cat', 'face']);
    const markup = tokenizer.encode('<b>heart</b>');
    expect(markup.tokens.filter((t) => t.kind !== 'pad').map((t) => t.text)).toEqual(['BOS', 'b', 'heart', 'b', 'EOS']);
  });
});

describe('textToImage', () => {
  it('matches the NumPy DDIM + CFG reference on the fixture models', async () => {
    const steps: number[] = [];
    const result = await textToImage(models, {
      prompt: reference.prompt,
      guidanceScale: reference.guidance_scale,
      numInferenceSteps: reference.num_inference_steps,
      scheduler: 'ddim',
      latents: { data: Float32Array.from(reference.latents), shape: [1, 4, 8, 8] },
      onStep: (s) => steps.push(s.timestep),
    });
    expect(result.timesteps).toEqual(reference.timesteps);
    expect(steps).toEqual(reference.timesteps);
    // float32 through five UNet calls and two independent implementations: 1e-4 absolute.
    expect(maxAbsDiff(result.latents.data, reference.final_latents)).toBeLessThan(1e-4);
    expect(maxAbsDiff(result.image.data, reference.image)).toBeLessThan(1e-4);
    expect(result.image.shape).toEqual([1, 3, 32, 32]);
  });

  it('gives the same image for the same seed, another for another seed', async () => {
    const run = (seed: number) => textToImage(models, { prompt: 'red heart', numInferenceSteps: 4, seed });
    const [a, b, c] = await Promise.all([run(3), run(3), run(4)]);
    expect(maxAbsDiff(a.image.data, b.image.data)).toBe(0);
    expect(maxAbsDiff(a.image.data, c.image.data)).toBeGreaterThan(1e-3);
  });

  it('runs one batch without guidance and two with it', async () => {
    const batches: number[] = [];
    const counting = {
      ...models.unet,
      run: (feeds: any, o: any) => (batches.push(feeds.sample.shape[0]), models.unet.run(feeds, o)),
    };
    await textToImage({ ...models, unet: counting }, { prompt: 'cat', guidanceScale: 1, numInferenceSteps: 2 });
    await textToImage({ ...models, unet: counting }, { prompt: 'cat', guidanceScale: 3, numInferenceSteps: 2 });
    expect(batches).toEqual([1, 1, 2, 2]);
  });

  it('runs a batched sweep with SDXL added conditions like the NumPy reference', async () => {
    const sweep = reference.sweep;
    const unet = await nodeRunner('unet_added_conds', `${DIR}/unet_added_conds.onnx`);
    const maps: number[][] = [];
    const result = await textToImage(
      { ...models, unet, addedConditions: true },
      {
        prompt: reference.prompt,
        numInferenceSteps: sweep.num_inference_steps,
        latents: { data: Float32Array.from(reference.latents), shape: [1, 4, 8, 8] },
        variants: sweep.variants.map((v: { guidance_scale: number; time_ids: number[] }) => ({
          guidanceScale: v.guidance_scale,
          originalSize: [v.time_ids[0], v.time_ids[1]],
          cropsCoordsTopLeft: [v.time_ids[2], v.time_ids[3]],
        })),
        onStep: (s) => {
          expect(s.noisePredUncond?.shape).toEqual([3, 4, 8, 8]);
          maps.push(Array.from(s.crossAttentionProbs!.data));
        },
      },
    );
    expect(result.latents.shape).toEqual([3, 4, 8, 8]);
    expect(result.image.shape).toEqual([3, 3, 32, 32]);
    expect(maxAbsDiff(result.latents.data, sweep.final_latents)).toBeLessThan(1e-4);
    const mean = maps[0].map((_, i) => maps.reduce((sum, m) => sum + m[i], 0) / maps.length);
    expect(maxAbsDiff(mean, sweep.mean_cross_attention_probs)).toBeLessThan(1e-5);
  });

  it('stops when aborted, with an AbortError', async () => {
    const controller = new AbortController();
    const run = textToImage(models, {
      prompt: 'cat',
      numInferenceSteps: 10,
      signal: controller.signal,
      onStep: (s) => s.index === 2 && controller.abort(),
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });
});
