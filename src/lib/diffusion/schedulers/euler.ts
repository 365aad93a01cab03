import { f32, interp, linspace, linspaceFloat32 } from '../numerics';
import { alphasCumprod } from '../schedules';
import { mapTensor, numel, zipTensors, type Tensor } from '../tensor';
import {
  betasFromConfig,
  indexForTimestep,
  perBatch,
  resolveConfig,
  spaceTimesteps,
  stepNoise,
  type BaseSchedulerConfig,
  type Scheduler,
  type SchedulerOutput,
  type StepOptions,
} from './common';
import { exponentialSigmas, karrasSigmas, logSigmas, sigmaToT, trainingSigmas } from './sigmas';

export interface EulerDiscreteSchedulerConfig extends BaseSchedulerConfig {
  /** How sigmas between training steps are found: `linear` in t, or `log_linear` (evenly spaced log sigma). */
  interpolationType: 'linear' | 'log_linear';
  /** Use the Karras et al. 2022 noise levels (eq. 5) instead of the training sigmas at the chosen timesteps. */
  useKarrasSigmas: boolean;
  /** Use noise levels evenly spaced in log sigma. */
  useExponentialSigmas: boolean;
  /** Beta-distributed noise levels (needs the inverse beta CDF; not supported here). */
  useBetaSigmas: boolean;
  /** Lowest sigma of the Karras/exponential schedules; null takes the schedule's own. */
  sigmaMin: number | null;
  /** Highest sigma of the Karras/exponential schedules; null takes the schedule's own. */
  sigmaMax: number | null;
  /** `continuous` with v-prediction feeds the model 0.25 log sigma (EDM-style) instead of t. */
  timestepType: 'discrete' | 'continuous';
  /** Sigma after the last step: 0 (a clean sample) or the smallest training sigma. */
  finalSigmasType: 'zero' | 'sigma_min';
}

/** diffusers' `EulerDiscreteScheduler` defaults. */
export const EULER_DEFAULTS: EulerDiscreteSchedulerConfig = {
  numTrainTimesteps: 1000,
  betaStart: 0.0001,
  betaEnd: 0.02,
  betaSchedule: 'linear',
  trainedBetas: null,
  predictionType: 'epsilon',
  interpolationType: 'linear', // sigma at fractional timesteps, interpolated between training steps
  useKarrasSigmas: false,
  useExponentialSigmas: false,
  useBetaSigmas: false,
  sigmaMin: null,
  sigmaMax: null,
  timestepSpacing: 'linspace', // unlike DDPM/DDIM: k-diffusion samplers start from the last training step
  timestepType: 'discrete',
  stepsOffset: 0,
  rescaleBetasZeroSnr: false,
  finalSigmasType: 'zero', // the last step lands on a clean sample
};

/**
 * Euler's method on the probability-flow ODE dx/dsigma = (x - x0(x, sigma)) / sigma in the
 * sigma parametrisation of Karras et al. 2022 (Algorithm 2; with sChurn > 0 it re-injects noise
 * first). Mirrors diffusers' `EulerDiscreteScheduler`: samples live at scale
 * sqrt(1 + sigma^2), so `scaleModelInput` must be applied before the model sees them.
 */
export class EulerDiscreteScheduler implements Scheduler {
  readonly config: Readonly<EulerDiscreteSchedulerConfig>;
  readonly betas: Float32Array;
  readonly alphas: Float32Array;
  readonly alphasCumprod: Float32Array;
  numInferenceSteps: number | null = null;
  /** Descending (possibly fractional) timesteps to feed the model. */
  timesteps: number[];
  /** Noise level at each timestep, plus the final one: length timesteps.length + 1. */
  sigmas: Float32Array;
  private currentStepIndex: number | null = null;
  private firstStepIndex: number | null = null;

  constructor(config: Partial<EulerDiscreteSchedulerConfig> = {}) {
    this.config = resolveConfig(EULER_DEFAULTS, config);
    const { numTrainTimesteps, useKarrasSigmas, useExponentialSigmas, useBetaSigmas } = this.config;
    if (useBetaSigmas) {
      throw new Error(
        'EulerDiscreteScheduler: useBetaSigmas is not supported; use useKarrasSigmas or useExponentialSigmas.',
      );
    }
    if (useKarrasSigmas && useExponentialSigmas) {
      throw new Error('EulerDiscreteScheduler: choose only one of useKarrasSigmas and useExponentialSigmas.');
    }
    this.betas = betasFromConfig(this.config);
    this.alphas = this.betas.map((b) => 1 - b);
    this.alphasCumprod = alphasCumprod(this.betas);
    if (this.config.rescaleBetasZeroSnr) {
      // Zero terminal SNR means sigma = infinity at t = T-1; fp16's smallest subnormal keeps it finite.
      this.alphasCumprod[numTrainTimesteps - 1] = 2 ** -24;
    }
    const sigmas = trainingSigmas(this.alphasCumprod).reverse();
    this.sigmas = Float32Array.from([...sigmas, 0]);
    this.timesteps = this.usesContinuousTimesteps()
      ? Array.from(sigmas, (s) => f32(0.25 * f32(Math.log(s))))
      : Array.from(linspace(0, numTrainTimesteps - 1, numTrainTimesteps).reverse(), f32);
  }

  private usesContinuousTimesteps(): boolean {
    return this.config.timestepType === 'continuous' && this.config.predictionType === 'v_prediction';
  }

  /** Standard deviation of the initial noise: the largest sigma (times sqrt(1 + 1/sigma^2) for `leading`). */
  get initNoiseSigma(): number {
    const maxSigma = this.sigmas.reduce((m, s) => Math.max(m, s), 0);
    if (this.config.timestepSpacing === 'linspace' || this.config.timestepSpacing === 'trailing') return maxSigma;
    return f32(Math.sqrt(f32(f32(maxSigma * maxSigma) + 1)));
  }

  /** Index into `sigmas` of the current step; null until the first `scaleModelInput`/`step`. */
  get stepIndex(): number | null {
    return this.currentStepIndex;
  }

  /** Index to start from (set by img2img pipelines); null to find it from the first timestep. */
  get beginIndex(): number | null {
    return this.firstStepIndex;
  }

  setBeginIndex(beginIndex = 0): void {
    this.firstStepIndex = beginIndex;
  }

  /** Chooses `numInferenceSteps` timesteps by `timestepSpacing` (or uses `timesteps`) and their sigmas. */
  setTimesteps(numInferenceSteps?: number | null, options: { timesteps?: ArrayLike<number> } = {}): void {
    const { numTrainTimesteps, timestepSpacing, stepsOffset, interpolationType, finalSigmasType } = this.config;
    if (options.timesteps && (this.config.useKarrasSigmas || this.config.useExponentialSigmas)) {
      throw new Error('EulerDiscreteScheduler: custom timesteps cannot be combined with Karras or exponential sigmas.');
    }
    if (options.timesteps && numInferenceSteps != null) {
      throw new Error('EulerDiscreteScheduler.setTimesteps: pass either numInferenceSteps or timesteps, not both.');
    }
    const steps = options.timesteps ? options.timesteps.length : numInferenceSteps;
    if (steps == null) throw new Error('EulerDiscreteScheduler.setTimesteps: numInferenceSteps is required.');
    this.numInferenceSteps = steps;

    // Same spacings as DDPM/DDIM, but `linspace` keeps its fractional timesteps (as float32).
    let timesteps = options.timesteps
      ? Array.from(options.timesteps, f32)
      : spaceTimesteps(timestepSpacing, numTrainTimesteps, steps, stepsOffset).map(f32);

    const trainSigmas = trainingSigmas(this.alphasCumprod); // [T], ascending in t
    const logTrainSigmas = logSigmas(trainSigmas);
    const trainTimesteps = Array.from({ length: trainSigmas.length }, (_, t) => t);
    let sigmas: number[];
    if (interpolationType === 'linear') {
      sigmas = timesteps.map((t) => interp(t, trainTimesteps, trainSigmas));
    } else if (interpolationType === 'log_linear') {
      const logMax = f32(Math.log(trainSigmas[trainSigmas.length - 1]));
      const logMin = f32(Math.log(trainSigmas[0]));
      sigmas = Array.from(linspaceFloat32(logMax, logMin, steps + 1), (l) => f32(Math.exp(l)));
    } else {
      throw new Error(`EulerDiscreteScheduler: unknown interpolationType "${interpolationType as string}".`);
    }

    if (this.config.useKarrasSigmas || this.config.useExponentialSigmas) {
      const sigmaMin = this.config.sigmaMin ?? sigmas[sigmas.length - 1];
      const sigmaMax = this.config.sigmaMax ?? sigmas[0];
      sigmas = this.config.useKarrasSigmas
        ? karrasSigmas(sigmaMin, sigmaMax, steps)
        : exponentialSigmas(sigmaMin, sigmaMax, steps);
      timesteps = sigmas.map((s) => f32(sigmaToT(s, logTrainSigmas)));
    }

    const sigmaLast = finalSigmasType === 'sigma_min' ? trainSigmas[0] : 0;
    this.sigmas = Float32Array.from([...sigmas, sigmaLast]);
    this.timesteps = this.usesContinuousTimesteps()
      ? Array.from(this.sigmas.subarray(0, -1), (s) => f32(0.25 * f32(Math.log(s))))
      : timesteps;
    this.currentStepIndex = null;
    this.firstStepIndex = null;
  }

  /** Position of `timestep` in the schedule (the second match if it repeats); throws if absent. */
  indexForTimestep(timestep: number, scheduleTimesteps: readonly number[] = this.timesteps): number {
    const index = indexForTimestep(scheduleTimesteps, timestep);
    if (index < 0) throw new Error(`EulerDiscreteScheduler: timestep ${timestep} is not in the schedule.`);
    return index;
  }

  private initStepIndex(timestep: number): void {
    this.currentStepIndex = this.firstStepIndex ?? this.indexForTimestep(timestep);
  }

  /** x / sqrt(sigma^2 + 1): brings the sample back to unit variance, the input scale the model was trained on. */
  scaleModelInput(sample: Tensor, timestep: number): Tensor {
    if (this.currentStepIndex === null) this.initStepIndex(timestep);
    const sigma = this.sigmas[this.currentStepIndex!];
    const scale = f32(Math.sqrt(f32(f32(sigma * sigma) + 1)));
    return mapTensor(sample, (x) => x / scale);
  }

  /**
   * One Euler step from sigmas[i] to sigmas[i + 1] (Karras et al. 2022, Algorithm 2). With
   * `sChurn` > 0 it first raises the noise level to sigma_hat = sigma (1 + gamma), which needs
   * `generator` or `varianceNoise`.
   */
  step(modelOutput: Tensor, timestep: number, sample: Tensor, options: StepOptions = {}): SchedulerOutput {
    const { sChurn = 0, sTmin = 0, sTmax = Infinity, sNoise = 1 } = options;
    if (this.currentStepIndex === null) this.initStepIndex(timestep);
    const index = this.currentStepIndex!;
    const sigma = this.sigmas[index];

    // Churn: gamma = min(S_churn / N, sqrt(2) - 1) inside [S_tmin, S_tmax] (Algorithm 2, line 4).
    const gamma = sTmin <= sigma && sigma <= sTmax ? Math.min(sChurn / (this.sigmas.length - 1), Math.SQRT2 - 1) : 0;
    const sigmaHat = f32(sigma * f32(gamma + 1));
    let x = sample;
    if (gamma > 0) {
      const noise = stepNoise(sample, options, 'EulerDiscreteScheduler.step with sChurn > 0');
      const churnScale = f32(Math.sqrt(f32(f32(sigmaHat * sigmaHat) - f32(sigma * sigma))));
      x = zipTensors(sample, noise, (xi, z) => xi + z * sNoise * churnScale);
    }

    // 1. predicted x0 from the sigma-scaled prediction
    let predOriginalSample: Tensor;
    switch (this.config.predictionType) {
      case 'sample':
        predOriginalSample = modelOutput;
        break;
      case 'epsilon':
        predOriginalSample = zipTensors(x, modelOutput, (xi, eps) => xi - sigmaHat * eps);
        break;
      case 'v_prediction': {
        // x0 = c_skip x + c_out v with c_skip = 1 / (sigma^2 + 1), c_out = -sigma / sqrt(sigma^2 + 1)
        const sigmaSquaredPlusOne = f32(f32(sigma * sigma) + 1);
        const cOut = f32(-sigma / f32(Math.sqrt(sigmaSquaredPlusOne)));
        predOriginalSample = zipTensors(x, modelOutput, (xi, v) => v * cOut + xi / sigmaSquaredPlusOne);
        break;
      }
      default:
        throw new Error(`EulerDiscreteScheduler: unknown predictionType "${this.config.predictionType as string}".`);
    }

    // 2. ODE derivative d = (x - x0) / sigma_hat, then one Euler step of size dt = sigma_{i+1} - sigma_hat
    const dt = f32(this.sigmas[index + 1] - sigmaHat);
    const prevSample = zipTensors(x, predOriginalSample, (xi, x0) => xi + ((xi - x0) / sigmaHat) * dt);

    this.currentStepIndex = index + 1;
    return { prevSample, predOriginalSample };
  }

  /** x_sigma = x0 + sigma * eps, with sigma looked up per batch element from its timestep. */
  addNoise(originalSamples: Tensor, noise: Tensor, timesteps: number | ArrayLike<number>): Tensor {
    const batch = originalSamples.shape[0];
    const stepIndices =
      this.firstStepIndex === null
        ? perBatch(timesteps, batch).map((t) => this.indexForTimestep(t))
        : Array.from({ length: batch }, () => this.currentStepIndex ?? this.firstStepIndex!);
    const size = numel(originalSamples.shape.slice(1));
    return zipTensors(
      originalSamples,
      noise,
      (x0, eps, i) => x0 + eps * this.sigmas[stepIndices[Math.floor(i / size)]],
    );
  }
}
