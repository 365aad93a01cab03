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
  type Tensor,
} from '../diffusion/index';
import type { TrainedSchedulerConfig } from '../runtime/manifest';
import { isKept, type KeptTensor, type ModelRunner } from '../runtime/types';
import { makeScheduler, type SchedulerName } from './schedulers';
import type { Encoding, WordTokenizer } from './tokenizer';
import { nextTask, throwIfAborted, type StepCallback } from './trajectory';

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
}

export interface TextToImageOptions {
  prompt: string;
  negativePrompt?: string;
  /** diffusers' rule: guidance runs only when the scale is above 1. */
  guidanceScale?: number;
  /** Rescale the guided prediction's std towards the conditional one (Lin et al. 2023, Sec. 3.4). */
  guidanceRescale?: number;
  scheduler?: SchedulerName;
  numInferenceSteps?: number;
  seed?: number;
  /** Start from these latents instead of drawing them (diffusers' `latents=`). */
  latents?: Tensor;
  onStep?: StepCallback;
  signal?: AbortSignal;
}

export interface TextToImageResult {
  /** Final latents, [1, C, H, W]. */
  latents: Tensor;
  /** Decoded picture, [1, 3, 32, 32] in [-1, 1]. */
  image: Tensor;
  prompt: Encoding;
  negativePrompt: Encoding;
  timesteps: number[];
  totalMs: number;
}

export async function textToImage(models: TextToImageModels, options: TextToImageOptions): Promise<TextToImageResult> {
  const {
    prompt,
    negativePrompt = '',
    guidanceScale = 7.5,
    guidanceRescale = 0,
    numInferenceSteps = 25,
    seed = 0,
    onStep,
    signal,
  } = options;
  const start = performance.now();
  const scheduler = makeScheduler(options.scheduler ?? 'ddim', models.scheduler, {
    // Stable Diffusion's scheduler config: leading spacing offset by one step, no clipping of
    // latents, and the final step lands on alpha-bar_0 rather than 1.
    timestepSpacing: 'leading',
    stepsOffset: 1,
    clipSample: false,
    setAlphaToOne: false,
  });
  scheduler.setTimesteps(numInferenceSteps);
  const generator = createGenerator(seed);

  const doCfg = guidanceScale > 1;
  const promptEncoding = models.tokenizer.encode(prompt);
  const negativeEncoding = models.tokenizer.encode(negativePrompt);
  const ids = doCfg ? [...negativeEncoding.ids, ...promptEncoding.ids] : promptEncoding.ids;
  const batch = doCfg ? 2 : 1;
  const inputIds = {
    data: BigInt64Array.from(ids, (id) => BigInt(id)),
    shape: [batch, models.tokenizer.contextLength],
  };

  throwIfAborted(signal);
  // The text states are the same at every step: keep them where they were computed (GPU on WebGPU).
  const encoded = await models.textEncoder.run({ input_ids: inputIds }, { keep: ['last_hidden_state'], signal });
  const encoderHiddenStates = encoded.last_hidden_state as KeptTensor;
  try {
    const [c, h, w] = models.latentShape;
    let latents = options.latents ?? randnTensor([1, c, h, w], generator);
    latents = scale(latents, scheduler.initNoiseSigma);
    for (const [index, timestep] of scheduler.timesteps.entries()) {
      await nextTask();
      throwIfAborted(signal);
      const stepStart = performance.now();
      const modelInput = scheduler.scaleModelInput(latents, timestep);
      const outputs = await models.unet.run(
        {
          sample: doCfg ? concatBatch([modelInput, modelInput]) : modelInput,
          timestep: { data: new Float32Array(batch).fill(timestep), shape: [batch] },
          encoder_hidden_states: encoderHiddenStates,
        },
        { signal },
      );
      const out = outputs.out_sample;
      if (!out || isKept(out)) throw new Error('the UNet returned no out_sample');
      let noisePred = out;
      if (doCfg) {
        const cond = sliceBatch(out, 1);
        noisePred = classifierFreeGuidance(sliceBatch(out, 0), cond, guidanceScale);
        if (guidanceRescale > 0) noisePred = rescaleNoiseCfg(noisePred, cond, guidanceRescale);
      }
      const { prevSample, predOriginalSample } = scheduler.step(noisePred, timestep, latents, { generator });
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
      totalMs: performance.now() - start,
    };
  } finally {
    encoderHiddenStates.dispose();
  }
}
