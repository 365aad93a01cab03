import { dynamicThreshold } from '../guidance';
import { arange, f32, linspace, roundHalfEven } from '../numerics';
import { randnTensor, type Generator } from '../random';
import { betaSchedule, rescaleZeroTerminalSnr, type BetaScheduleName } from '../schedules';
import { assertSameShape, clamp, numel, zipTensors, type Tensor } from '../tensor';

/**
 * What the network predicts: the noise `epsilon` (DDPM), the clean `sample` x0, or the
 * velocity `v_prediction` v = sqrt(alpha_bar) * eps - sqrt(1 - alpha_bar) * x0 (Salimans & Ho 2022).
 */
export type PredictionType = 'epsilon' | 'sample' | 'v_prediction';

/**
 * How inference timesteps are spread over the training steps (Lin et al. 2023, Table 2):
 * `linspace` includes both ends, `leading` starts from 0 and misses the last steps, `trailing`
 * starts from the last step (needed for zero-terminal-SNR models).
 */
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

/** Options every scheduler shares, in diffusers' names (camelCase). */
export interface BaseSchedulerConfig {
  /** Number of diffusion steps the model was trained with. */
  numTrainTimesteps: number;
  /** First beta of the `linear`, `scaled_linear` and `sigmoid` schedules. */
  betaStart: number;
  /** Last beta of the `linear`, `scaled_linear` and `sigmoid` schedules. */
  betaEnd: number;
  betaSchedule: BetaScheduleName;
  /** Betas given explicitly; when set, `betaSchedule`, `betaStart` and `betaEnd` are ignored. */
  trainedBetas: ArrayLike<number> | null;
  predictionType: PredictionType;
  timestepSpacing: TimestepSpacing;
  /** Added to every `leading` timestep; Stable Diffusion uses 1 so the schedule ends at t = 1. */
  stepsOffset: number;
  /** Rescale the betas to zero terminal SNR (Lin et al. 2023); needs `trailing` spacing to help. */
  rescaleBetasZeroSnr: boolean;
}

/** Options of `step()`; each scheduler reads the ones it uses and ignores the rest. */
export interface StepOptions {
  /** Draws the fresh noise of stochastic steps (DDPM, DDIM with eta > 0, Euler with sChurn > 0, SDE-DPM-Solver++). */
  generator?: Generator;
  /** The noise to add instead of drawing it, like diffusers' `variance_noise` (e.g. to replay upstream draws). */
  varianceNoise?: Tensor;
  /** DDIM: weight of the fresh noise; 0 is deterministic DDIM, 1 matches DDPM's posterior variance. */
  eta?: number;
  /** DDIM: re-derive the noise from the clipped/thresholded x0 (as GLIDE does). */
  useClippedModelOutput?: boolean;
  /**
   * DDIM: maps the (clipped) predicted x0 onto the images that agree with a measurement before the step
   * uses it (DDNM's range-space step, Wang et al. 2023); the noise is then re-derived from the result.
   */
  projectPredOriginalSample?: (predOriginalSample: Tensor) => Tensor;
  /** Euler: amount of noise re-injected per step ("churn", Karras et al. 2022, Algorithm 2). */
  sChurn?: number;
  /** Euler: churn only where sigma >= sTmin. */
  sTmin?: number;
  /** Euler: churn only where sigma <= sTmax. */
  sTmax?: number;
  /** Euler: scale of the churn noise. */
  sNoise?: number;
}

/** The result of one `step()`. */
export interface SchedulerOutput {
  /** x_{t-1}, the sample to feed the model at the next timestep. */
  prevSample: Tensor;
  /** The scheduler's estimate of the clean sample x0 at this step. */
  predOriginalSample: Tensor;
}

/** The interface a sampling loop needs, shared by all schedulers. */
export interface Scheduler {
  readonly config: Readonly<BaseSchedulerConfig>;
  readonly timesteps: number[];
  readonly initNoiseSigma: number;
  setTimesteps(numInferenceSteps: number): void;
  scaleModelInput(sample: Tensor, timestep: number): Tensor;
  step(modelOutput: Tensor, timestep: number, sample: Tensor, options?: StepOptions): SchedulerOutput;
  addNoise(originalSamples: Tensor, noise: Tensor, timesteps: number | ArrayLike<number>): Tensor;
}

/** Diffusers' defaults, then the caller's options; keys passed as `undefined` keep the default. */
export function resolveConfig<C extends object>(defaults: C, options: Partial<C>): Readonly<C> {
  const resolved = { ...defaults };
  for (const [key, value] of Object.entries(options) as [keyof C, C[keyof C] | undefined][]) {
    if (value !== undefined) resolved[key] = value;
  }
  return Object.freeze(resolved);
}

/** The betas a scheduler trains with: explicit `trainedBetas` or a named schedule, optionally zero-SNR rescaled. */
export function betasFromConfig(config: BaseSchedulerConfig): Float32Array {
  const betas = config.trainedBetas
    ? Float32Array.from(config.trainedBetas)
    : betaSchedule(config.betaSchedule, config.numTrainTimesteps, config.betaStart, config.betaEnd);
  return config.rescaleBetasZeroSnr ? rescaleZeroTerminalSnr(betas) : betas;
}

/**
 * Descending inference timesteps as DDPM, DDIM and Euler space them (Lin et al. 2023, Table 2).
 * `linspace` values are returned unrounded (DDPM/DDIM round them, Euler keeps the fractions).
 */
export function spaceTimesteps(
  spacing: TimestepSpacing,
  numTrainTimesteps: number,
  numInferenceSteps: number,
  stepsOffset: number,
): number[] {
  if (numInferenceSteps > numTrainTimesteps) {
    throw new Error(
      `numInferenceSteps (${numInferenceSteps}) cannot be larger than numTrainTimesteps (${numTrainTimesteps}).`,
    );
  }
  switch (spacing) {
    case 'linspace':
      return linspace(0, numTrainTimesteps - 1, numInferenceSteps).reverse();
    case 'leading': {
      const stepRatio = Math.floor(numTrainTimesteps / numInferenceSteps);
      return Array.from({ length: numInferenceSteps }, (_, i) => i * stepRatio + stepsOffset).reverse();
    }
    case 'trailing': {
      const stepRatio = numTrainTimesteps / numInferenceSteps;
      return arange(numTrainTimesteps, 0, -stepRatio).map((t) => roundHalfEven(t) - 1);
    }
    default:
      throw new Error(`Unknown timestepSpacing "${spacing as string}"; use 'linspace', 'leading' or 'trailing'.`);
  }
}

/**
 * The noise of a stochastic step: `varianceNoise` when given, otherwise drawn from `generator`.
 * Throws a readable error when neither is there.
 */
export function stepNoise(like: Tensor, options: StepOptions, who: string): Tensor {
  if (options.varianceNoise) {
    assertSameShape(options.varianceNoise, like, `${who}: varianceNoise`);
    return options.varianceNoise;
  }
  if (!options.generator) {
    throw new Error(
      `${who} adds fresh noise at this step: pass { generator } (a seeded Generator) or { varianceNoise } to step().`,
    );
  }
  return randnTensor(like.shape, options.generator);
}

/** Clips x0 to [-range, range], or applies dynamic thresholding when `thresholding` is on (DDPM/DDIM step 4). */
export function clipOrThreshold(
  predOriginalSample: Tensor,
  config: {
    thresholding: boolean;
    dynamicThresholdingRatio: number;
    sampleMaxValue: number;
    clipSample?: boolean;
    clipSampleRange?: number;
  },
): Tensor {
  if (config.thresholding) {
    return dynamicThreshold(predOriginalSample, config.dynamicThresholdingRatio, config.sampleMaxValue);
  }
  if (config.clipSample) {
    const range = f32(config.clipSampleRange ?? 1);
    return clamp(predOriginalSample, -range, range);
  }
  return predOriginalSample;
}

/** One value per batch element from a scalar or a per-sample list (diffusers broadcasts [B] against [B, ...]). */
export function perBatch(timesteps: number | ArrayLike<number>, batch: number): number[] {
  const list = typeof timesteps === 'number' ? [timesteps] : Array.from(timesteps);
  if (list.length === 1) return Array.from({ length: batch }, () => list[0]);
  if (list.length !== batch) {
    throw new Error(
      `Got ${list.length} timesteps for a batch of ${batch}; pass one per batch element or a single one.`,
    );
  }
  return list;
}

/** Index of `timestep` in `schedule`; the second match when it repeats (diffusers' `index_for_timestep`). */
export function indexForTimestep(schedule: readonly number[], timestep: number): number {
  const matches: number[] = [];
  schedule.forEach((t, i) => {
    if (t === timestep) matches.push(i);
  });
  // The first step uses the second match so that a restart in the middle of a schedule with
  // repeated timesteps (img2img) does not skip a sigma.
  return matches.length > 1 ? matches[1] : (matches[0] ?? -1);
}

/** Per batch element n: (sqrt(alpha_bar_t), sqrt(1 - alpha_bar_t)) in float32, and the elements per batch. */
function vpScales(
  alphasCumprodValues: Float32Array,
  shape: number[],
  timesteps: number | ArrayLike<number>,
): { scales: [number, number][]; size: number } {
  const scales = perBatch(timesteps, shape[0]).map((t): [number, number] => {
    const alphaProd = alphasCumprodValues[t];
    return [f32(Math.sqrt(alphaProd)), f32(Math.sqrt(f32(1 - alphaProd)))];
  });
  return { scales, size: numel(shape.slice(1)) };
}

/** x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps (DDPM eq. 4), shared by DDPM and DDIM. */
export function addNoiseVp(
  alphasCumprodValues: Float32Array,
  originalSamples: Tensor,
  noise: Tensor,
  timesteps: number | ArrayLike<number>,
): Tensor {
  const { scales, size } = vpScales(alphasCumprodValues, originalSamples.shape, timesteps);
  return zipTensors(originalSamples, noise, (x0, eps, i) => {
    const [sqrtAlphaProd, sqrtOneMinusAlphaProd] = scales[Math.floor(i / size)];
    return sqrtAlphaProd * x0 + sqrtOneMinusAlphaProd * eps;
  });
}

/** v = sqrt(alpha_bar_t) eps - sqrt(1 - alpha_bar_t) x0 (Salimans & Ho 2022, section 4). */
export function velocityVp(
  alphasCumprodValues: Float32Array,
  sample: Tensor,
  noise: Tensor,
  timesteps: number | ArrayLike<number>,
): Tensor {
  const { scales, size } = vpScales(alphasCumprodValues, sample.shape, timesteps);
  return zipTensors(sample, noise, (x0, eps, i) => {
    const [sqrtAlphaProd, sqrtOneMinusAlphaProd] = scales[Math.floor(i / size)];
    return sqrtAlphaProd * eps - sqrtOneMinusAlphaProd * x0;
  });
}
