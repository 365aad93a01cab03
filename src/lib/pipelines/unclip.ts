/**
 * unCLIP (Ramesh et al. 2022, "DALL-E 2"), shaped like diffusers' UnCLIPPipeline on our tiny models:
 * caption -> CLIP text encoder -> diffusion prior (a transformer that predicts the clean CLIP image
 * embedding, Sec. 2.2) -> decoder (a latent UNet conditioned on that embedding, Sec. 2.1) -> VAE.
 * Image variations and interpolations (Sec. 3.1-3.2) skip the prior and decode image embeddings.
 *
 * Both loops match training/recipes/unclip_prior.py and unclip_decoder.py `sample`: DDIM with the
 * settings the manifest recommends, classifier-free guidance as one batch [unconditional, conditional]
 * (the empty prompt for the prior, the all-zero embedding for the decoder).
 */
import {
  classifierFreeGuidance,
  concatBatch,
  createGenerator,
  randnTensor,
  scale,
  sliceBatch,
  slerp,
  unitRms,
  type Tensor,
} from '../diffusion/index';
import type { RecommendedSampling, TrainedSchedulerConfig } from '../runtime/manifest';
import { hostOutput, type ModelRunner } from '../runtime/types';
import { makeScheduler } from './schedulers';
import type { Encoding, WordTokenizer } from './tokenizer';
import { nextTask, throwIfAborted, type StepCallback } from './trajectory';

/** The manifest's `recommended_sampling` of the prior or the decoder. */
export type { RecommendedSampling };

/** One diffusion model of unCLIP with the schedule it was trained on and how it should be sampled. */
export interface UnclipStage {
  model: ModelRunner;
  scheduler: TrainedSchedulerConfig;
  sampling: RecommendedSampling;
}

export interface StageOptions {
  /** Defaults to the manifest's recommended guidance; at or below 1 the conditional pass runs alone. */
  guidanceScale?: number;
  /** Defaults to the manifest's recommended steps. */
  numInferenceSteps?: number;
  signal?: AbortSignal;
}

/** DDIM as the manifest recommends (diffusers' `DDIMScheduler.from_config(config, **recommended)`). */
export function recommendedScheduler(stage: Pick<UnclipStage, 'scheduler' | 'sampling'>) {
  const s = stage.sampling;
  return makeScheduler('ddim', stage.scheduler, {
    timestepSpacing: s.timestep_spacing ?? 'leading',
    stepsOffset: s.steps_offset ?? 0,
    clipSample: s.clip_sample ?? false,
    setAlphaToOne: s.set_alpha_to_one ?? true,
  });
}

export interface TextStates {
  /** [N, L, D], the prior attends to these. */
  lastHiddenState: Tensor;
  /** [N, E], CLIP's pooled and projected text embedding. */
  textEmbeds: Tensor;
  encodings: Encoding[];
}

/** Tiny CLIP text encoder over a batch of prompts. */
export async function encodeText(
  textEncoder: ModelRunner,
  tokenizer: WordTokenizer,
  prompts: readonly string[],
  signal?: AbortSignal,
): Promise<TextStates> {
  const encodings = prompts.map((p) => tokenizer.encode(p));
  const inputIds = {
    data: BigInt64Array.from(encodings.flatMap((e) => e.ids).map(BigInt)),
    shape: [prompts.length, tokenizer.contextLength],
  };
  const out = await textEncoder.run({ input_ids: inputIds }, { signal });
  return {
    lastHiddenState: hostOutput(out, 'last_hidden_state', 'text encoder'), // [N, L, D]
    textEmbeds: hostOutput(out, 'text_embeds', 'text encoder'), // [N, E]
    encodings,
  };
}

/** Tiny CLIP image embeddings of pictures [N, 3, 32, 32] in [-1, 1], on the prior's unit-rms scale -> [N, E]. */
export async function embedImages(imageEncoder: ModelRunner, pixels: Tensor, signal?: AbortSignal): Promise<Tensor> {
  const out = await imageEncoder.run({ pixel_values: pixels }, { signal });
  return unitRms(hostOutput(out, 'image_embeds', 'image encoder'));
}

export interface PriorOptions extends StageOptions {
  seed?: number;
  /** Start from this noisy embedding [1, E] instead of drawing one (diffusers' `prior_latents`). */
  latents?: Tensor;
  onStep?: StepCallback;
}

export interface PriorResult {
  /** The sampled image embedding [1, E], unit-rms scale (norm sqrt(E)). */
  imageEmbeds: Tensor;
  timesteps: number[];
  totalMs: number;
}

/**
 * The diffusion prior (Sec. 2.2): DDIM over a CLIP image embedding. The transformer predicts the clean
 * embedding itself (prediction_type "sample"); guidance mixes those predictions,
 * x0 = x0(empty prompt) + w (x0(prompt) - x0(empty prompt)), before the scheduler step.
 * `text` holds the prompt at index 1 and the empty prompt at index 0, as `encodeText(['', prompt])`.
 */
export async function samplePrior(
  prior: UnclipStage,
  text: TextStates,
  options: PriorOptions = {},
): Promise<PriorResult> {
  const { seed = 0, onStep, signal } = options;
  const guidanceScale = options.guidanceScale ?? prior.sampling.guidance_scale;
  const steps = options.numInferenceSteps ?? prior.sampling.steps;
  const start = performance.now();
  const embedDim = text.textEmbeds.shape[1];
  const scheduler = recommendedScheduler(prior);
  scheduler.setTimesteps(steps);
  const guided = guidanceScale > 1;
  // [empty, prompt] for guidance, the prompt alone otherwise.
  const hidden = guided ? sliceBatch(text.lastHiddenState, 0, 2) : sliceBatch(text.lastHiddenState, 1); // [B, L, D]
  const embeds = guided ? sliceBatch(text.textEmbeds, 0, 2) : sliceBatch(text.textEmbeds, 1); // [B, E]
  const batch = guided ? 2 : 1;
  let sample = scale(options.latents ?? randnTensor([1, embedDim], createGenerator(seed)), scheduler.initNoiseSigma); // [1, E]
  for (const [index, timestep] of scheduler.timesteps.entries()) {
    await nextTask();
    throwIfAborted(signal);
    const stepStart = performance.now();
    const out = await prior.model.run(
      {
        sample: guided ? concatBatch([sample, sample]) : sample, // [B, E]
        timestep: { data: new Float32Array(batch).fill(timestep), shape: [batch] },
        text_embeds: embeds,
        encoder_hidden_states: hidden,
      },
      { signal },
    );
    const x0 = hostOutput(out, 'predicted_image_embedding', 'prior'); // [B, E]
    const noisePred = guided ? classifierFreeGuidance(sliceBatch(x0, 0), sliceBatch(x0, 1), guidanceScale) : x0;
    const { prevSample, predOriginalSample } = scheduler.step(noisePred, timestep, sample);
    onStep?.({
      index,
      timestep,
      sample,
      noisePred,
      predOriginalSample,
      prevSample,
      ms: performance.now() - stepStart,
    });
    sample = prevSample;
  }
  return { imageEmbeds: sample, timesteps: [...scheduler.timesteps], totalMs: performance.now() - start };
}

export interface DecoderModels {
  decoder: UnclipStage;
  vaeDecoder: ModelRunner;
  /** VAE latents are divided by this before decoding (manifest `scaling_factor`). */
  scalingFactor: number;
  /** [C, H, W] of one latent. */
  latentShape: [number, number, number];
}

export interface DecoderOptions extends StageOptions {
  /**
   * One seed per embedding: picture i starts from noise drawn with seeds[i], so a picture depends only
   * on its own embedding and seed, never on what else is in the batch.
   */
  seeds: readonly number[];
  /** Start from these latents [N, C, H, W] instead of drawing them. */
  latents?: Tensor;
  onStep?: StepCallback;
}

export interface DecoderResult {
  /** Final latents [N, C, H, W] (scaled, as the UNet sees them). */
  latents: Tensor;
  /** Pictures [N, 3, 32, 32] in [-1, 1] (clamped, as the Python sampler returns them). */
  images: Tensor;
  timesteps: number[];
  /** Denoising loop only. */
  totalMs: number;
  decodeMs: number;
}

/**
 * The decoder (Sec. 2.1): DDIM on VAE latents conditioned on CLIP image embeddings [N, E], guidance
 * against the all-zero embedding (the "no embedding" the decoder learned from 10% of its training
 * steps), eps = eps(0) + w (eps(z_i) - eps(0)), then the VAE decoder on latents / scaling_factor.
 */
export async function decodeImageEmbeddings(
  models: DecoderModels,
  imageEmbeds: Tensor,
  options: DecoderOptions,
): Promise<DecoderResult> {
  const { seeds, onStep, signal } = options;
  const { decoder } = models;
  const n = imageEmbeds.shape[0];
  if (seeds.length !== n) throw new Error(`decodeImageEmbeddings: ${seeds.length} seeds for ${n} embeddings`);
  const guidanceScale = options.guidanceScale ?? decoder.sampling.guidance_scale;
  const steps = options.numInferenceSteps ?? decoder.sampling.steps;
  const scheduler = recommendedScheduler(decoder);
  scheduler.setTimesteps(steps);
  const guided = guidanceScale > 1;
  const batch = guided ? 2 * n : n;
  // Batch layout as the Python sampler: [zeros x N, embeddings x N].
  const conditioning = guided
    ? concatBatch([{ data: new Float32Array(imageEmbeds.data.length), shape: [...imageEmbeds.shape] }, imageEmbeds])
    : imageEmbeds; // [B, E]
  const noise = options.latents ?? randnTensor([n, ...models.latentShape], seeds.map(createGenerator));
  let latents = scale(noise, scheduler.initNoiseSigma); // [N, C, H, W]
  const start = performance.now();
  for (const [index, timestep] of scheduler.timesteps.entries()) {
    await nextTask();
    throwIfAborted(signal);
    const stepStart = performance.now();
    const out = await decoder.model.run(
      {
        sample: guided ? concatBatch([latents, latents]) : latents, // [B, C, H, W]
        timestep: { data: new Float32Array(batch).fill(timestep), shape: [batch] },
        image_embeds: conditioning,
      },
      { signal },
    );
    const eps = hostOutput(out, 'out_sample', 'decoder'); // [B, C, H, W]
    const noisePred = guided
      ? classifierFreeGuidance(sliceBatch(eps, 0, n), sliceBatch(eps, n, 2 * n), guidanceScale)
      : eps;
    const { prevSample, predOriginalSample } = scheduler.step(noisePred, timestep, latents);
    onStep?.({
      index,
      timestep,
      sample: latents,
      noisePred,
      predOriginalSample,
      prevSample,
      ms: performance.now() - stepStart,
    });
    latents = prevSample;
  }
  const totalMs = performance.now() - start;
  throwIfAborted(signal);
  const decodeStart = performance.now();
  const decoded = await models.vaeDecoder.run({ latent_sample: scale(latents, 1 / models.scalingFactor) }, { signal });
  const pictures = hostOutput(decoded, 'sample', 'VAE decoder'); // [N, 3, 32, 32]
  const images = { data: pictures.data.map((v) => Math.max(-1, Math.min(1, v))), shape: [...pictures.shape] };
  return { latents, images, timesteps: [...scheduler.timesteps], totalMs, decodeMs: performance.now() - decodeStart };
}

/** `count` points on the great circle from embedding a [1, E] to b [1, E], ends included (Sec. 3.2) -> [count, E]. */
export function slerpEmbeddings(a: Tensor, b: Tensor, count: number): Tensor {
  if (count < 2) throw new Error('slerpEmbeddings: count must be at least 2');
  return concatBatch(Array.from({ length: count }, (_, k) => slerp(a, b, k / (count - 1))));
}
