/**
 * Class-conditional latent sampling with a Diffusion Transformer (Peebles & Xie 2023), as diffusers'
 * DiTPipeline does it, but with Stable Diffusion's DDIM settings because our mini DiT shares the mini
 * SD UNet's noise schedule: classifier-free guidance runs [null class, class] as one batch of 2,
 * and the final latent is decoded by the emoji VAE (`vae_decoder(latents / scaling_factor)`).
 * Each step also keeps what the figures draw: the conditional pass's attention probabilities and
 * adaLN-Zero gate magnitudes.
 */
import {
  classifierFreeGuidance,
  concatBatch,
  createGenerator,
  randnTensor,
  scale,
  sliceBatch,
  type Tensor,
} from '../diffusion/index';
import type { TrainedSchedulerConfig } from '../runtime/manifest';
import { int64, hostOutput, type ModelRunner } from '../runtime/types';
import { makeScheduler } from './schedulers';
import { nextTask, throwIfAborted, type StepRecord } from './trajectory';
import { decode } from './vae';

export interface DitSampleOptions {
  /** Category index 0..numClasses-1. */
  classLabel: number;
  /** The label the DiT learned for "no class" (the manifest's null_class_label, 10). */
  nullClassLabel: number;
  /** 1 = conditional only (one pass per step), > 1 = guided (two passes, batched). */
  guidanceScale: number;
  numInferenceSteps: number;
  seed: number;
  /** [C, H, W] of the latent: [4, 8, 8]. */
  latentShape: [number, number, number];
  /** The VAE's scaling factor: latents are divided by it before decoding. */
  scalingFactor: number;
  onStep?: (step: DitStepRecord) => void;
  signal?: AbortSignal;
}

export interface DitStepRecord extends StepRecord {
  /** Conditional pass, [1, depth, heads, T, T]. */
  attentionProbs: Tensor;
  /** Conditional pass, mean |gate_msa| and |gate_mlp| per block, [1, depth, 2]. */
  adalnGates: Tensor;
}

export interface DitResult {
  /** The final latent, [1, 4, 8, 8] (scaled, as the DiT sees it). */
  latents: Tensor;
  /** Decoded picture, [1, 3, 32, 32] in [-1, 1]. */
  image: Tensor;
  timesteps: number[];
  /** Denoising loop only. */
  totalMs: number;
  decodeMs: number;
}

/** DDIM with SD's scheduler config (leading spacing, offset 1, no clipping, alpha-bar_0 at the end). */
export function ditScheduler(trained: TrainedSchedulerConfig) {
  return makeScheduler('ddim', trained, {
    timestepSpacing: 'leading',
    stepsOffset: 1,
    clipSample: false,
    setAlphaToOne: false,
  });
}

export async function sampleDit(
  dit: ModelRunner,
  vaeDecoder: ModelRunner,
  trained: TrainedSchedulerConfig,
  options: DitSampleOptions,
): Promise<DitResult> {
  const { classLabel, nullClassLabel, guidanceScale, numInferenceSteps, seed, onStep, signal } = options;
  const scheduler = ditScheduler(trained);
  scheduler.setTimesteps(numInferenceSteps);
  const generator = createGenerator(seed);
  const guided = guidanceScale !== 1;
  // Batch order [null, class], as DiT's sample.py concatenates y_null after y (either order is fine
  // for the maths; this one puts the conditional pass at index 1).
  const labels = guided ? [nullClassLabel, classLabel] : [classLabel];
  const cond = labels.length - 1;

  let sample = scale(randnTensor([1, ...options.latentShape], generator), scheduler.initNoiseSigma); // [1, C, H, W]
  const start = performance.now();
  for (const [index, timestep] of scheduler.timesteps.entries()) {
    await nextTask();
    throwIfAborted(signal);
    const stepStart = performance.now();
    const modelInput = scheduler.scaleModelInput(sample, timestep);
    const outputs = await dit.run(
      {
        sample: guided ? concatBatch([modelInput, modelInput]) : modelInput, // [B, C, H, W]
        timestep: { data: new Float32Array(labels.length).fill(timestep), shape: [labels.length] },
        class_labels: int64(labels),
      },
      { signal },
    );
    const out = hostOutput(outputs, 'out_sample', 'DiT'); // [B, C, H, W]
    const noisePred = guided ? classifierFreeGuidance(sliceBatch(out, 0), sliceBatch(out, 1), guidanceScale) : out;
    const { prevSample, predOriginalSample } = scheduler.step(noisePred, timestep, sample, { generator });
    onStep?.({
      index,
      timestep,
      sample,
      noisePred,
      predOriginalSample,
      prevSample,
      attentionProbs: sliceBatch(hostOutput(outputs, 'attention_probs', 'DiT'), cond), // [1, depth, heads, T, T]
      adalnGates: sliceBatch(hostOutput(outputs, 'adaln_gates', 'DiT'), cond), // [1, depth, 2]
      ms: performance.now() - stepStart,
    });
    sample = prevSample;
  }
  const totalMs = performance.now() - start;
  const decodeStart = performance.now();
  const image = await decode(vaeDecoder, scale(sample, 1 / options.scalingFactor), signal);
  return {
    latents: sample,
    image,
    timesteps: [...scheduler.timesteps],
    totalMs,
    decodeMs: performance.now() - decodeStart,
  };
}

/**
 * One DiT pass for a timestep and class, returning the adaLN-Zero gate magnitudes per block
 * ([depth] attention gates, [depth] MLP gates). The gates are a function of c = t_emb + y_emb only,
 * so the sample fed alongside does not change them; zeros are as good as anything.
 */
export async function ditGates(
  dit: ModelRunner,
  timestep: number,
  classLabel: number,
  latentShape: [number, number, number],
  signal?: AbortSignal,
): Promise<{ attention: number[]; mlp: number[] }> {
  const size = latentShape.reduce((a, b) => a * b, 1);
  const outputs = await dit.run(
    {
      sample: { data: new Float32Array(size), shape: [1, ...latentShape] },
      timestep: { data: Float32Array.of(timestep), shape: [1] },
      class_labels: int64([classLabel]),
    },
    { signal },
  );
  const gates = hostOutput(outputs, 'adaln_gates', 'DiT'); // [1, depth, 2]
  const depth = gates.shape[1];
  return {
    attention: Array.from({ length: depth }, (_, i) => gates.data[2 * i]),
    mlp: Array.from({ length: depth }, (_, i) => gates.data[2 * i + 1]),
  };
}

/**
 * Where one query token looks: row `token` of the softmax in block `layer`, head `head`.
 * probs [1, depth, heads, T, T] -> [T], summing to 1.
 */
export function attentionRow(probs: Tensor, layer: number, head: number, token: number): Float32Array {
  const [, depth, heads, t] = probs.shape;
  if (layer < 0 || layer >= depth || head < 0 || head >= heads || token < 0 || token >= t) {
    throw new Error(
      `attentionRow: block ${layer}, head ${head}, token ${token} is outside [${probs.shape.join(', ')}].`,
    );
  }
  const offset = ((layer * heads + head) * t + token) * t;
  return probs.data.slice(offset, offset + t);
}
