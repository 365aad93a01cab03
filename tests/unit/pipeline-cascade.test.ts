/**
 * The pixel cascade (GLIDE / Imagen) on the shipped weights, run with onnxruntime-node: the base model's
 * three x0 treatments and the upsampler against the training recipes' own sampling loops
 * (tests/fixtures/cascade/make_reference.py), plus the pure pieces (bilinear upsampling, the
 * augmentation's alpha-bar) against PyTorch numbers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { augmentationAlphaCumprod, noiseAugment } from '../../src/lib/diffusion/augmentation';
import { alphasCumprod, betaSchedule, sliceBatch, tensor, type Tensor } from '../../src/lib/diffusion/index';
import { downsampleBox, resizeBicubic, resizeBilinear, upsampleNearest } from '../../src/lib/image/resize';
import {
  consistencyProjection,
  encodePrompt,
  sampleBase,
  superResolve,
  type CascadeModels,
  type PromptStates,
} from '../../src/lib/pipelines/cascade';
import { WordTokenizer } from '../../src/lib/pipelines/tokenizer';
import type { TrainedSchedulerConfig } from '../../src/lib/runtime/manifest';
import { maxAbsDiff } from '../helpers/compare';
import { nodeRunner } from '../helpers/node-runner';

const WEIGHTS = 'public/weights';
const SR_FILE = `${WEIGHTS}/cascade_sr.onnx`;
const hasSuperRes = existsSync(SR_FILE);
const reference = JSON.parse(readFileSync('tests/fixtures/cascade/reference.json', 'utf8'));
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

// The recipes' schedule (manifest `scheduler`), so these tests do not wait for a manifest entry.
const COSINE: TrainedSchedulerConfig = {
  num_train_timesteps: 1000,
  beta_schedule: 'squaredcos_cap_v2',
  beta_start: 0.0001,
  beta_end: 0.02,
  prediction_type: 'epsilon',
};
const V_COSINE: TrainedSchedulerConfig = { ...COSINE, prediction_type: 'v_prediction' };

let models: Required<CascadeModels>;
let prompt: PromptStates;
let empty: PromptStates;
beforeAll(async () => {
  const tokenizer = new WordTokenizer(JSON.parse(readFileSync(`${WEIGHTS}/tokenizer.json`, 'utf8')));
  models = {
    tokenizer,
    textEncoder: await nodeRunner('clip_text', `${WEIGHTS}/clip_text.onnx`),
    base: { unet: await nodeRunner('cascade_base', `${WEIGHTS}/cascade_base.onnx`), scheduler: COSINE },
    superRes: hasSuperRes
      ? { unet: await nodeRunner('cascade_sr', SR_FILE), scheduler: V_COSINE }
      : (undefined as never),
  };
  prompt = { hidden: tensor(reference.hidden, [1, 16, 64]), embeds: tensor(reference.embeds, [1, 64]) };
  empty = { hidden: tensor(reference.empty_hidden, [1, 16, 64]), embeds: tensor(reference.empty_embeds, [1, 64]) };
});

const fixtureNote = 'regenerate with: PYTHONPATH=. .venv/bin/python tests/fixtures/cascade/make_reference.py';

describe('resizeBilinear', () => {
  it('matches F.interpolate(mode="bilinear", align_corners=False) on a 2x2 -> 4x4 ramp', () => {
    // torch.nn.functional.interpolate(torch.tensor([[[[0., 1.], [2., 3.]]]]), size=4, mode="bilinear")
    const out = resizeBilinear(tensor([0, 1, 2, 3], [1, 1, 2, 2]), 4, 4);
    // prettier-ignore
    expect(Array.from(out.data)).toEqual([
      0, 0.25, 0.75, 1,
      0.5, 0.75, 1.25, 1.5,
      1.5, 1.75, 2.25, 2.5,
      2, 2.25, 2.75, 3,
    ]);
  });

  it('matches the recipe upsampling of a 16 px base sample (PyTorch, float32)', () => {
    const low = tensor(reference.base.dynamic, [1, 3, 16, 16]);
    expect(maxAbsDiff(resizeBilinear(low, 32, 32).data, reference.sr_upsampled)).toBeLessThan(1e-6);
  });
});

describe('resizeBicubic and upsampleNearest', () => {
  it('matches F.interpolate(mode="bicubic", align_corners=False) on a 2x2 -> 4x4 ramp, overshoot kept', () => {
    // torch.nn.functional.interpolate(torch.tensor([[[[0., 1.], [2., 3.]]]]), size=4, mode="bicubic")
    const out = resizeBicubic(tensor([0, 1, 2, 3], [1, 1, 2, 2]), 4, 4);
    // prettier-ignore
    const torch = [
      -0.31640625, 0.015625, 0.5625, 0.89453125,
      0.34765625, 0.6796875, 1.2265625, 1.55859375,
      1.44140625, 1.7734375, 2.3203125, 2.65234375,
      2.10546875, 2.4375, 2.984375, 3.31640625,
    ];
    expect(maxAbsDiff(out.data, torch)).toBeLessThan(1e-6);
  });

  it('matches PyTorch bicubic on a 16 px base sample', () => {
    const low = tensor(reference.base.dynamic, [1, 3, 16, 16]);
    expect(maxAbsDiff(resizeBicubic(low, 32, 32).data, reference.bicubic)).toBeLessThan(1e-5);
  });

  it('nearest upsampling repeats each pixel in a 2x2 block, and the box filter undoes it', () => {
    const t = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    expect(Array.from(upsampleNearest(t, 2).data)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    expect(Array.from(downsampleBox(upsampleNearest(t, 2), 2).data)).toEqual([1, 2, 3, 4]);
  });
});

describe('consistencyProjection', () => {
  it("gives every image of the batch the input's 2x2 means and keeps each block's detail", () => {
    const low = tensor(reference.base.dynamic, [1, 3, 16, 16]);
    const x0 = tensor(
      Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(0.37 * i)),
      [2, 3, 32, 32],
    );
    const projected = consistencyProjection(low)(x0);
    for (const i of [0, 1]) {
      expect(maxAbsDiff(downsampleBox(sliceBatch(projected, i), 2).data, low.data)).toBeLessThan(1e-6);
    }
    // the offset is constant inside a 2x2 block: differences between a block's pixels are untouched
    const d = (t: Tensor, k: number) => t.data[k + 1] - t.data[k];
    expect(Math.abs(d(projected, 0) - d(x0, 0))).toBeLessThan(1e-6);
  });
});

describe('noise conditioning augmentation', () => {
  const ac = alphasCumprod(betaSchedule('squaredcos_cap_v2', 1000, 0.0001, 0.02));

  it('uses alpha-bar 1 at level 0 and alphas_cumprod[k - 1] at k = round(level * T)', () => {
    expect(augmentationAlphaCumprod(ac, 0)).toEqual({ k: 0, alphaProd: 1 });
    expect(augmentationAlphaCumprod(ac, 0.1)).toEqual({ k: 100, alphaProd: ac[99] });
    expect(augmentationAlphaCumprod(ac, 1)).toEqual({ k: 1000, alphaProd: ac[999] });
    // Half-way between grid points rounds to even, as torch.round: 0.0125 * 1000 = 12.5 -> 12.
    expect(augmentationAlphaCumprod(ac, 0.0125).k).toBe(12);
    expect(() => augmentationAlphaCumprod(ac, 1.5)).toThrow(/\[0, 1\]/);
  });

  it('matches the recipe augment() at level 0.3', () => {
    const up = tensor(reference.sr_upsampled, [1, 3, 32, 32]);
    const noise = tensor(reference.sr_augmentation_noise, [1, 3, 32, 32]);
    expect(maxAbsDiff(noiseAugment(up, noise, ac, 0.3).data, reference['sr_augmented_0.3'])).toBeLessThan(1e-6);
    expect(noiseAugment(up, noise, ac, 0).data).toEqual(up.data);
  });
});

describe('encodePrompt', () => {
  it('gives the same states as clip_text.onnx in Python', async () => {
    const states = await encodePrompt(models, reference.prompt);
    expect(states.encoding.ids).toEqual(reference.prompt_ids);
    expect(states.hidden.shape).toEqual([1, 16, 64]);
    expect(maxAbsDiff(states.hidden.data, reference.hidden)).toBeLessThan(1e-5);
    expect(maxAbsDiff(states.embeds.data, reference.embeds)).toBeLessThan(1e-5);
  });
});

describe('sampleBase', () => {
  const noise = () => tensor(reference.base_noise, [1, 3, 16, 16]);
  const options = () => ({
    prompt,
    empty,
    guidanceScale: reference.guidance_scale,
    numInferenceSteps: reference.num_inference_steps,
    seed: 0,
    noise: noise(),
  });

  it('runs the weights the fixture was made from', () => {
    expect(sha256(`${WEIGHTS}/cascade_base.onnx`), fixtureNote).toBe(reference.base_sha256);
  });

  it('matches the recipe DDIM + CFG loop with no thresholding, static clipping and dynamic thresholding', async () => {
    const { ratio, max_value: maxValue } = reference.dynamic;
    const result = await sampleBase(models, {
      ...options(),
      thresholding: { kind: 'static' },
      variants: [{ thresholding: { kind: 'none' } }, {}, { thresholding: { kind: 'dynamic', ratio, maxValue } }],
    });
    expect(result.image.shape).toEqual([3, 3, 16, 16]);
    expect(result.timesteps).toEqual([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    // float32 through ten batched UNet runs in two implementations: 1e-4 absolute on [-1, 1] pixels.
    expect(maxAbsDiff(sliceBatch(result.image, 0).data, reference.base.none)).toBeLessThan(1e-4);
    expect(maxAbsDiff(sliceBatch(result.image, 1).data, reference.base.static)).toBeLessThan(1e-4);
    expect(maxAbsDiff(sliceBatch(result.image, 2).data, reference.base.dynamic)).toBeLessThan(1e-4);
    // At guidance 7.5 the three treatments of x0 give visibly different pictures.
    expect(maxAbsDiff(reference.base.none, reference.base.static)).toBeGreaterThan(0.05);
    expect(maxAbsDiff(reference.base.static, reference.base.dynamic)).toBeGreaterThan(0.05);
  });

  it('runs one batch without guidance and [empty, prompt] with it', async () => {
    const batches: number[] = [];
    const counting = {
      ...models.base.unet,
      run: (feeds: any, o: any) => (batches.push(feeds.sample.shape[0]), models.base.unet.run(feeds, o)),
    };
    const base = { ...models.base, unet: counting };
    const run = (guidanceScale: number) =>
      sampleBase({ base }, { ...options(), guidanceScale, numInferenceSteps: 2, thresholding: { kind: 'static' } });
    await run(1);
    await run(5);
    expect(batches).toEqual([1, 1, 2, 2]);
  });

  it('gives the same image for the same seed, another for another seed', async () => {
    const run = (seed: number) =>
      sampleBase(models, {
        prompt,
        empty,
        guidanceScale: 3,
        numInferenceSteps: 4,
        seed,
        thresholding: { kind: 'static' },
      });
    const [a, b, c] = [await run(3), await run(3), await run(4)];
    expect(maxAbsDiff(a.image.data, b.image.data)).toBe(0);
    expect(maxAbsDiff(a.image.data, c.image.data)).toBeGreaterThan(1e-2);
  });

  it('keeps the known pixels when inpainting and fills the rest', async () => {
    const known = tensor(reference.base.static, [1, 3, 16, 16]);
    const mask = new Float32Array(256).map((_, i) => (i % 16 < 8 ? 1 : 0)); // keep the left half
    const result = await sampleBase(models, {
      ...options(),
      seed: 7,
      noise: undefined,
      thresholding: { kind: 'static' },
      inpaint: { image: known, mask },
    });
    const left = (t: ArrayLike<number>) => Array.from(t).filter((_, i) => i % 16 < 8);
    const right = (t: ArrayLike<number>) => Array.from(t).filter((_, i) => i % 16 >= 8);
    expect(maxAbsDiff(left(result.image.data), left(known.data))).toBeLessThan(1e-6);
    expect(maxAbsDiff(right(result.image.data), right(known.data))).toBeGreaterThan(1e-2);
    await expect(
      sampleBase(models, {
        ...options(),
        thresholding: { kind: 'none' },
        inpaint: { image: known, mask: new Float32Array(10) },
      }),
    ).rejects.toThrow(/256/);
  });

  it('stops when aborted, with an AbortError', async () => {
    const controller = new AbortController();
    const run = sampleBase(models, {
      ...options(),
      thresholding: { kind: 'static' },
      signal: controller.signal,
      onStep: (s) => s.index === 1 && controller.abort(),
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe.skipIf(!hasSuperRes)('superResolve', () => {
  const lowRes = (): Tensor => tensor(reference.base.dynamic, [1, 3, 16, 16]);

  it('runs the weights the fixture was made from', () => {
    expect(sha256(SR_FILE), fixtureNote).toBe(reference.sr_sha256);
  });

  it('matches the recipe super_resolve() at noise levels 0 and 0.3 in one batch', async () => {
    const result = await superResolve(models, {
      lowRes: lowRes(),
      noiseLevel: 0,
      noiseLevels: [0, 0.3],
      prompt,
      numInferenceSteps: reference.num_inference_steps,
      seed: 0,
      noise: tensor(reference.sr_noise, [1, 3, 32, 32]),
      augmentationNoise: tensor(reference.sr_augmentation_noise, [1, 3, 32, 32]),
    });
    expect(result.image.shape).toEqual([2, 3, 32, 32]);
    expect(maxAbsDiff(result.upsampled.data, reference.sr_upsampled)).toBeLessThan(1e-6);
    expect(maxAbsDiff(sliceBatch(result.augmented, 1).data, reference['sr_augmented_0.3'])).toBeLessThan(1e-6);
    expect(maxAbsDiff(sliceBatch(result.image, 0).data, reference.sr['0'])).toBeLessThan(1e-4);
    expect(maxAbsDiff(sliceBatch(result.image, 1).data, reference.sr['0.3'])).toBeLessThan(1e-4);
  });

  it('matches the recipe super_resolve(consistent=True), whose 2x2 means are the input', async () => {
    const result = await superResolve(models, {
      lowRes: lowRes(),
      noiseLevel: 0,
      prompt,
      numInferenceSteps: reference.num_inference_steps,
      seed: 0,
      noise: tensor(reference.sr_noise, [1, 3, 32, 32]),
      augmentationNoise: tensor(reference.sr_augmentation_noise, [1, 3, 32, 32]),
      consistent: true,
    });
    expect(maxAbsDiff(result.image.data, reference.sr_consistent)).toBeLessThan(1e-4);
    expect(maxAbsDiff(result.image.data, reference.sr['0'])).toBeGreaterThan(0.01);
    // the clamp to [-1, 1] after the last step can move a mean only where a block overshoots
    expect(maxAbsDiff(downsampleBox(result.image, 2).data, lowRes().data)).toBeLessThan(0.02);
  });

  it('repeats exactly for a seed, and its own seeds give the recipe draws', async () => {
    const run = () =>
      superResolve(models, { lowRes: lowRes(), noiseLevel: 0.1, prompt, numInferenceSteps: 3, seed: 5 });
    const [a, b] = [await run(), await run()];
    expect(a.image.shape).toEqual([1, 3, 32, 32]);
    expect(maxAbsDiff(a.image.data, b.image.data)).toBe(0);
    expect(maxAbsDiff(a.augmented.data, a.upsampled.data)).toBeGreaterThan(0.01);
  });
});
