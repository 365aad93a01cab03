import { f32, linspace } from '../numerics';
import { zipTensors, type Tensor } from '../tensor';
import { resolveConfig, stepNoise, type SchedulerOutput, type StepOptions } from './common';

/** How `mu` bends the schedule under dynamic shifting: e^mu / (e^mu + (1/t - 1)^sigma), or mu / (mu + ...). */
export type TimeShiftType = 'exponential' | 'linear';

export interface FlowMatchEulerDiscreteSchedulerConfig {
  /** Number of training steps; timestep = sigma * numTrainTimesteps. */
  numTrainTimesteps: number;
  /** Fixed shift s of sigma -> s sigma / (1 + (s - 1) sigma) (SD3 uses 3); ignored with `useDynamicShifting`. */
  shift: number;
  /** Shift by a resolution-dependent `mu` passed to `setTimesteps` (FLUX) instead of `shift`. */
  useDynamicShifting: boolean;
  /** mu at `baseImageSeqLen` tokens, for `calculateShift`. */
  baseShift: number;
  /** mu at `maxImageSeqLen` tokens, for `calculateShift`. */
  maxShift: number;
  baseImageSeqLen: number;
  maxImageSeqLen: number;
  /** Feed the model 1 - sigma (Mochi); the schedule then ends at sigma = 1 instead of 0. */
  invertSigmas: boolean;
  /** Stretch the shifted schedule so that its last sigma equals this value (LTX-Video); null leaves it. */
  shiftTerminal: number | null;
  timeShiftType: TimeShiftType;
  /** Jump to (1 - sigma_next) x0 + sigma_next * fresh noise instead of taking an Euler step. */
  stochasticSampling: boolean;
}

/** diffusers' `FlowMatchEulerDiscreteScheduler` defaults. */
export const FLOW_MATCH_DEFAULTS: FlowMatchEulerDiscreteSchedulerConfig = {
  numTrainTimesteps: 1000,
  shift: 1.0, // no shift: sigmas evenly spaced in t (SD3 uses 3.0 to spend more steps at high noise)
  useDynamicShifting: false,
  baseShift: 0.5, // FLUX's mu at 256 image tokens (a 256x256 image) ...
  maxShift: 1.15, // ... and at 4096 tokens (1024x1024)
  baseImageSeqLen: 256,
  maxImageSeqLen: 4096,
  invertSigmas: false,
  shiftTerminal: null,
  timeShiftType: 'exponential',
  stochasticSampling: false,
};

/** Identity in float64; `f32` where diffusers computes in float32 (custom sigmas are cast to float32 first). */
type Rounding = (x: number) => number;
const exact: Rounding = (x) => x;

/**
 * diffusers' `time_shift(mu, sigma, t)`: e^mu / (e^mu + (1/t - 1)^sigma) (`exponential`, the
 * resolution-dependent shift of SD3, Esser et al. 2024, eq. 23 with alpha = e^mu), or
 * mu / (mu + (1/t - 1)^sigma) (`linear`). In float64, as diffusers computes its own schedules.
 */
export function timeShift(mu: number, sigma: number, t: number, timeShiftType: TimeShiftType = 'exponential'): number {
  return roundedTimeShift(mu, sigma, t, timeShiftType, exact);
}

function roundedTimeShift(mu: number, sigma: number, t: number, timeShiftType: TimeShiftType, round: Rounding): number {
  const m = timeShiftType === 'exponential' ? round(Math.exp(mu)) : round(mu);
  const odds = round(round(round(1 / t) - 1) ** sigma); // (1 - t) / t, the noise-to-signal odds
  return round(m / round(m + odds));
}

/**
 * mu for an image of `imageSeqLen` latent tokens: linear in the sequence length from `baseShift`
 * at `baseSeqLen` to `maxShift` at `maxSeqLen` (diffusers' `calculate_shift` in the FLUX and SD3 pipelines).
 */
export function calculateShift(
  imageSeqLen: number,
  baseSeqLen = 256,
  maxSeqLen = 4096,
  baseShift = 0.5,
  maxShift = 1.15,
): number {
  const m = (maxShift - baseShift) / (maxSeqLen - baseSeqLen);
  const b = baseShift - m * baseSeqLen;
  return imageSeqLen * m + b;
}

/**
 * Euler's method on the rectified-flow ODE dx/dsigma = v(x, sigma) (Liu et al. 2023; Lipman et
 * al. 2023), where x_sigma = (1 - sigma) x0 + sigma * noise and the model predicts the velocity
 * v = noise - x0. Mirrors diffusers' `FlowMatchEulerDiscreteScheduler` (SD3, FLUX), float32
 * rounding included.
 *
 * Not implemented: Karras, exponential and beta sigmas (`use_karras_sigmas`,
 * `use_exponential_sigmas`, `use_beta_sigmas`), custom `timesteps` in `setTimesteps`, `set_shift`,
 * and `step()`'s `s_churn`/`per_token_timesteps` (diffusers ignores the churn options here too).
 * Unlike diffusers, `step()` and `scaleNoise()` keep no step index: they find the timestep in
 * `timesteps` each call (its first occurrence), so steps can be taken in any order.
 */
export class FlowMatchEulerDiscreteScheduler {
  readonly config: Readonly<FlowMatchEulerDiscreteSchedulerConfig>;
  /** The input is already at unit scale: x_sigma interpolates between data and unit noise. */
  readonly initNoiseSigma = 1;
  numInferenceSteps: number | null = null;
  /** Timesteps sigma * numTrainTimesteps (float32, fractional; descending unless `invertSigmas`) to feed the model. */
  timesteps: number[];
  /**
   * Noise level at each timestep. After `setTimesteps(n)`: n + 1 values ending with 0 (1 with
   * `invertSigmas`). Before it: the numTrainTimesteps training sigmas, with no final 0, as diffusers.
   */
  sigmas: number[];
  /** Training schedule's end points; `setTimesteps` spaces its timesteps between them. */
  private readonly sigmaMax: number;
  private readonly sigmaMin: number;

  constructor(options: Partial<FlowMatchEulerDiscreteSchedulerConfig> = {}) {
    this.config = resolveConfig(FLOW_MATCH_DEFAULTS, options);
    const { numTrainTimesteps: n, shift, useDynamicShifting, timeShiftType } = this.config;
    if (timeShiftType !== 'exponential' && timeShiftType !== 'linear') {
      throw new Error(
        `FlowMatchEulerDiscreteScheduler: timeShiftType must be 'exponential' or 'linear', not "${timeShiftType as string}".`,
      );
    }
    // sigma = t / T for t = T ... 1 in float32; the fixed shift applies now unless mu will be given later.
    const unshifted = Array.from({ length: n }, (_, i) => f32((n - i) / n));
    this.sigmas = useDynamicShifting ? unshifted : unshifted.map((s) => shiftSigma(s, shift, f32));
    this.timesteps = this.sigmas.map((s) => f32(s * n));
    this.sigmaMax = this.sigmas[0];
    this.sigmaMin = this.sigmas[n - 1];
  }

  /**
   * Chooses `numInferenceSteps` sigmas evenly spaced in t between the training schedule's ends (or
   * takes `sigmas`), shifts them by `shift` or, with `useDynamicShifting`, by `mu` (see
   * `calculateShift`), stretches them to `shiftTerminal`, and appends the final sigma.
   */
  setTimesteps(numInferenceSteps: number, options: { mu?: number; sigmas?: number[] } = {}): void {
    const { numTrainTimesteps: n, shift, useDynamicShifting, timeShiftType, shiftTerminal, invertSigmas } = this.config;
    const { mu, sigmas: customSigmas } = options;
    if (useDynamicShifting && mu === undefined) {
      throw new Error(
        'FlowMatchEulerDiscreteScheduler: useDynamicShifting needs setTimesteps(n, { mu }); see calculateShift().',
      );
    }
    if (customSigmas && customSigmas.length !== numInferenceSteps) {
      throw new Error(
        `FlowMatchEulerDiscreteScheduler.setTimesteps: got ${customSigmas.length} sigmas for ${numInferenceSteps} steps.`,
      );
    }
    this.numInferenceSteps = numInferenceSteps;

    // diffusers builds its own schedule in float64 numpy but casts custom sigmas to float32 first,
    // after which numpy keeps every operation in float32.
    const round: Rounding = customSigmas ? f32 : exact;
    let sigmas = customSigmas
      ? customSigmas.map(f32)
      : linspace(this.sigmaMax * n, this.sigmaMin * n, numInferenceSteps).map((t) => t / n);

    sigmas = useDynamicShifting
      ? sigmas.map((s) => roundedTimeShift(mu!, 1.0, s, timeShiftType, round))
      : sigmas.map((s) => shiftSigma(s, shift, round));

    // diffusers tests `if shift_terminal:`, so 0 means off as well.
    if (shiftTerminal) sigmas = stretchShiftToTerminal(sigmas, shiftTerminal, round);

    sigmas = sigmas.map(f32); // [numInferenceSteps]
    if (invertSigmas) sigmas = sigmas.map((s) => f32(1 - s));
    this.timesteps = sigmas.map((s) => f32(s * n));
    this.sigmas = [...sigmas, invertSigmas ? 1 : 0]; // [numInferenceSteps + 1]
  }

  /** Position of `timestep` in `timesteps` (first occurrence); throws a readable error when it is not there. */
  indexForTimestep(timestep: number): number {
    const index = this.timesteps.indexOf(timestep);
    if (index < 0) {
      throw new Error(
        `FlowMatchEulerDiscreteScheduler: timestep ${timestep} is not in the schedule; pass a value of scheduler.timesteps.`,
      );
    }
    return index;
  }

  /** Forward process x_sigma = sigma * noise + (1 - sigma) * sample, sigma looked up from `timestep` (diffusers' `scale_noise`). */
  scaleNoise(sample: Tensor, timestep: number, noise: Tensor): Tensor {
    const sigma = this.sigmas[this.indexForTimestep(timestep)];
    const oneMinusSigma = f32(1 - sigma);
    return zipTensors(sample, noise, (x, z) => f32(sigma * z) + f32(oneMinusSigma * x));
  }

  /** Flow-matching models take x_sigma as it is. */
  scaleModelInput(sample: Tensor, _timestep?: number): Tensor {
    return sample;
  }

  /**
   * One Euler step from sigmas[i] to sigmas[i + 1] with the predicted velocity v = `modelOutput`:
   * x_next = x + (sigma_next - sigma) v. `predOriginalSample` is x0 = x - sigma v. With
   * `stochasticSampling` it jumps to (1 - sigma_next) x0 + sigma_next * noise instead, which needs
   * `options.generator` or `options.varianceNoise`.
   */
  step(modelOutput: Tensor, timestep: number, sample: Tensor, options: StepOptions = {}): SchedulerOutput {
    const index = this.indexForTimestep(timestep);
    const sigma = this.sigmas[index];
    const sigmaNext = this.sigmas[index + 1];
    const predOriginalSample = zipTensors(sample, modelOutput, (x, v) => x - f32(sigma * v));
    if (this.config.stochasticSampling) {
      const noise = stepNoise(sample, options, 'FlowMatchEulerDiscreteScheduler.step with stochasticSampling');
      const keep = f32(1 - sigmaNext);
      const prevSample = zipTensors(predOriginalSample, noise, (x0, z) => f32(keep * x0) + f32(sigmaNext * z));
      return { prevSample, predOriginalSample };
    }
    const dt = f32(sigmaNext - sigma); // negative: sigma falls towards 0
    const prevSample = zipTensors(sample, modelOutput, (x, v) => x + f32(dt * v));
    return { prevSample, predOriginalSample };
  }
}

/** s sigma / (1 + (s - 1) sigma): the fixed timestep shift of SD3 (Esser et al. 2024, eq. 23). */
function shiftSigma(sigma: number, shift: number, round: Rounding): number {
  return round(round(round(shift) * sigma) / round(1 + round(round(shift - 1) * sigma)));
}

/** Rescales 1 - sigma so that the last sigma becomes `shiftTerminal` (diffusers' `stretch_shift_to_terminal`). */
function stretchShiftToTerminal(sigmas: number[], shiftTerminal: number, round: Rounding): number[] {
  const oneMinusZ = sigmas.map((s) => round(1 - s));
  if (oneMinusZ[oneMinusZ.length - 1] === 0) {
    // diffusers divides 0 by 0 here and returns NaN sigmas.
    throw new Error(
      'FlowMatchEulerDiscreteScheduler: shiftTerminal needs a schedule that ends below sigma = 1 (use 2 or more steps).',
    );
  }
  const scaleFactor = round(oneMinusZ[oneMinusZ.length - 1] / round(1 - shiftTerminal));
  return oneMinusZ.map((z) => round(1 - round(z / scaleFactor)));
}
