import { arange, f32, interp, linspace, roundHalfEven } from '../numerics';
import { dynamicThreshold } from '../guidance';
import { alphasCumprod } from '../schedules';
import { mapTensors, numel, splitChannels, zipTensors, type Tensor } from '../tensor';
import {
  betasFromConfig,
  indexForTimestep,
  perBatch,
  resolveConfig,
  stepNoise,
  type BaseSchedulerConfig,
  type Scheduler,
  type SchedulerOutput,
  type StepOptions,
} from './common';
import { exponentialSigmas, karrasSigmas, logSigmas, sigmaToT, trainingSigmas } from './sigmas';

export interface DPMSolverMultistepSchedulerConfig extends BaseSchedulerConfig {
  /** 1, 2 (recommended with guidance) or 3 (unconditional sampling) previous x0 predictions per update. */
  solverOrder: 1 | 2 | 3;
  /** Dynamic thresholding of the x0 predictions (Imagen); pixel-space models only. */
  thresholding: boolean;
  dynamicThresholdingRatio: number;
  sampleMaxValue: number;
  /** `dpmsolver++` solves the ODE in x0 (data prediction); `sde-dpmsolver++` adds noise at each step. */
  algorithmType: 'dpmsolver++' | 'sde-dpmsolver++';
  /** Second-order correction: `midpoint` (DPM-Solver++ paper) or `heun`. */
  solverType: 'midpoint' | 'heun';
  /** Drop to lower orders for the last steps of short schedules (< 15 steps), which keeps them stable. */
  lowerOrderFinal: boolean;
  /** Use a first-order (Euler) update for the very last step. */
  eulerAtFinal: boolean;
  useKarrasSigmas: boolean;
  useExponentialSigmas: boolean;
  /** Beta-distributed noise levels (not supported here). */
  useBetaSigmas: boolean;
  /** Steps evenly spaced in lambda = -log sigma, i.e. uniform log-SNR (the DPM-Solver paper's spacing). */
  useLuLambdas: boolean;
  /** Flow-matching sigmas (not supported here). */
  useFlowSigmas: boolean;
  flowShift: number;
  /** Sigma after the last step: 0 (a clean sample) or the smallest training sigma. */
  finalSigmasType: 'zero' | 'sigma_min';
  /** Cut the schedule where lambda = log(alpha / sigma) falls below this (helps the cosine schedule). */
  lambdaMinClipped: number;
  /** `learned`/`learned_range` models output a variance too; only the prediction channels are used. */
  varianceType: 'learned' | 'learned_range' | null;
  /** Resolution-dependent timestep shifting of flow models (not supported here). */
  useDynamicShifting: boolean;
  timeShiftType: 'exponential';
}

/** diffusers' `DPMSolverMultistepScheduler` defaults. */
export const DPM_SOLVER_DEFAULTS: DPMSolverMultistepSchedulerConfig = {
  numTrainTimesteps: 1000,
  betaStart: 0.0001,
  betaEnd: 0.02,
  betaSchedule: 'linear',
  trainedBetas: null,
  solverOrder: 2, // the DPM-Solver++ paper's choice for guided sampling; 3 only helps unguided sampling
  predictionType: 'epsilon',
  thresholding: false,
  dynamicThresholdingRatio: 0.995,
  sampleMaxValue: 1.0,
  algorithmType: 'dpmsolver++', // data prediction is stable under large guidance scales, unlike 'dpmsolver'
  solverType: 'midpoint', // the update of the DPM-Solver++ paper (Algorithm 2)
  lowerOrderFinal: true, // high-order steps at the end of < 15-step schedules produce artefacts
  eulerAtFinal: false,
  useKarrasSigmas: false,
  useExponentialSigmas: false,
  useBetaSigmas: false,
  useLuLambdas: false,
  useFlowSigmas: false,
  flowShift: 1.0,
  finalSigmasType: 'zero', // the last step lands on a clean sample
  lambdaMinClipped: -Infinity,
  varianceType: null,
  timestepSpacing: 'linspace', // starts at the last training step, unlike DDPM/DDIM's 'leading'
  stepsOffset: 0,
  rescaleBetasZeroSnr: false,
  useDynamicShifting: false,
  timeShiftType: 'exponential',
};

/** alpha_t = 1 / sqrt(sigma^2 + 1) and sigma_t = sigma * alpha_t: the VP pair of a VE noise level, float32. */
function alphaSigmaT(sigma: number): { alpha: number; sigma: number; lambda: number } {
  const alpha = f32(1 / f32(Math.sqrt(f32(f32(sigma * sigma) + 1))));
  const sigmaT = f32(sigma * alpha);
  // lambda = log(alpha_t / sigma_t), the half log-SNR the solver steps in; +infinity at sigma = 0.
  const lambda = f32(f32(Math.log(alpha)) - f32(Math.log(sigmaT)));
  return { alpha, sigma: sigmaT, lambda };
}

/**
 * DPM-Solver++ (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
 * Probabilistic Models"): a multistep exponential integrator of the diffusion ODE in the data
 * prediction x0, in lambda = log(alpha_t / sigma_t). The order-2 update (Algorithm 2, "2M")
 * reuses the previous step's x0, so every step costs one model call. Mirrors diffusers'
 * `DPMSolverMultistepScheduler`; keeps the last `solverOrder` x0 predictions between steps.
 */
export class DPMSolverMultistepScheduler implements Scheduler {
  readonly config: Readonly<DPMSolverMultistepSchedulerConfig>;
  readonly betas: Float32Array;
  readonly alphas: Float32Array;
  readonly alphasCumprod: Float32Array;
  /** lambda_t = log(sqrt(alpha_bar_t)) - log(sqrt(1 - alpha_bar_t)) per training step (float32). */
  readonly lambdaT: Float32Array;
  readonly initNoiseSigma = 1;
  numInferenceSteps: number | null = null;
  timesteps: number[];
  /** Noise level at each timestep, plus the final one. */
  sigmas: Float32Array;
  /** The last `solverOrder` converted model outputs (x0 predictions), oldest first. */
  modelOutputs: (Tensor | null)[];
  /** How many steps have run, capped at `solverOrder`: the order the history can support. */
  lowerOrderNums = 0;
  private currentStepIndex: number | null = null;
  private firstStepIndex: number | null = null;

  constructor(config: Partial<DPMSolverMultistepSchedulerConfig> = {}) {
    this.config = resolveConfig(DPM_SOLVER_DEFAULTS, config);
    const c = this.config;
    if (c.algorithmType !== 'dpmsolver++' && c.algorithmType !== 'sde-dpmsolver++') {
      throw new Error(
        `DPMSolverMultistepScheduler: algorithmType "${c.algorithmType as string}" is not supported; ` +
          "use 'dpmsolver++' or 'sde-dpmsolver++'.",
      );
    }
    if (c.solverType !== 'midpoint' && c.solverType !== 'heun') {
      throw new Error(`DPMSolverMultistepScheduler: unknown solverType "${c.solverType as string}".`);
    }
    if (![1, 2, 3].includes(c.solverOrder)) {
      throw new Error(`DPMSolverMultistepScheduler: solverOrder must be 1, 2 or 3, got ${c.solverOrder}.`);
    }
    if (c.useBetaSigmas || c.useFlowSigmas || c.useDynamicShifting) {
      throw new Error('DPMSolverMultistepScheduler: beta sigmas, flow sigmas and dynamic shifting are not supported.');
    }
    if ([c.useKarrasSigmas, c.useExponentialSigmas, c.useLuLambdas].filter(Boolean).length > 1) {
      throw new Error(
        'DPMSolverMultistepScheduler: choose only one of useKarrasSigmas, useExponentialSigmas, useLuLambdas.',
      );
    }
    this.betas = betasFromConfig(c);
    this.alphas = this.betas.map((b) => 1 - b);
    this.alphasCumprod = alphasCumprod(this.betas);
    if (c.rescaleBetasZeroSnr) {
      // Zero terminal SNR means sigma = infinity at t = T-1; fp16's smallest subnormal keeps it finite.
      this.alphasCumprod[c.numTrainTimesteps - 1] = 2 ** -24;
    }
    this.lambdaT = this.alphasCumprod.map(
      (a) => f32(Math.log(f32(Math.sqrt(a)))) - f32(Math.log(f32(Math.sqrt(f32(1 - a))))),
    );
    this.sigmas = trainingSigmas(this.alphasCumprod);
    this.timesteps = Array.from({ length: c.numTrainTimesteps }, (_, i) => c.numTrainTimesteps - 1 - i);
    this.modelOutputs = new Array<Tensor | null>(c.solverOrder).fill(null);
  }

  /** Index into `sigmas` of the current step; null until the first `step`. */
  get stepIndex(): number | null {
    return this.currentStepIndex;
  }

  get beginIndex(): number | null {
    return this.firstStepIndex;
  }

  setBeginIndex(beginIndex = 0): void {
    this.firstStepIndex = beginIndex;
  }

  /** Forgets the multistep history so a new sampling run can start (`setTimesteps` does this too). */
  reset(): void {
    this.modelOutputs = new Array<Tensor | null>(this.config.solverOrder).fill(null);
    this.lowerOrderNums = 0;
    this.currentStepIndex = null;
    this.firstStepIndex = null;
  }

  /** Chooses timesteps and sigmas for `numInferenceSteps` steps (or uses `timesteps`) and resets the solver state. */
  setTimesteps(numInferenceSteps?: number | null, options: { timesteps?: ArrayLike<number> } = {}): void {
    const c = this.config;
    if (options.timesteps && (c.useKarrasSigmas || c.useExponentialSigmas || c.useLuLambdas)) {
      throw new Error(
        'DPMSolverMultistepScheduler: custom timesteps cannot be combined with Karras, exponential or Lu sigmas.',
      );
    }
    if (options.timesteps && numInferenceSteps != null) {
      throw new Error(
        'DPMSolverMultistepScheduler.setTimesteps: pass either numInferenceSteps or timesteps, not both.',
      );
    }

    let timesteps: number[];
    if (options.timesteps) {
      timesteps = Array.from(options.timesteps, Math.trunc);
    } else {
      if (numInferenceSteps == null)
        throw new Error('DPMSolverMultistepScheduler.setTimesteps: numInferenceSteps is required.');
      timesteps = this.spacedTimesteps(numInferenceSteps);
    }
    const steps = timesteps.length;

    const trainSigmas = trainingSigmas(this.alphasCumprod); // [T], ascending in t
    const logTrainSigmas = logSigmas(trainSigmas);
    // Karras-style schedules map each sigma back to a timestep; integer models need it rounded.
    const toTimestep = (sigma: number, round: boolean): number => {
      const t = sigmaToT(sigma, logTrainSigmas);
      return round && c.betaSchedule !== 'squaredcos_cap_v2' ? roundHalfEven(t) : t;
    };
    let sigmas: number[];
    if (c.useKarrasSigmas) {
      sigmas = karrasSigmas(trainSigmas[0], trainSigmas[trainSigmas.length - 1], steps);
      timesteps = sigmas.map((s) => toTimestep(s, true));
    } else if (c.useLuLambdas) {
      // Evenly spaced in log sigma between the training extremes (rho = 1 in Lu et al.'s formula).
      const lambdaMin = logTrainSigmas[0];
      const lambdaMax = logTrainSigmas[logTrainSigmas.length - 1];
      sigmas = linspace(0, 1, steps).map((ramp) => Math.exp(lambdaMax + ramp * (lambdaMin - lambdaMax)));
      timesteps = sigmas.map((s) => toTimestep(s, true));
    } else if (c.useExponentialSigmas) {
      sigmas = exponentialSigmas(trainSigmas[0], trainSigmas[trainSigmas.length - 1], steps);
      timesteps = sigmas.map((s) => toTimestep(s, false));
    } else {
      const trainTimesteps = Array.from({ length: trainSigmas.length }, (_, t) => t);
      sigmas = timesteps.map((t) => interp(t, trainTimesteps, trainSigmas));
    }

    const sigmaLast = c.finalSigmasType === 'sigma_min' ? trainSigmas[0] : 0;
    this.sigmas = Float32Array.from([...sigmas, sigmaLast]);
    // diffusers stores int64 timesteps: fractional ones (cosine + Karras) are truncated.
    this.timesteps = timesteps.map(Math.trunc);
    this.numInferenceSteps = steps;
    this.reset();
  }

  /** DPM-Solver's own spacing: like DDIM's over n + 1 points, dropping t = 0, stopping at `lambdaMinClipped`. */
  private spacedTimesteps(numInferenceSteps: number): number[] {
    const { numTrainTimesteps, timestepSpacing, stepsOffset, lambdaMinClipped } = this.config;
    // torch.searchsorted on the ascending (flipped) lambdas: how many lie below the clip value.
    const clippedIdx = this.lambdaT.filter((l) => l < lambdaMinClipped).length;
    const lastTimestep = numTrainTimesteps - clippedIdx;
    switch (timestepSpacing) {
      case 'linspace':
        return linspace(0, lastTimestep - 1, numInferenceSteps + 1)
          .map(roundHalfEven)
          .reverse()
          .slice(0, -1);
      case 'leading': {
        const stepRatio = Math.floor(lastTimestep / (numInferenceSteps + 1));
        return Array.from({ length: numInferenceSteps + 1 }, (_, i) => i * stepRatio)
          .reverse()
          .slice(0, -1)
          .map((t) => t + stepsOffset);
      }
      case 'trailing': {
        const stepRatio = numTrainTimesteps / numInferenceSteps;
        return arange(lastTimestep, 0, -stepRatio).map((t) => roundHalfEven(t) - 1);
      }
      default:
        throw new Error(`DPMSolverMultistepScheduler: unknown timestepSpacing "${timestepSpacing as string}".`);
    }
  }

  /** Position of `timestep` in the schedule: the second match if it repeats, the last step if absent. */
  indexForTimestep(timestep: number, scheduleTimesteps: readonly number[] = this.timesteps): number {
    const index = indexForTimestep(scheduleTimesteps, timestep);
    return index < 0 ? this.timesteps.length - 1 : index;
  }

  /** DPM-Solver feeds the model x_t unscaled. */
  scaleModelInput(sample: Tensor, _timestep?: number): Tensor {
    return sample;
  }

  /**
   * The data prediction x0 the solver integrates (DPM-Solver++ section 3):
   * x0 = (x_t - sigma_t eps) / alpha_t for epsilon models, alpha_t x_t - sigma_t v for v models.
   */
  convertModelOutput(modelOutput: Tensor, sample: Tensor): Tensor {
    const c = this.config;
    let prediction = modelOutput;
    if (
      (c.varianceType === 'learned' || c.varianceType === 'learned_range') &&
      modelOutput.shape[1] === sample.shape[1] * 2
    ) {
      // diffusers keeps channels [:3], right for RGB models only; keeping the sample's channel count also fits latents.
      [prediction] = splitChannels(modelOutput, sample.shape[1]);
    }
    const { alpha, sigma } = alphaSigmaT(this.sigmas[this.currentStepIndex!]);
    let x0: Tensor;
    switch (c.predictionType) {
      case 'epsilon':
        x0 = zipTensors(sample, prediction, (x, eps) => (x - sigma * eps) / alpha);
        break;
      case 'sample':
        x0 = prediction;
        break;
      case 'v_prediction':
        x0 = zipTensors(sample, prediction, (x, v) => alpha * x - sigma * v);
        break;
      default:
        throw new Error(`DPMSolverMultistepScheduler: unknown predictionType "${c.predictionType as string}".`);
    }
    return c.thresholding ? dynamicThreshold(x0, c.dynamicThresholdingRatio, c.sampleMaxValue) : x0;
  }

  /**
   * One step of the multistep solver from sigmas[i] to sigmas[i + 1]. The first step is first
   * order (no history yet); `sde-dpmsolver++` needs `generator` or `varianceNoise`.
   */
  step(modelOutput: Tensor, timestep: number, sample: Tensor, options: StepOptions = {}): SchedulerOutput {
    if (this.numInferenceSteps === null) {
      throw new Error('DPMSolverMultistepScheduler: call setTimesteps(numInferenceSteps) before step().');
    }
    const c = this.config;
    if (this.currentStepIndex === null) {
      this.currentStepIndex = this.firstStepIndex ?? this.indexForTimestep(timestep);
    }
    const index = this.currentStepIndex;
    const steps = this.timesteps.length;

    // Short schedules are unstable at high order near the end, so lower the order there.
    const lowerOrderFinal =
      index === steps - 1 && (c.eulerAtFinal || (c.lowerOrderFinal && steps < 15) || c.finalSigmasType === 'zero');
    const lowerOrderSecond = index === steps - 2 && c.lowerOrderFinal && steps < 15;

    const x0 = this.convertModelOutput(modelOutput, sample);
    this.modelOutputs = [...this.modelOutputs.slice(1), x0];

    const noise = c.algorithmType === 'sde-dpmsolver++' ? stepNoise(sample, options, 'SDE-DPM-Solver++ step') : null;

    let prevSample: Tensor;
    if (c.solverOrder === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) {
      prevSample = this.firstOrderUpdate(x0, sample, noise);
    } else if (c.solverOrder === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) {
      prevSample = this.secondOrderUpdate(sample, noise);
    } else {
      prevSample = this.thirdOrderUpdate(sample, noise);
    }
    if (this.lowerOrderNums < c.solverOrder) this.lowerOrderNums += 1;

    this.currentStepIndex = index + 1;
    return { prevSample, predOriginalSample: x0 };
  }

  /**
   * First order = DDIM in x0 (DPM-Solver++ eq. 5 with k = 1):
   * x_t = (sigma_t / sigma_s) x_s - alpha_t (e^{-h} - 1) x0, h = lambda_t - lambda_s.
   */
  private firstOrderUpdate(x0: Tensor, sample: Tensor, noise: Tensor | null): Tensor {
    const i = this.currentStepIndex!;
    const t = alphaSigmaT(this.sigmas[i + 1]);
    const s = alphaSigmaT(this.sigmas[i]);
    const h = f32(t.lambda - s.lambda);
    if (noise === null) {
      const sampleCoeff = f32(t.sigma / s.sigma);
      const x0Coeff = f32(t.alpha * f32(f32(Math.exp(-h)) - 1));
      return zipTensors(sample, x0, (x, d) => sampleCoeff * x - x0Coeff * d);
    }
    // SDE-DPM-Solver++ (Lu et al. 2022, eq. 18 with k = 1)
    const expNeg2h = f32(Math.exp(-2 * h));
    const sampleCoeff = f32(f32(t.sigma / s.sigma) * f32(Math.exp(-h)));
    const x0Coeff = f32(t.alpha * f32(1 - expNeg2h));
    const noiseCoeff = f32(t.sigma * f32(Math.sqrt(f32(1 - expNeg2h))));
    return mapTensors([sample, x0, noise], ([x, d, z]) => sampleCoeff * x + x0Coeff * d + noiseCoeff * z);
  }

  /**
   * Multistep second order (DPM-Solver++(2M), Algorithm 2): D0 = m0, D1 = (m0 - m1) / r0 with
   * r0 = h_{i-1} / h_i, a finite-difference estimate of dx0/dlambda from the previous x0.
   */
  private secondOrderUpdate(sample: Tensor, noise: Tensor | null): Tensor {
    const i = this.currentStepIndex!;
    const t = alphaSigmaT(this.sigmas[i + 1]);
    const s0 = alphaSigmaT(this.sigmas[i]);
    const s1 = alphaSigmaT(this.sigmas[i - 1]);
    const [m1, m0] = this.modelOutputs.slice(-2) as Tensor[];
    const h = f32(t.lambda - s0.lambda);
    const h0 = f32(s0.lambda - s1.lambda);
    const invR0 = f32(1 / f32(h0 / h));
    const heun = this.config.solverType === 'heun';

    if (noise === null) {
      const sampleCoeff = f32(t.sigma / s0.sigma);
      const phi = f32(t.alpha * f32(f32(Math.exp(-h)) - 1)); // alpha_t (e^{-h} - 1)
      // midpoint: -0.5 phi D1; heun: + alpha_t ((e^{-h} - 1) / h + 1) D1
      const d1Coeff = heun ? -f32(t.alpha * f32(f32(f32(f32(Math.exp(-h)) - 1) / h) + 1)) : f32(0.5 * phi);
      return mapTensors([sample, m0, m1], ([x, d0, d1]) => sampleCoeff * x - phi * d0 - d1Coeff * (invR0 * (d0 - d1)));
    }
    // SDE-DPM-Solver++(2M) (Lu et al. 2022, eq. 18)
    const expNeg2h = f32(Math.exp(-2 * h));
    const sampleCoeff = f32(f32(t.sigma / s0.sigma) * f32(Math.exp(-h)));
    const psi = f32(t.alpha * f32(1 - expNeg2h)); // alpha_t (1 - e^{-2h})
    const d1Coeff = heun ? f32(t.alpha * f32(f32(f32(1 - expNeg2h) / f32(-2 * h)) + 1)) : f32(0.5 * psi);
    const noiseCoeff = f32(t.sigma * f32(Math.sqrt(f32(1 - expNeg2h))));
    return mapTensors(
      [sample, m0, m1, noise],
      ([x, d0, d1, z]) => sampleCoeff * x + psi * d0 + d1Coeff * (invR0 * (d0 - d1)) + noiseCoeff * z,
    );
  }

  /** Multistep third order (DPM-Solver++(3M)): adds a second finite difference D2 from the x0 two steps back. */
  private thirdOrderUpdate(sample: Tensor, noise: Tensor | null): Tensor {
    const i = this.currentStepIndex!;
    const t = alphaSigmaT(this.sigmas[i + 1]);
    const s0 = alphaSigmaT(this.sigmas[i]);
    const s1 = alphaSigmaT(this.sigmas[i - 1]);
    const s2 = alphaSigmaT(this.sigmas[i - 2]);
    const [m2, m1, m0] = this.modelOutputs.slice(-3) as Tensor[];
    const h = f32(t.lambda - s0.lambda);
    const r0 = f32(f32(s0.lambda - s1.lambda) / h);
    const r1 = f32(f32(s1.lambda - s2.lambda) / h);
    // D1_0 = (m0 - m1) / r0, D1_1 = (m1 - m2) / r1,
    // D1 = D1_0 + r0 / (r0 + r1) (D1_0 - D1_1), D2 = (D1_0 - D1_1) / (r0 + r1)
    const derivatives = (d0: number, d1: number, d2: number): [number, number] => {
      const d10 = (d0 - d1) / r0;
      const d11 = (d1 - d2) / r1;
      return [d10 + (r0 / (r0 + r1)) * (d10 - d11), (d10 - d11) / (r0 + r1)];
    };

    if (noise === null) {
      const expNegH = f32(Math.exp(-h));
      const sampleCoeff = f32(t.sigma / s0.sigma);
      const c0 = f32(t.alpha * f32(expNegH - 1));
      const c1 = f32(t.alpha * f32(f32(f32(expNegH - 1) / h) + 1));
      const c2 = f32(t.alpha * f32(f32(f32(f32(expNegH - 1) + h) / f32(h * h)) - 0.5));
      return mapTensors([sample, m0, m1, m2], ([x, d0, d1, d2]) => {
        const [D1, D2] = derivatives(d0, d1, d2);
        return sampleCoeff * x - c0 * d0 + c1 * D1 - c2 * D2;
      });
    }
    const expNeg2h = f32(Math.exp(-2 * h));
    const sampleCoeff = f32(f32(t.sigma / s0.sigma) * f32(Math.exp(-h)));
    const c0 = f32(t.alpha * f32(1 - expNeg2h));
    const c1 = f32(t.alpha * f32(f32(f32(1 - expNeg2h) / f32(-2 * h)) + 1));
    const c2 = f32(t.alpha * f32(f32(f32(f32(1 - expNeg2h) - f32(2 * h)) / f32(f32(2 * h) * f32(2 * h))) - 0.5));
    const noiseCoeff = f32(t.sigma * f32(Math.sqrt(f32(1 - expNeg2h))));
    return mapTensors([sample, m0, m1, m2, noise], ([x, d0, d1, d2, z]) => {
      const [D1, D2] = derivatives(d0, d1, d2);
      return sampleCoeff * x + c0 * d0 + c1 * D1 + c2 * D2 + noiseCoeff * z;
    });
  }

  /** x_t = alpha_t x0 + sigma_t eps at each batch element's timestep (the VP forward process). */
  addNoise(originalSamples: Tensor, noise: Tensor, timesteps: number | ArrayLike<number>): Tensor {
    const batch = originalSamples.shape[0];
    const stepIndices =
      this.firstStepIndex === null
        ? perBatch(timesteps, batch).map((t) => this.indexForTimestep(t))
        : Array.from({ length: batch }, () => this.currentStepIndex ?? this.firstStepIndex!);
    const scales = stepIndices.map((index) => alphaSigmaT(this.sigmas[index]));
    const size = numel(originalSamples.shape.slice(1));
    return zipTensors(originalSamples, noise, (x0, eps, i) => {
      const { alpha, sigma } = scales[Math.floor(i / size)];
      return alpha * x0 + sigma * eps;
    });
  }
}
