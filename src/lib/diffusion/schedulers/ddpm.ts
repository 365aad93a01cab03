import { f32, roundHalfEven } from '../numerics';
import { alphasCumprod } from '../schedules';
import { mapTensor, mapTensors, splitChannels, zipTensors, type Tensor } from '../tensor';
import {
  addNoiseVp,
  betasFromConfig,
  clipOrThreshold,
  resolveConfig,
  spaceTimesteps,
  stepNoise,
  type BaseSchedulerConfig,
  type Scheduler,
  type SchedulerOutput,
  type StepOptions,
  velocityVp,
} from './common';

/**
 * The variance of the reverse step p(x_{t-1} | x_t):
 * - `fixed_small`: the posterior variance beta~_t (DDPM eq. 7), best for sample quality.
 * - `fixed_large`: beta_t (DDPM section 3.2), the upper bound.
 * - `fixed_small_log`, `fixed_large_log`: the same two, computed through their logarithms.
 * - `learned`: the model predicts the variance itself in extra output channels.
 * - `learned_range`: the model predicts v in [-1, 1] and the log-variance is
 *   v' log beta_t + (1 - v') log beta~_t with v' = (v + 1) / 2 (Nichol & Dhariwal 2021, eq. 15).
 */
export type DDPMVarianceType =
  'fixed_small' | 'fixed_small_log' | 'fixed_large' | 'fixed_large_log' | 'learned' | 'learned_range';

export interface DDPMSchedulerConfig extends BaseSchedulerConfig {
  varianceType: DDPMVarianceType;
  /** Clip the predicted x0 to [-clipSampleRange, clipSampleRange] (pixel-space models). */
  clipSample: boolean;
  clipSampleRange: number;
  /** Dynamic thresholding of the predicted x0 (Imagen); overrides `clipSample`. */
  thresholding: boolean;
  dynamicThresholdingRatio: number;
  sampleMaxValue: number;
}

/** diffusers' `DDPMScheduler` defaults. */
export const DDPM_DEFAULTS: DDPMSchedulerConfig = {
  numTrainTimesteps: 1000, // DDPM trains with T = 1000
  betaStart: 0.0001, // DDPM's linear schedule: 1e-4 ...
  betaEnd: 0.02, // ... to 0.02
  betaSchedule: 'linear',
  trainedBetas: null,
  varianceType: 'fixed_small', // beta~_t gave DDPM its best FID
  clipSample: true, // pixel models predict x0 in [-1, 1]; latent models must turn this off
  predictionType: 'epsilon',
  thresholding: false, // only for pixel-space models with high guidance (Imagen)
  dynamicThresholdingRatio: 0.995, // Imagen's percentile
  clipSampleRange: 1.0,
  sampleMaxValue: 1.0,
  timestepSpacing: 'leading',
  stepsOffset: 0,
  rescaleBetasZeroSnr: false,
};

/**
 * Ancestral sampling of Ho et al. 2020, "Denoising Diffusion Probabilistic Models" (DDPM):
 * predict x0, take the mean of the posterior q(x_{t-1} | x_t, x0) (eq. 7) and add fresh noise
 * with the chosen variance. Mirrors diffusers' `DDPMScheduler`.
 */
export class DDPMScheduler implements Scheduler {
  readonly config: Readonly<DDPMSchedulerConfig>;
  /** beta_t, t = 0..T-1 (float32). */
  readonly betas: Float32Array;
  /** alpha_t = 1 - beta_t. */
  readonly alphas: Float32Array;
  /** alpha_bar_t = prod_{s<=t} alpha_s. */
  readonly alphasCumprod: Float32Array;
  /** Standard deviation of the initial noise: 1 for variance-preserving schedulers. */
  readonly initNoiseSigma = 1;
  numInferenceSteps: number | null = null;
  /** Descending timesteps to sample at; every training step until `setTimesteps` is called. */
  timesteps: number[];
  private customTimesteps = false;

  constructor(config: Partial<DDPMSchedulerConfig> = {}) {
    this.config = resolveConfig(DDPM_DEFAULTS, config);
    this.betas = betasFromConfig(this.config);
    this.alphas = this.betas.map((b) => 1 - b);
    this.alphasCumprod = alphasCumprod(this.betas);
    this.timesteps = Array.from(
      { length: this.config.numTrainTimesteps },
      (_, i) => this.config.numTrainTimesteps - 1 - i,
    );
  }

  /** DDPM feeds the model x_t unscaled. */
  scaleModelInput(sample: Tensor, _timestep?: number): Tensor {
    return sample;
  }

  /** Chooses `numInferenceSteps` timesteps by `timestepSpacing`, or uses the given descending `timesteps`. */
  setTimesteps(numInferenceSteps?: number | null, options: { timesteps?: ArrayLike<number> } = {}): void {
    const { numTrainTimesteps, timestepSpacing, stepsOffset } = this.config;
    if (options.timesteps) {
      if (numInferenceSteps != null) {
        throw new Error('DDPMScheduler.setTimesteps: pass either numInferenceSteps or timesteps, not both.');
      }
      const custom = Array.from(options.timesteps);
      if (custom.some((t, i) => i > 0 && t >= custom[i - 1])) {
        throw new Error('DDPMScheduler.setTimesteps: custom timesteps must be in descending order.');
      }
      if (custom[0] >= numTrainTimesteps) {
        throw new Error(
          `DDPMScheduler.setTimesteps: timesteps must start below numTrainTimesteps (${numTrainTimesteps}).`,
        );
      }
      this.timesteps = custom;
      this.customTimesteps = true;
      return;
    }
    if (numInferenceSteps == null) throw new Error('DDPMScheduler.setTimesteps: numInferenceSteps is required.');
    this.numInferenceSteps = numInferenceSteps;
    this.customTimesteps = false;
    this.timesteps = spaceTimesteps(timestepSpacing, numTrainTimesteps, numInferenceSteps, stepsOffset).map(
      roundHalfEven,
    );
  }

  /** The timestep after `timestep` in the schedule, -1 after the last one. */
  previousTimestep(timestep: number): number {
    if (!this.customTimesteps && !this.numInferenceSteps) return timestep - 1;
    const index = this.timesteps.indexOf(timestep);
    if (index < 0) throw new Error(`DDPMScheduler: timestep ${timestep} is not in the schedule.`);
    return index === this.timesteps.length - 1 ? -1 : this.timesteps[index + 1];
  }

  /**
   * One reverse step x_t -> x_{t-1}. `modelOutput` has twice the channels of `sample` for the
   * `learned` variance types (prediction, then variance). Needs `generator` or `varianceNoise`
   * for every t > 0.
   */
  step(modelOutput: Tensor, timestep: number, sample: Tensor, options: StepOptions = {}): SchedulerOutput {
    const t = timestep;
    const prevT = this.previousTimestep(t);

    let prediction = modelOutput; // [B, C, H, W]
    let predictedVariance: Tensor | null = null;
    if (this.config.varianceType === 'learned' || this.config.varianceType === 'learned_range') {
      const channels = sample.shape[1];
      if (modelOutput.shape[1] !== channels * 2) {
        throw new Error(
          `DDPMScheduler: varianceType '${this.config.varianceType}' needs a model output with ` +
            `${channels * 2} channels (prediction, then variance); got ${modelOutput.shape[1]}.`,
        );
      }
      // [B, 2C, H, W] -> prediction [B, C, H, W], variance [B, C, H, W]
      [prediction, predictedVariance] = splitChannels(modelOutput, channels);
    }

    // 1. alphas and betas (float32 scalars, as diffusers computes them)
    const alphaProdT = this.alphasCumprod[t];
    const alphaProdTPrev = prevT >= 0 ? this.alphasCumprod[prevT] : 1;
    const betaProdT = f32(1 - alphaProdT);
    const betaProdTPrev = f32(1 - alphaProdTPrev);
    const currentAlphaT = f32(alphaProdT / alphaProdTPrev);
    const currentBetaT = f32(1 - currentAlphaT);
    const sqrtAlphaProdT = f32(Math.sqrt(alphaProdT));
    const sqrtBetaProdT = f32(Math.sqrt(betaProdT));

    // 2. predicted x0 (DDPM eq. 15 for epsilon)
    let predOriginalSample: Tensor; // [B, C, H, W]
    switch (this.config.predictionType) {
      case 'epsilon':
        predOriginalSample = zipTensors(sample, prediction, (x, eps) => (x - sqrtBetaProdT * eps) / sqrtAlphaProdT);
        break;
      case 'sample':
        predOriginalSample = prediction;
        break;
      case 'v_prediction':
        predOriginalSample = zipTensors(sample, prediction, (x, v) => sqrtAlphaProdT * x - sqrtBetaProdT * v);
        break;
      default:
        throw new Error(`DDPMScheduler: unknown predictionType "${this.config.predictionType as string}".`);
    }

    // 3. clip or threshold x0
    predOriginalSample = clipOrThreshold(predOriginalSample, this.config);

    // 4. posterior mean mu~_t(x_t, x0) = c0 * x0 + ct * x_t (DDPM eq. 7)
    const predOriginalSampleCoeff = f32(f32(f32(Math.sqrt(alphaProdTPrev)) * currentBetaT) / betaProdT);
    const currentSampleCoeff = f32(f32(f32(Math.sqrt(currentAlphaT)) * betaProdTPrev) / betaProdT);
    const predPrevSample = zipTensors(
      predOriginalSample,
      sample,
      (x0, x) => predOriginalSampleCoeff * x0 + currentSampleCoeff * x,
    );

    // 5. add noise; the last step (t = 0) returns the mean
    if (t <= 0) return { prevSample: predPrevSample, predOriginalSample };
    const noise = stepNoise(predPrevSample, options, 'DDPMScheduler.step');
    const std = this.noiseStd(t, predictedVariance);
    const prevSample =
      typeof std === 'number'
        ? zipTensors(predPrevSample, noise, (mean, z) => mean + std * z)
        : mapTensors([predPrevSample, std, noise], ([mean, s, z]) => mean + s * z);
    return { prevSample, predOriginalSample };
  }

  /** Standard deviation of the noise added at t (diffusers' `_get_variance`); per element for learned variances. */
  private noiseStd(t: number, predictedVariance: Tensor | null): number | Tensor {
    const prevT = this.previousTimestep(t);
    const alphaProdT = this.alphasCumprod[t];
    const alphaProdTPrev = prevT >= 0 ? this.alphasCumprod[prevT] : 1;
    const currentBetaT = f32(1 - f32(alphaProdT / alphaProdTPrev));
    // beta~_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) * beta_t (DDPM eq. 7), kept above 0 for its log.
    const posteriorVariance = f32(f32(f32(1 - alphaProdTPrev) / f32(1 - alphaProdT)) * currentBetaT);
    const variance = Math.max(posteriorVariance, f32(1e-20));

    switch (this.config.varianceType) {
      case 'fixed_small':
        return f32(Math.sqrt(variance));
      case 'fixed_small_log':
        return f32(Math.exp(f32(0.5 * f32(Math.log(variance)))));
      case 'fixed_large':
        return f32(Math.sqrt(currentBetaT));
      case 'fixed_large_log':
        // diffusers' step takes sqrt(log beta_t) here, which is NaN; we use the intended exp(0.5 log beta_t).
        return f32(Math.exp(f32(0.5 * f32(Math.log(currentBetaT)))));
      case 'learned':
        return mapTensor(predictedVariance!, (v) => Math.sqrt(v));
      case 'learned_range': {
        const minLog = f32(Math.log(variance));
        const maxLog = f32(Math.log(currentBetaT));
        return mapTensor(predictedVariance!, (v) => {
          const frac = (v + 1) / 2;
          return Math.exp(0.5 * (frac * maxLog + (1 - frac) * minLog));
        });
      }
      default:
        throw new Error(`DDPMScheduler: unknown varianceType "${this.config.varianceType as string}".`);
    }
  }

  /** Forward process q(x_t | x0) = N(sqrt(alpha_bar_t) x0, (1 - alpha_bar_t) I) (DDPM eq. 4), a t per batch element. */
  addNoise(originalSamples: Tensor, noise: Tensor, timesteps: number | ArrayLike<number>): Tensor {
    return addNoiseVp(this.alphasCumprod, originalSamples, noise, timesteps);
  }

  /** The v-prediction target v = sqrt(alpha_bar_t) eps - sqrt(1 - alpha_bar_t) x0 (Salimans & Ho 2022). */
  getVelocity(sample: Tensor, noise: Tensor, timesteps: number | ArrayLike<number>): Tensor {
    return velocityVp(this.alphasCumprod, sample, noise, timesteps);
  }
}
