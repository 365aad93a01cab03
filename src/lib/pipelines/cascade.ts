/**
 * The pixel cascade of GLIDE (Nichol et al. 2022) and Imagen (Saharia et al. 2022): a text-conditional
 * base model samples a 16 px image in pixel space, then a super-resolution model, conditioned on that
 * image (bilinearly upsampled and noise-augmented) and on the same text, samples the 32 px image.
 *
 * Both stages use DDIM with the sampling settings the training recipes used (training/schedule.py
 * `ddim_sample`): leading spacing, no offset, alpha-bar = 1 after the last step, and eps re-derived from
 * the clipped x0 (GLIDE's `use_clipped_model_output`). Prompts are encoded once by the frozen tiny CLIP
 * (`encodePrompt`) and passed in as `PromptStates`, so a figure can reuse them across runs.
 */
import { noiseAugment } from '../diffusion/augmentation';
import {
  DDIMScheduler,
  clamp,
  classifierFreeGuidance,
  concatBatch,
  createGenerator,
  randnTensor,
  sliceBatch,
  zipTensors,
  type Tensor,
} from '../diffusion/index';
import { downsampleBox, resizeBilinear, upsampleNearest } from '../image/resize';
import type { TrainedSchedulerConfig } from '../runtime/manifest';
import { int64, hostOutput, type ModelRunner } from '../runtime/types';
import type { Encoding, WordTokenizer } from './tokenizer';
import { nextTask, throwIfAborted, type StepCallback, type StepRecord } from './trajectory';

/** cascade_base's sample_size: the base stage's images are 16 x 16. */
export const BASE_SIZE = 16;
/** cascade_sr doubles the resolution: 16 -> 32 px. */
export const SUPER_RES_FACTOR = 2;

/** One stage of the cascade: its UNet and the noise schedule it was trained with (manifest `scheduler`). */
export interface CascadeStage {
  unet: ModelRunner;
  scheduler: TrainedSchedulerConfig;
}

export interface CascadeModels {
  tokenizer: WordTokenizer;
  /** The frozen tiny CLIP text tower: input_ids -> last_hidden_state, text_embeds. */
  textEncoder: ModelRunner;
  /** `cascade_base`: epsilon prediction on [B, 3, 16, 16] pixels. */
  base: CascadeStage;
  /** `cascade_sr`: v prediction on [B, 3, 32, 32] pixels given the upsampled 16 px image. */
  superRes?: CascadeStage;
}

/** A prompt as both stages see it: the text encoder's outputs for one caption. */
export interface PromptStates {
  /** last_hidden_state, for cross-attention: [1, L, D]. */
  hidden: Tensor;
  /** text_embeds (pooled EOS state), added to the timestep embedding: [1, E]. */
  embeds: Tensor;
}

/**
 * What happens to the predicted x0 at each step (Imagen section 2.3):
 * - `none`: nothing; at high guidance x0 leaves [-1, 1] and the sample saturates.
 * - `static`: clip x0 to [-1, 1] (diffusers' `clip_sample`).
 * - `dynamic`: s = the `ratio` quantile of |x0| per image, clamped to [1, maxValue]; clip x0 to [-s, s]
 *   and divide by s (diffusers' `thresholding`, `dynamic_thresholding_ratio`, `sample_max_value`).
 */
export type Thresholding = { kind: 'none' } | { kind: 'static' } | { kind: 'dynamic'; ratio: number; maxValue: number };

/** The training recipe's DDIM for a cascade stage, with x0 treated as `thresholding` says. */
export function cascadeScheduler(trained: TrainedSchedulerConfig, thresholding: Thresholding): DDIMScheduler {
  return new DDIMScheduler({
    numTrainTimesteps: trained.num_train_timesteps,
    betaSchedule: trained.beta_schedule,
    betaStart: trained.beta_start,
    betaEnd: trained.beta_end,
    predictionType: trained.prediction_type,
    timestepSpacing: 'leading',
    stepsOffset: 0,
    setAlphaToOne: true, // pixel models: the last step lands on the clean image
    clipSample: thresholding.kind === 'static',
    thresholding: thresholding.kind === 'dynamic',
    ...(thresholding.kind === 'dynamic'
      ? { dynamicThresholdingRatio: thresholding.ratio, sampleMaxValue: thresholding.maxValue }
      : {}),
  });
}

/** Tokenizes and encodes one caption with the frozen text encoder -> its states and what the tokenizer kept. */
export async function encodePrompt(
  models: Pick<CascadeModels, 'tokenizer' | 'textEncoder'>,
  prompt: string,
  signal?: AbortSignal,
): Promise<PromptStates & { encoding: Encoding }> {
  const encoding = models.tokenizer.encode(prompt);
  const outputs = await models.textEncoder.run(
    { input_ids: int64(encoding.ids, [1, encoding.ids.length]) },
    { signal },
  );
  return {
    hidden: hostOutput(outputs, 'last_hidden_state', 'text encoder'), // [1, L, D]
    embeds: hostOutput(outputs, 'text_embeds', 'text encoder'), // [1, E]
    encoding,
  };
}

/** Settings that may differ between the images of one batched base run (a thresholding comparison). */
export interface BaseVariant {
  /** eps_empty + guidanceScale * (eps_prompt - eps_empty); <= 1 everywhere skips the empty-prompt pass. */
  guidanceScale?: number;
  thresholding?: Thresholding;
}

export interface BaseSampleOptions {
  prompt: PromptStates;
  /** The empty prompt's states: the unconditional input the model was trained with (10% of steps). */
  empty: PromptStates;
  guidanceScale: number;
  numInferenceSteps: number;
  seed: number;
  thresholding: Thresholding;
  /**
   * RePaint/GLIDE-style inpainting: after every step the known pixels (mask 1) are replaced by the known
   * image noised to the new timestep, so the model fills only the unknown ones (mask 0) to match.
   */
  inpaint?: { image: Tensor /* [1, 3, 16, 16] in [-1, 1] */; mask: Float32Array /* H * W values, 1 = keep */ };
  /**
   * One image per variant in a single batched run, all from the same prompt and starting noise; each
   * variant overrides `guidanceScale` and `thresholding`. Without it, one image.
   */
  variants?: BaseVariant[];
  /** Start from this x_T instead of drawing it from `seed` (diffusers' `latents=`), [1, 3, 16, 16]. */
  noise?: Tensor;
  onStep?: StepCallback<BaseStep>;
  signal?: AbortSignal;
}

/** A base step also carries both halves of the guidance batch. */
export interface BaseStep extends StepRecord {
  /** eps for the empty prompt, [N, 3, 16, 16] (when guidance ran). */
  noisePredUncond?: Tensor;
  /** eps for the prompt, [N, 3, 16, 16]. */
  noisePredText?: Tensor;
}

export interface BaseResult {
  /** The 16 px images, [N, 3, 16, 16] clamped to [-1, 1]. */
  image: Tensor;
  timesteps: number[];
  /** The variants as run, defaults filled in. */
  variants: Required<BaseVariant>[];
  totalMs: number;
}

export interface SuperResOptions {
  /** The 16 px image to upsample, [1, 3, 16, 16] in [-1, 1]. */
  lowRes: Tensor;
  /** Noise conditioning augmentation level in [0, 1] (0 = trust the input; the manifest recommends 0.1 for base samples). */
  noiseLevel: number;
  prompt: PromptStates;
  numInferenceSteps: number;
  seed: number;
  /** One 32 px image per level in one batched run, same starting and augmentation noise; overrides `noiseLevel`. */
  noiseLevels?: number[];
  /** Start from this x_T instead of drawing it from `seed`, [1, 3, 32, 32]. */
  noise?: Tensor;
  /** Augment with this noise instead of drawing it from `seed + 1`, [1, 3, 32, 32]. */
  augmentationNoise?: Tensor;
  /** Project every x0 prediction so that its 2x2 means are `lowRes` (`consistencyProjection`). */
  consistent?: boolean;
  onStep?: StepCallback;
  signal?: AbortSignal;
}

export interface SuperResResult {
  /** The 32 px images, [N, 3, 32, 32] clamped to [-1, 1]. */
  image: Tensor;
  /** The 16 px input bilinearly upsampled (half-pixel centres), [1, 3, 32, 32]. */
  upsampled: Tensor;
  /** What the model was conditioned on (`low_res_sample`): the upsampled image noised at each level, [N, 3, 32, 32]. */
  augmented: Tensor;
  noiseLevels: number[];
  timesteps: number[];
  totalMs: number;
}

/** Each batch element of `t` (dim 0) repeated `times` times in a row: [a] -> [a, a, a]. */
function repeatBatch(t: Tensor, times: number): Tensor {
  return times === 1 ? t : concatBatch(Array.from({ length: times }, () => t));
}

/** [N, ...] per-image DDIM steps, each image with its own scheduler (its own x0 treatment) -> [N, ...]. */
function stepEach(schedulers: DDIMScheduler[], modelOutput: Tensor, timestep: number, sample: Tensor) {
  const outs = schedulers.map((s, i) =>
    s.step(sliceBatch(modelOutput, i), timestep, sliceBatch(sample, i), { useClippedModelOutput: true }),
  );
  return {
    prevSample: concatBatch(outs.map((o) => o.prevSample)),
    predOriginalSample: concatBatch(outs.map((o) => o.predOriginalSample)),
  };
}

/** x_known noised to alpha-bar, pasted where mask = 1 (broadcast over batch and channels). */
function pasteKnown(sample: Tensor, known: Tensor, noise: Tensor, mask: Float32Array, alphaProd: number): Tensor {
  const plane = mask.length;
  const a = Math.sqrt(alphaProd);
  const b = Math.sqrt(1 - alphaProd);
  const size = known.data.length; // 3 * H * W
  return zipTensors(sample, noise, (x, z, i) => {
    const m = mask[i % plane];
    return m === 0 ? x : (1 - m) * x + m * (a * known.data[i % size] + b * z);
  });
}

/**
 * x0 -> x0 + A+(y - A x0) with A the 2x2 box filter and A+ nearest 2x upsampling (A A+ = I): DDNM's
 * range-space step (Wang, Yu & Zhang 2023). The result's 2x2 means are exactly `lowRes` (y, repeated over
 * the batch); the model still chooses everything A cannot see, the detail inside each 2x2 block.
 */
export function consistencyProjection(lowRes: Tensor): (x0: Tensor) => Tensor {
  return (x0) => {
    const y = repeatBatch(lowRes, x0.shape[0]); // [N, 3, 16, 16]
    const residual = zipTensors(y, downsampleBox(x0, SUPER_RES_FACTOR), (a, b) => a - b);
    return zipTensors(x0, upsampleNearest(residual, SUPER_RES_FACTOR), (a, b) => a + b);
  };
}

/** Text-conditional 16 px sampling with classifier-free guidance, batched as [empty x N, prompt x N]. */
export async function sampleBase(models: Pick<CascadeModels, 'base'>, options: BaseSampleOptions): Promise<BaseResult> {
  const { prompt, empty, numInferenceSteps, seed, inpaint, onStep, signal } = options;
  const start = performance.now();
  const { unet, scheduler: trained } = models.base;
  const variants: Required<BaseVariant>[] = (options.variants ?? [{}]).map((v) => ({
    guidanceScale: v.guidanceScale ?? options.guidanceScale,
    thresholding: v.thresholding ?? options.thresholding,
  }));
  const n = variants.length;
  const schedulers = variants.map((v) => cascadeScheduler(trained, v.thresholding));
  for (const s of schedulers) s.setTimesteps(numInferenceSteps);
  const timesteps = schedulers[0].timesteps;
  const size = BASE_SIZE;
  if (inpaint && inpaint.mask.length !== size * size) {
    throw new Error(`the inpainting mask has ${inpaint.mask.length} values; a 16 px image needs ${size * size}.`);
  }

  // diffusers' rule: the unconditional pass runs only when guidance_scale > 1; a batched run then uses
  // the guidance formula for every image, so w = 1 is the conditional model.
  const doCfg = variants.some((v) => v.guidanceScale > 1);
  const hidden = doCfg
    ? concatBatch([repeatBatch(empty.hidden, n), repeatBatch(prompt.hidden, n)])
    : repeatBatch(prompt.hidden, n); // [B, L, D]
  const embeds = doCfg
    ? concatBatch([repeatBatch(empty.embeds, n), repeatBatch(prompt.embeds, n)])
    : repeatBatch(prompt.embeds, n); // [B, E]
  const batch = hidden.shape[0];

  const generator = createGenerator(seed);
  // Inpainting's re-noising draws from its own generator, so x_T is the same with or without a mask.
  const pasteGenerator = createGenerator(seed + 1);
  const alphas = schedulers[0].alphasCumprod;
  // Every variant starts from the same noise, so differences come from the settings alone.
  let sample = repeatBatch(options.noise ?? randnTensor([1, 3, size, size], generator), n); // [N, 3, 16, 16]
  if (inpaint) {
    sample = pasteKnown(
      sample,
      inpaint.image,
      randnTensor(sample.shape, pasteGenerator),
      inpaint.mask,
      alphas[timesteps[0]],
    );
  }
  for (const [index, timestep] of timesteps.entries()) {
    await nextTask();
    throwIfAborted(signal);
    const stepStart = performance.now();
    const outputs = await unet.run(
      {
        sample: doCfg ? concatBatch([sample, sample]) : sample, // [B, 3, 16, 16]
        timestep: { data: new Float32Array(batch).fill(timestep), shape: [batch] },
        encoder_hidden_states: hidden,
        text_embeds: embeds,
      },
      { signal },
    );
    const out = hostOutput(outputs, 'out_sample', 'base UNet'); // [B, 3, 16, 16]
    let noisePred = out;
    let noisePredUncond: Tensor | undefined;
    let noisePredText: Tensor | undefined;
    if (doCfg) {
      noisePredUncond = sliceBatch(out, 0, n);
      noisePredText = sliceBatch(out, n, 2 * n);
      const guided = variants.map((v, i) =>
        classifierFreeGuidance(sliceBatch(noisePredUncond!, i), sliceBatch(noisePredText!, i), v.guidanceScale),
      );
      noisePred = concatBatch(guided); // [N, 3, 16, 16]
    }
    const stepped = stepEach(schedulers, noisePred, timestep, sample);
    const { predOriginalSample } = stepped;
    let { prevSample } = stepped;
    if (inpaint) {
      const next = timesteps[index + 1];
      const alphaProd = next === undefined ? schedulers[0].finalAlphaCumprod : alphas[next];
      prevSample = pasteKnown(
        prevSample,
        inpaint.image,
        randnTensor(prevSample.shape, pasteGenerator),
        inpaint.mask,
        alphaProd,
      );
    }
    onStep?.({
      index,
      timestep,
      sample,
      noisePred,
      noisePredUncond,
      noisePredText,
      predOriginalSample,
      prevSample,
      ms: performance.now() - stepStart,
    });
    sample = prevSample;
  }
  throwIfAborted(signal);
  return { image: clamp(sample, -1, 1), timesteps: [...timesteps], variants, totalMs: performance.now() - start };
}

/**
 * The upsampler (guidance 1, static clipping, as the recipe samples it): the 16 px image is bilinearly
 * upsampled to 32 px, noised at `noiseLevel` (Imagen's noise conditioning augmentation, with its own
 * generator seeded `seed + 1`), and the model denoises 32 px noise (seeded `seed`) given that image,
 * the level and the prompt.
 */
export async function superResolve(
  models: Required<Pick<CascadeModels, 'superRes'>>,
  options: SuperResOptions,
): Promise<SuperResResult> {
  const { lowRes, prompt, numInferenceSteps, seed, onStep, signal } = options;
  const start = performance.now();
  const { unet, scheduler: trained } = models.superRes;
  const levels = options.noiseLevels ?? [options.noiseLevel];
  const n = levels.length;
  const scheduler = cascadeScheduler(trained, { kind: 'static' });
  scheduler.setTimesteps(numInferenceSteps);
  const [, , h, w] = lowRes.shape;
  const [height, width] = [SUPER_RES_FACTOR * h, SUPER_RES_FACTOR * w];

  const upsampled = resizeBilinear(lowRes, height, width); // [1, 3, 32, 32]
  const augmentationNoise = options.augmentationNoise ?? randnTensor(upsampled.shape, createGenerator(seed + 1)); // [1, 3, 32, 32]
  const augmented = concatBatch(
    levels.map((level) => noiseAugment(upsampled, augmentationNoise, scheduler.alphasCumprod, level)),
  ); // [N, 3, 32, 32]
  const noiseLevel = { data: Float32Array.from(levels), shape: [n] };
  const hidden = repeatBatch(prompt.hidden, n); // [N, L, D]
  const embeds = repeatBatch(prompt.embeds, n); // [N, E]

  let sample = repeatBatch(options.noise ?? randnTensor([1, 3, height, width], createGenerator(seed)), n); // [N, 3, 32, 32]
  const project = options.consistent ? consistencyProjection(lowRes) : undefined;
  for (const [index, timestep] of scheduler.timesteps.entries()) {
    await nextTask();
    throwIfAborted(signal);
    const stepStart = performance.now();
    const outputs = await unet.run(
      {
        sample,
        timestep: { data: new Float32Array(n).fill(timestep), shape: [n] },
        low_res_sample: augmented,
        noise_level: noiseLevel,
        encoder_hidden_states: hidden,
        text_embeds: embeds,
      },
      { signal },
    );
    const v = hostOutput(outputs, 'out_sample', 'super-resolution UNet'); // [N, 3, 32, 32]
    const { prevSample, predOriginalSample } = scheduler.step(v, timestep, sample, {
      useClippedModelOutput: true,
      projectPredOriginalSample: project,
    });
    onStep?.({
      index,
      timestep,
      sample,
      noisePred: v,
      predOriginalSample,
      prevSample,
      ms: performance.now() - stepStart,
    });
    sample = prevSample;
  }
  throwIfAborted(signal);
  return {
    image: clamp(sample, -1, 1),
    upsampled,
    augmented,
    noiseLevels: levels,
    timesteps: [...scheduler.timesteps],
    totalMs: performance.now() - start,
  };
}
