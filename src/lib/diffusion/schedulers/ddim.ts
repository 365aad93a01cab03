import { f32, roundHalfEven } from '../numerics';
import { alphasCumprod } from '../schedules';
import { zipTensors, type Tensor } from '../tensor';
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

export interface DDIMSchedulerConfig extends BaseSchedulerConfig {
  /** Clip the predicted x0 to [-clipSampleRange, clipSampleRange] (pixel-space models). */
  clipSample: boolean;
  clipSampleRange: number;
  /** alpha_bar after the last step: 1 (true), or the training schedule's alpha_bar_0 (false, Stable Diffusion). */
  setAlphaToOne: boolean;
  /** Dynamic thresholding of the predicted x0 (Imagen); overrides `clipSample`. */
  thresholding: boolean;
  dynamicThresholdingRatio: number;
  sampleMaxValue: number;
}

/** diffusers' `DDIMScheduler` defaults. */
export const DDIM_DEFAULTS: DDIMSchedulerConfig = {
  numTrainTimesteps: 1000, // DDPM's T
  betaStart: 0.0001, // DDPM's linear schedule: 1e-4 ...
  betaEnd: 0.02, // ... to 0.02
  betaSchedule: 'linear',
  trainedBetas: null,
  clipSample: true, // pixel models predict x0 in [-1, 1]; latent models must turn this off
  setAlphaToOne: true, // the final step lands on the clean sample
  stepsOffset: 0,
  predictionType: 'epsilon',
  thresholding: false,
  dynamicThresholdingRatio: 0.995, // Imagen's percentile
  clipSampleRange: 1.0,
  sampleMaxValue: 1.0,
  timestepSpacing: 'leading',
  rescaleBetasZeroSnr: false,
};

/**
 * Denoising Diffusion Implicit Models (Song, Meng & Ermon 2021): the non-Markovian sampler of
 * eq. 12, deterministic for eta = 0 and as noisy as DDPM for eta = 1 (eq. 16). Mirrors
 * diffusers' `DDIMScheduler`.
 */
export class DDIMScheduler implements Scheduler {
  readonly config: Readonly<DDIMSchedulerConfig>;
  readonly betas: Float32Array;
  readonly alphas: Float32Array;
  readonly alphasCumprod: Float32Array;
  /** alpha_bar used after the last step: 1, or alpha_bar_0 when `setAlphaToOne` is false. */
  readonly finalAlphaCumprod: number;
  readonly initNoiseSigma = 1;
  numInferenceSteps: number | null = null;
  timesteps: number[];

  constructor(config: Partial<DDIMSchedulerConfig> = {}) {
    this.config = resolveConfig(DDIM_DEFAULTS, config);
    this.betas = betasFromConfig(this.config);
    this.alphas = this.betas.map((b) => 1 - b);
    this.alphasCumprod = alphasCumprod(this.betas);
    this.finalAlphaCumprod = this.config.setAlphaToOne ? 1 : this.alphasCumprod[0];
    this.timesteps = Array.from(
      { length: this.config.numTrainTimesteps },
      (_, i) => this.config.numTrainTimesteps - 1 - i,
    );
  }

  /** DDIM feeds the model x_t unscaled. */
  scaleModelInput(sample: Tensor, _timestep?: number): Tensor {
    return sample;
  }

  /** Chooses `numInferenceSteps` timesteps by `timestepSpacing`. */
  setTimesteps(numInferenceSteps: number): void {
    const { numTrainTimesteps, timestepSpacing, stepsOffset } = this.config;
    this.numInferenceSteps = numInferenceSteps;
    this.timesteps = spaceTimesteps(timestepSpacing, numTrainTimesteps, numInferenceSteps, stepsOffset).map(
      roundHalfEven,
    );
  }

  /** (sigma_t / eta)^2 = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) (1 - alpha_bar_t / alpha_bar_{t-1}), DDIM eq. 16 */
  private variance(timestep: number, prevTimestep: number): number {
    const alphaProdT = this.alphasCumprod[timestep];
    const alphaProdTPrev = prevTimestep >= 0 ? this.alphasCumprod[prevTimestep] : this.finalAlphaCumprod;
    const betaProdT = f32(1 - alphaProdT);
    const betaProdTPrev = f32(1 - alphaProdTPrev);
    return f32(f32(betaProdTPrev / betaProdT) * f32(1 - f32(alphaProdT / alphaProdTPrev)));
  }

  /**
   * One DDIM step x_t -> x_{t-1} (eq. 12). With `eta` > 0 it needs `generator` or `varianceNoise`.
   * `useClippedModelOutput` re-derives eps from the clipped x0 so that direction and x0 agree.
   */
  step(modelOutput: Tensor, timestep: number, sample: Tensor, options: StepOptions = {}): SchedulerOutput {
    if (this.numInferenceSteps === null) {
      throw new Error('DDIMScheduler: call setTimesteps(numInferenceSteps) before step().');
    }
    const eta = options.eta ?? 0;

    // 1. previous timestep; diffusers subtracts the leading step ratio whatever the spacing
    const prevTimestep = timestep - Math.floor(this.config.numTrainTimesteps / this.numInferenceSteps);

    // 2. alphas and betas
    const alphaProdT = this.alphasCumprod[timestep];
    const alphaProdTPrev = prevTimestep >= 0 ? this.alphasCumprod[prevTimestep] : this.finalAlphaCumprod;
    const betaProdT = f32(1 - alphaProdT);
    const sqrtAlphaProdT = f32(Math.sqrt(alphaProdT));
    const sqrtBetaProdT = f32(Math.sqrt(betaProdT));

    // 3. predicted x0 ("predicted x_0" of eq. 12) and predicted noise
    let predOriginalSample: Tensor; // [B, C, H, W]
    let predEpsilon: Tensor; // [B, C, H, W]
    switch (this.config.predictionType) {
      case 'epsilon':
        predOriginalSample = zipTensors(sample, modelOutput, (x, eps) => (x - sqrtBetaProdT * eps) / sqrtAlphaProdT);
        predEpsilon = modelOutput;
        break;
      case 'sample':
        predOriginalSample = modelOutput;
        predEpsilon = zipTensors(sample, modelOutput, (x, x0) => (x - sqrtAlphaProdT * x0) / sqrtBetaProdT);
        break;
      case 'v_prediction':
        predOriginalSample = zipTensors(sample, modelOutput, (x, v) => sqrtAlphaProdT * x - sqrtBetaProdT * v);
        predEpsilon = zipTensors(sample, modelOutput, (x, v) => sqrtAlphaProdT * v + sqrtBetaProdT * x);
        break;
      default:
        throw new Error(`DDIMScheduler: unknown predictionType "${this.config.predictionType as string}".`);
    }

    // 4. clip or threshold x0
    predOriginalSample = clipOrThreshold(predOriginalSample, this.config);

    // 5. sigma_t(eta) (eq. 16)
    const stdDevT = f32(f32(eta) * f32(Math.sqrt(this.variance(timestep, prevTimestep))));

    if (options.projectPredOriginalSample) predOriginalSample = options.projectPredOriginalSample(predOriginalSample);
    if (options.useClippedModelOutput || options.projectPredOriginalSample) {
      // GLIDE re-derives eps from the clipped x0; otherwise the step mixes an x0 and an eps that disagree.
      predEpsilon = zipTensors(sample, predOriginalSample, (x, x0) => (x - sqrtAlphaProdT * x0) / sqrtBetaProdT);
    }

    // 6-7. x_{t-1} = sqrt(alpha_bar_{t-1}) x0 + sqrt(1 - alpha_bar_{t-1} - sigma_t^2) eps (eq. 12)
    const directionCoeff = f32(Math.sqrt(f32(f32(1 - alphaProdTPrev) - f32(stdDevT * stdDevT))));
    const sqrtAlphaProdTPrev = f32(Math.sqrt(alphaProdTPrev));
    const prevSampleMean = zipTensors(
      predOriginalSample,
      predEpsilon,
      (x0, eps) => sqrtAlphaProdTPrev * x0 + directionCoeff * eps,
    );
    if (eta <= 0) return { prevSample: prevSampleMean, predOriginalSample };

    const noise = stepNoise(prevSampleMean, options, 'DDIMScheduler.step with eta > 0');
    const prevSample = zipTensors(prevSampleMean, noise, (mean, z) => mean + stdDevT * z);
    return { prevSample, predOriginalSample };
  }

  /** Forward process q(x_t | x0) (DDPM eq. 4), one t per batch element. */
  addNoise(originalSamples: Tensor, noise: Tensor, timesteps: number | ArrayLike<number>): Tensor {
    return addNoiseVp(this.alphasCumprod, originalSamples, noise, timesteps);
  }

  /** The v-prediction target (Salimans & Ho 2022). */
  getVelocity(sample: Tensor, noise: Tensor, timesteps: number | ArrayLike<number>): Tensor {
    return velocityVp(this.alphasCumprod, sample, noise, timesteps);
  }
}
