/**
 * Denoised's diffusion maths: beta schedules, the DDPM/DDIM/Euler/DPM-Solver++ schedulers,
 * classifier-free guidance, DiT patching and embeddings, float32 tensors and a seeded RNG.
 * Pure TypeScript (no DOM, no fetch, no globals); names follow diffusers so that what a reader
 * learns here carries over to `diffusers` code.
 */
export {
  add,
  assertSameShape,
  clamp,
  clone,
  concatBatch,
  full,
  lerp,
  mapTensor,
  mapTensors,
  mul,
  numel,
  reshape,
  scale,
  sliceBatch,
  splitChannels,
  sub,
  tensor,
  zeros,
  zipTensors,
  type Tensor,
} from './tensor';
export { Generator, createGenerator, randnTensor } from './random';
export {
  alphasCumprod,
  betaSchedule,
  betasForAlphaBar,
  ddpmPosterior,
  rescaleZeroTerminalSnr,
  snr,
  type AlphaTransformType,
  type DDPMPosterior,
  type BetaScheduleName,
} from './schedules';
export { classifierFreeGuidance, dynamicThreshold, rescaleNoiseCfg } from './guidance';
export { get2dSincosPosEmbed, patchify, timestepEmbedding, unpatchify } from './dit';
export type {
  BaseSchedulerConfig,
  PredictionType,
  Scheduler,
  SchedulerOutput,
  StepOptions,
  TimestepSpacing,
} from './schedulers/common';
export { DDPMScheduler, DDPM_DEFAULTS, type DDPMSchedulerConfig, type DDPMVarianceType } from './schedulers/ddpm';
export { DDIMScheduler, DDIM_DEFAULTS, type DDIMSchedulerConfig } from './schedulers/ddim';
export { EulerDiscreteScheduler, EULER_DEFAULTS, type EulerDiscreteSchedulerConfig } from './schedulers/euler';
export {
  FlowMatchEulerDiscreteScheduler,
  FLOW_MATCH_DEFAULTS,
  calculateShift,
  timeShift,
  type FlowMatchEulerDiscreteSchedulerConfig,
  type TimeShiftType,
} from './schedulers/flow-match';
export {
  DPMSolverMultistepScheduler,
  DPM_SOLVER_DEFAULTS,
  type DPMSolverMultistepSchedulerConfig,
} from './schedulers/dpmsolver';
export {
  cosineSimilarity,
  fitPca2,
  l2Normalize,
  nearestByCosine,
  projectPca2,
  slerp,
  unitRms,
  type Pca2,
} from './embeddings';
