/** Builds a diffusers-style scheduler from a model's trained config (manifest, snake_case). */
import {
  DDIMScheduler,
  DDPMScheduler,
  DPMSolverMultistepScheduler,
  EulerDiscreteScheduler,
  type BaseSchedulerConfig,
  type Scheduler,
} from '../diffusion/index';
import type { TrainedSchedulerConfig } from '../runtime/manifest';

export const SCHEDULER_NAMES = ['ddpm', 'ddim', 'euler', 'dpmsolver++'] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

/** Reader-facing names, as diffusers calls the classes. */
export const SCHEDULER_LABELS: Record<SchedulerName, string> = {
  ddpm: 'DDPM',
  ddim: 'DDIM',
  euler: 'Euler',
  'dpmsolver++': 'DPM-Solver++ (2M)',
};

/** Sampling options that are not part of the trained noise schedule. */
export interface SamplingOptions {
  /** Clamp predicted x0 to [-1, 1] (pixel models: their data range). */
  clipSample?: boolean;
  timestepSpacing?: BaseSchedulerConfig['timestepSpacing'];
  stepsOffset?: number;
  /** DDIM: use alpha-bar = 1 after the last step (diffusers' default) or alpha-bar_0 (Stable Diffusion). */
  setAlphaToOne?: boolean;
  thresholding?: boolean;
  dynamicThresholdingRatio?: number;
  sampleMaxValue?: number;
}

/** Like `XScheduler.from_config(unet_scheduler_config, **overrides)` in diffusers. */
export function makeScheduler(
  name: SchedulerName,
  trained: TrainedSchedulerConfig,
  options: SamplingOptions = {},
): Scheduler {
  const base = {
    numTrainTimesteps: trained.num_train_timesteps,
    betaSchedule: trained.beta_schedule,
    betaStart: trained.beta_start,
    betaEnd: trained.beta_end,
    predictionType: trained.prediction_type,
    timestepSpacing: options.timestepSpacing,
    stepsOffset: options.stepsOffset,
  };
  const clipping = {
    clipSample: options.clipSample,
    thresholding: options.thresholding,
    dynamicThresholdingRatio: options.dynamicThresholdingRatio,
    sampleMaxValue: options.sampleMaxValue,
  };
  switch (name) {
    case 'ddpm':
      return new DDPMScheduler({ ...base, ...clipping });
    case 'ddim':
      return new DDIMScheduler({ ...base, ...clipping, setAlphaToOne: options.setAlphaToOne });
    case 'euler':
      return new EulerDiscreteScheduler(base);
    case 'dpmsolver++':
      return new DPMSolverMultistepScheduler({
        ...base,
        thresholding: options.thresholding,
        dynamicThresholdingRatio: options.dynamicThresholdingRatio,
        sampleMaxValue: options.sampleMaxValue,
      });
    default:
      throw new Error(`Unknown scheduler "${name as string}"; use one of ${SCHEDULER_NAMES.join(', ')}.`);
  }
}
