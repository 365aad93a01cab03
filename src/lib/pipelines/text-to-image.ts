/**
 * Latent text-to-image, shaped like diffusers' StableDiffusionPipeline: tokenize -> text encoder ->
 * UNet loop on VAE latents with classifier-free guidance (negative/unconditional and conditional
 * halves as one batch of 2) -> VAE decode of latents / scaling_factor.
 */
import {
  classifierFreeGuidance,
  concatBatch,
  createGenerator,
  randnTensor,
  rescaleNoiseCfg,
  scale,
  sliceBatch,
  type Scheduler,
  type Tensor,
} from '../diffusion/index';
import type { TrainedSchedulerConfig } from '../runtime/manifest';
import { isKept, type KeptTensor, type ModelRunner } from '../runtime/types';
import { makeScheduler, type SchedulerName } from './schedulers';
import type { Encoding, WordTokenizer } from './tokenizer';
import { nextTask, throwIfAborted, type StepCallback, type StepRecord } from './trajectory';

export interface TextToImageModels {
  tokenizer: WordTokenizer;
  textEncoder: ModelRunner;
  unet: ModelRunner;
  vaeDecoder: ModelRunner;
  /** The noise schedule the UNet was trained with (manifest). */
  scheduler: TrainedSchedulerConfig;
  /** Latents are divided by this before decoding (manifest `scaling_factor`). */
  scalingFactor: number;
  /** [C, H, W] of one latent. */
  latentShape: [number, number, number];
  /**
   * The UNet also takes SDXL's added conditions (`added_cond_kwargs`): the pooled `text_embeds`
   * and `time_ids` = (original size, crop top-left, target size). Stable Diffusion 1.x UNets do not.
   */
  addedConditions?: boolean;
}

/** Settings that may differ between the images of one batched run (a CFG sweep, a size sweep). */
export interface TextToImageVariant {
  /** eps_uncond + guidanceScale * (eps_text - eps_uncond). */
  guidanceScale?: number;
  /** Rescale the guided prediction's std towards the conditional one (Lin et al. 2023, Sec. 3.4). */
  guidanceRescale?: number;
  /** SDXL micro-conditioning: the (height, width) the training image had before resizing. */
  originalSize?: [number, number];
  /** SDXL micro-conditioning: where the training crop began (top, left). */
  cropsCoordsTopLeft?: [number, number];
}

/**
 * The part of a scheduler the sampling loop calls. `FlowMatchEulerDiscreteScheduler` has it too,
 * so a flow-matching UNet (which predicts a velocity) runs through the same loop.
 */
export type LoopScheduler = Pick<
  Scheduler,
  'timesteps' | 'initNoiseSigma' | 'setTimesteps' | 'scaleModelInput' | 'step'
>;

export interface TextToImageOptions extends TextToImageVariant {
  prompt: string;
  negativePrompt?: string;
  /**
   * A scheduler name, built from the UNet's trained schedule with Stable Diffusion's sampling
   * config (DDIM, leading spacing), or a scheduler built by the caller (`setTimesteps` is called here).
   */
  scheduler?: SchedulerName | LoopScheduler;
  numInferenceSteps?: number;
  seed?: number;
  /** Start from these latents instead of drawing them (diffusers' `latents=`), [1, C, H, W]. */
  latents?: Tensor;
  /**
   * Render one image per variant in a single batched run, all from the same prompt and starting
   * noise; each variant overrides the top-level settings. Without it, one image.
   */
  variants?: TextToImageVariant[];
  /** (height, width) the UNet was trained to produce; SDXL's `target_size`. */
  targetSize?: [number, number];
  onStep?: StepCallback<TextToImageStep>;
  signal?: AbortSignal;
}

/** A text-to-image step also carries both halves of the guidance batch and the attention maps. */
export interface TextToImageStep extends StepRecord {
  /** What the UNet saw: `scheduler.scaleModelInput(sample, t)` (differs from `sample` for Euler). */
  modelInput: Tensor;
  /** diffusers' `noise_pred_uncond`, [N, C, H, W] (present when guidance ran). */
  noisePredUncond?: Tensor;
  /** diffusers' `noise_pred_text`, [N, C, H, W]. */
  noisePredText?: Tensor;
  /**
   * The conditional half's cross-attention probabilities, [N, layers, tokens, H, W], averaged over
   * heads (when the UNet exports `cross_attention_probs`).
   */
  crossAttentionProbs?: Tensor;
}

export interface TextToImageResult {
  /** Final latents, [N, C, H, W]. */
  latents: Tensor;
  /** Decoded pictures, [N, 3, 32, 32] in [-1, 1]. */
  image: Tensor;
  prompt: Encoding;
  negativePrompt: Encoding;
  timesteps: number[];
  /** The variants as run, with defaults filled in. */
  variants: Required<TextToImageVariant>[];
  totalMs: number;
}

/** SDXL's `_get_add_time_ids`: original_size + crops_coords_top_left + target_size. */
export function addTimeIds(variant: Required<TextToImageVariant>, targetSize: [number, number]): number[] {
  return [...variant.originalSize, ...variant.cropsCoordsTopLeft, ...targetSize];
}

/** Repeats every batch element of `t` (dim 0) `times` times in a row: [a, b] -> [a, a, b, b]. */
function repeatEach(t: Tensor, times: number): Tensor {
  return concatBatch(Array.from({ length: t.shape[0] * times }, (_, i) => sliceBatch(t, Math.floor(i / times))));
}

export async function textToImage(models: TextToImageModels, options: TextToImageOptions): Promise<TextToImageResult> {
  const { prompt, negativePrompt = '', numInferenceSteps = 25, seed = 0, onStep, signal } = options;
  const start = performance.now();
  const [c, h, w] = models.latentShape;
  const targetSize = options.targetSize ?? [4 * h, 4 * w];
  const variants: Required<TextToImageVariant>[] = (options.variants ?? [{}]).map((v) => ({
    guidanceScale: v.guidanceScale ?? options.guidanceScale ?? 7.5,
    guidanceRescale: v.guidanceRescale ?? options.guidanceRescale ?? 0,
    originalSize: v.originalSize ?? options.originalSize ?? targetSize,
    cropsCoordsTopLeft: v.cropsCoordsTopLeft ?? options.cropsCoordsTopLeft ?? [0, 0],
  }));
  const n = variants.length;
  const scheduler =
    typeof options.scheduler === 'object'
      ? options.scheduler
      : makeScheduler(options.scheduler ?? 'ddim', models.scheduler, {
          // Stable Diffusion's scheduler config: leading spacing offset by one step, no clipping of
          // latents, and the final step lands on alpha-bar_0 rather than 1.
          timestepSpacing: 'leading',
          stepsOffset: 1,
          clipSample: false,
          setAlphaToOne: false,
        });
  scheduler.setTimesteps(numInferenceSteps);
  const generator = createGenerator(seed);

  // diffusers runs the unconditional half only when guidance_scale > 1. A batched sweep runs it
  // whenever any image needs it, and then every image uses the guidance formula, so w = 0 is the
  // unconditional model and w = 1 the conditional one.
  const doCfg = variants.some((v) => v.guidanceScale > 1);
  const promptEncoding = models.tokenizer.encode(prompt);
  const negativeEncoding = models.tokenizer.encode(negativePrompt);
  // Batch layout as diffusers: [negative x N, prompt x N].
  const rows = doCfg
    ? [...Array(n).fill(negativeEncoding.ids), ...Array(n).fill(promptEncoding.ids)]
    : Array(n).fill(promptEncoding.ids);
  const batch = rows.length;
  const inputIds = {
    data: BigInt64Array.from(rows.flat(), (id: number) => BigInt(id)),
    shape: [batch, models.tokenizer.contextLength],
  };
  const timeIds = models.addedConditions
    ? {
        data: Float32Array.from(
          Array.from({ length: batch }, (_, i) => addTimeIds(variants[i % n], targetSize)).flat(),
        ),
        shape: [batch, 6],
      }
    : undefined;

  throwIfAborted(signal);
  // The text states are the same at every step: keep them where they were computed (GPU on WebGPU).
  const keep = models.addedConditions ? ['last_hidden_state', 'text_embeds'] : ['last_hidden_state'];
  const encoded = await models.textEncoder.run({ input_ids: inputIds }, { keep, signal });
  const kept = keep.map((name) => encoded[name] as KeptTensor);
  try {
    const noise = options.latents ?? randnTensor([1, c, h, w], generator);
    // Every variant starts from the same noise, so differences come from the settings alone.
    let latents = scale(n === 1 ? noise : repeatEach(noise, n), scheduler.initNoiseSigma);
    for (const [index, timestep] of scheduler.timesteps.entries()) {
      await nextTask();
      throwIfAborted(signal);
      const stepStart = performance.now();
      const modelInput = scheduler.scaleModelInput(latents, timestep);
      const outputs = await models.unet.run(
        {
          sample: doCfg ? concatBatch([modelInput, modelInput]) : modelInput,
          timestep: { data: new Float32Array(batch).fill(timestep), shape: [batch] },
          encoder_hidden_states: kept[0],
          ...(models.addedConditions && timeIds ? { text_embeds: kept[1], time_ids: timeIds } : {}),
        },
        { signal },
      );
      const out = outputs.out_sample;
      if (!out || isKept(out)) throw new Error('the UNet returned no out_sample');
      let noisePred = out;
      let noisePredUncond: Tensor | undefined;
      let noisePredText: Tensor | undefined;
      if (doCfg) {
        noisePredUncond = sliceBatch(out, 0, n);
        noisePredText = sliceBatch(out, n, 2 * n);
        const guided = variants.map((v, i) => {
          const cond = sliceBatch(noisePredText as Tensor, i);
          const g = classifierFreeGuidance(sliceBatch(noisePredUncond as Tensor, i), cond, v.guidanceScale);
          return v.guidanceRescale > 0 ? rescaleNoiseCfg(g, cond, v.guidanceRescale) : g;
        });
        noisePred = n === 1 ? guided[0] : concatBatch(guided);
      }
      const probs = outputs.cross_attention_probs;
      const crossAttentionProbs = probs && !isKept(probs) ? (doCfg ? sliceBatch(probs, n, 2 * n) : probs) : undefined;
      const { prevSample, predOriginalSample } = scheduler.step(noisePred, timestep, latents, { generator });
      onStep?.({
        index,
        timestep,
        sample: latents,
        modelInput,
        noisePred,
        noisePredUncond,
        noisePredText,
        crossAttentionProbs,
        predOriginalSample,
        prevSample,
        ms: performance.now() - stepStart,
      });
      latents = prevSample;
    }
    throwIfAborted(signal);
    const decoded = await models.vaeDecoder.run(
      { latent_sample: scale(latents, 1 / models.scalingFactor) },
      { signal },
    );
    const image = decoded.sample;
    if (!image || isKept(image)) throw new Error('the VAE decoder returned no sample');
    return {
      latents,
      image,
      prompt: promptEncoding,
      negativePrompt: negativeEncoding,
      timesteps: [...scheduler.timesteps],
      variants,
      totalMs: performance.now() - start,
    };
  } finally {
    for (const t of kept) t?.dispose();
  }
}
