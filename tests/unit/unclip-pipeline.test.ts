/**
 * The unCLIP pipeline (src/lib/pipelines/unclip.ts) on the shipped weights with onnxruntime-node,
 * against the Python samplers of training/recipes/unclip_{prior,decoder}.py run on the same ONNX files
 * (tests/fixtures/unclip_reference.json, written by scripts/unclip_reference.py).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cosineSimilarity, sliceBatch, type Tensor } from '../../src/lib/diffusion/index';
import {
  decodeImageEmbeddings,
  embedImages,
  encodeText,
  samplePrior,
  slerpEmbeddings,
  type DecoderModels,
  type UnclipStage,
} from '../../src/lib/pipelines/unclip';
import { WordTokenizer } from '../../src/lib/pipelines/tokenizer';
import type { ModelRunner } from '../../src/lib/runtime/types';
import { maxAbsDiff } from '../helpers/compare';
import { nodeRunner } from '../helpers/node-runner';

const manifest = JSON.parse(readFileSync('public/weights/manifest.json', 'utf8'));
const reference = JSON.parse(readFileSync('tests/fixtures/unclip_reference.json', 'utf8'));
const models = manifest.models;
const path = (id: string) => `public/weights/${models[id].file}`;
const STALE = 'the reference was computed for other weights: run `.venv/bin/python scripts/unclip_reference.py`';

let tokenizer: WordTokenizer;
let textEncoder: ModelRunner;
let prior: UnclipStage;
let decoder: DecoderModels;

beforeAll(async () => {
  tokenizer = new WordTokenizer(JSON.parse(readFileSync(`public/weights/${models.clip_text.tokenizer.file}`, 'utf8')));
  textEncoder = await nodeRunner('clip_text', path('clip_text'));
  prior = {
    model: await nodeRunner('unclip_prior', path('unclip_prior')),
    scheduler: models.unclip_prior.scheduler,
    sampling: models.unclip_prior.recommended_sampling,
  };
  decoder = {
    decoder: {
      model: await nodeRunner('unclip_decoder', path('unclip_decoder')),
      scheduler: models.unclip_decoder.scheduler,
      sampling: models.unclip_decoder.recommended_sampling,
    },
    vaeDecoder: await nodeRunner('vae_decoder', path('vae_decoder')),
    scalingFactor: models.vae_decoder.scaling_factor,
    latentShape: [4, 8, 8],
  };
});

describe('unCLIP on the shipped weights against the Python samplers', () => {
  it('the reference belongs to the shipped files', () => {
    for (const id of ['clip_text', 'unclip_prior', 'unclip_decoder', 'vae_decoder']) {
      expect(models[id].sha256, `${id}: ${STALE}`).toBe(reference.onnx_sha256[id]);
    }
  });

  it('prior: 5 guided DDIM steps give the Python embedding', async () => {
    const text = await encodeText(textEncoder, tokenizer, ['', reference.prompt]);
    const ref = reference.prior;
    const result = await samplePrior(prior, text, {
      numInferenceSteps: ref.steps,
      guidanceScale: ref.guidance_scale,
      latents: { data: Float32Array.from(ref.latents), shape: [1, 64] },
    });
    // Leading spacing with steps_offset 1, as the manifest recommends: 1000 / 5 = 200 apart.
    expect(result.timesteps).toEqual([801, 601, 401, 201, 1]);
    // Same ONNX file, two onnxruntime builds, float32 scheduler maths in both: measured ~1e-5.
    expect(maxAbsDiff(result.imageEmbeds.data, ref.image_embeds)).toBeLessThan(1e-3);
  });

  it('decoder: 5 guided DDIM steps from the Python embedding give the Python picture', async () => {
    const ref = reference.decoder;
    const result = await decodeImageEmbeddings(
      decoder,
      { data: Float32Array.from(reference.prior.image_embeds), shape: [1, 64] },
      {
        seeds: [0],
        numInferenceSteps: ref.steps,
        guidanceScale: ref.guidance_scale,
        latents: { data: Float32Array.from(ref.latents), shape: [1, 4, 8, 8] },
      },
    );
    expect(result.images.shape).toEqual([1, 3, 32, 32]);
    expect(maxAbsDiff(result.images.data, ref.image)).toBeLessThan(1e-3);
  });
});

describe('unCLIP pipeline behaviour', () => {
  const embedding = (): Tensor => ({ data: Float32Array.from(reference.prior.image_embeds), shape: [1, 64] });

  it('a picture depends on its own embedding and seed only, not on the rest of the batch', async () => {
    const e = embedding();
    const other = { data: e.data.map((v, i) => (i % 2 ? v : -v)), shape: [1, 64] };
    const alone = await decodeImageEmbeddings(decoder, e, { seeds: [7], numInferenceSteps: 3 });
    const batched = await decodeImageEmbeddings(
      decoder,
      { data: Float32Array.from([...other.data, ...e.data]), shape: [2, 64] },
      { seeds: [8, 7], numInferenceSteps: 3 },
    );
    // Batch size changes onnxruntime's kernel blocking: equal to float rounding, not bit for bit.
    expect(maxAbsDiff(sliceBatch(batched.images, 1).data, alone.images.data)).toBeLessThan(1e-4);
    const again = await decodeImageEmbeddings(decoder, e, { seeds: [7], numInferenceSteps: 3 });
    expect(again.images.data).toEqual(alone.images.data);
    const reseeded = await decodeImageEmbeddings(decoder, e, { seeds: [9], numInferenceSteps: 3 });
    expect(maxAbsDiff(reseeded.images.data, alone.images.data)).toBeGreaterThan(0.05);
  });

  it('slerp endpoints decode to the endpoints themselves', async () => {
    const a = embedding();
    const b = { data: a.data.slice().reverse(), shape: [1, 64] };
    const path = slerpEmbeddings(a, b, 3);
    expect(sliceBatch(path, 0).data).toEqual(a.data);
    expect(sliceBatch(path, 2).data).toEqual(b.data);
    const walk = await decodeImageEmbeddings(decoder, path, { seeds: [1, 1, 1], numInferenceSteps: 3 });
    const end = await decodeImageEmbeddings(decoder, b, { seeds: [1], numInferenceSteps: 3 });
    expect(maxAbsDiff(sliceBatch(walk.images, 2).data, end.images.data)).toBeLessThan(1e-4);
  });

  it('the prior runs the prompt alone at guidance 1, and its embedding is near real images of its caption', async () => {
    const text = await encodeText(textEncoder, tokenizer, ['', 'red heart']);
    const calls: number[] = [];
    const counting: UnclipStage = {
      ...prior,
      model: {
        id: 'unclip_prior',
        run: (feeds, options) => {
          calls.push((feeds.sample as Tensor).shape[0]);
          return prior.model.run(feeds, options);
        },
      },
    };
    const result = await samplePrior(counting, text, { guidanceScale: 1, numInferenceSteps: 4, seed: 3 });
    expect(calls).toEqual([1, 1, 1, 1]);
    expect(result.imageEmbeds.shape).toEqual([1, 64]);
    // Norm ~ sqrt(64): the prior predicts embeddings on the unit-rms scale it was trained on.
    const norm = Math.hypot(...result.imageEmbeds.data);
    expect(norm).toBeGreaterThan(5);
    expect(norm).toBeLessThan(11);
    // The decoder's picture of it, re-embedded by CLIP's image tower, should agree with the text.
    const picture = await decodeImageEmbeddings(decoder, result.imageEmbeds, { seeds: [0], numInferenceSteps: 10 });
    const imageEncoder = await nodeRunner('clip_image', path('clip_image'));
    const back = await embedImages(imageEncoder, picture.images);
    expect(cosineSimilarity(back, result.imageEmbeds).data[0]).toBeGreaterThan(0.4);
  });

  it('refuses a seed list that does not match the embeddings', async () => {
    await expect(decodeImageEmbeddings(decoder, embedding(), { seeds: [1, 2] })).rejects.toThrow(/2 seeds for 1/);
  });
});
