/**
 * Class-conditional pixel DDPM on MNIST (our `mnist_unet`), sampled like diffusers' DDPMPipeline with
 * classifier-free guidance (Ho & Salimans 2022): the unconditional and conditional halves run as
 * one batch of 2 and are combined with `classifierFreeGuidance`.
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
import { int64, isKept, type ModelRunner } from '../runtime/types';
import { makeScheduler, type SchedulerName } from './schedulers';
import { nextTask, throwIfAborted, type StepCallback } from './trajectory';

/** The label the UNet was trained with when the class was dropped (10% of steps). */
export const NULL_CLASS = 10;

export interface MnistSampleOptions {
  /** 0-9, or null for an unconditional sample. */
  classLabel: number | null;
  /** 0 = unconditional, 1 = conditional only, > 1 = guided. */
  guidanceScale: number;
  scheduler: SchedulerName;
  numInferenceSteps: number;
  seed: number;
  /** DDIM/DDPM: clamp x0 to [-1, 1]; our small UNet needs it (see the manifest). */
  clipSample?: boolean;
  /** DDIM: re-derive eps from the clipped x0, diffusers' `use_clipped_model_output`. */
  useClippedModelOutput?: boolean;
  /** Start from these latents instead of drawing them (diffusers' `latents=`), [1, 1, 32, 32]. */
  latents?: Tensor;
  onStep?: StepCallback;
  signal?: AbortSignal;
}

export interface MnistResult {
  /** [1, 1, 32, 32] in [-1, 1] (not clamped). */
  image: Tensor;
  timesteps: number[];
  totalMs: number;
}

export async function sampleMnist(
  unet: ModelRunner,
  trained: TrainedSchedulerConfig,
  options: MnistSampleOptions,
): Promise<MnistResult> {
  const { classLabel, guidanceScale, numInferenceSteps, seed, onStep, signal } = options;
  const clipSample = options.clipSample ?? true;
  const scheduler = makeScheduler(options.scheduler, trained, { clipSample });
  scheduler.setTimesteps(numInferenceSteps);
  const generator = createGenerator(seed);

  // Which labels go through the UNet: both halves only when guidance actually mixes them.
  const guided = classLabel !== null && guidanceScale !== 0 && guidanceScale !== 1;
  const labels = guided
    ? [NULL_CLASS, classLabel]
    : [classLabel === null || guidanceScale === 0 ? NULL_CLASS : classLabel];
  const classLabels = int64(labels);

  let sample = options.latents ?? randnTensor([1, 1, 32, 32], generator);
  sample = scale(sample, scheduler.initNoiseSigma);
  const start = performance.now();
  for (const [index, timestep] of scheduler.timesteps.entries()) {
    await nextTask();
    throwIfAborted(signal);
    const stepStart = performance.now();
    const modelInput = scheduler.scaleModelInput(sample, timestep);
    const batch = labels.length === 2 ? concatBatch([modelInput, modelInput]) : modelInput;
    const outputs = await unet.run(
      {
        sample: batch,
        timestep: { data: new Float32Array(labels.length).fill(timestep), shape: [labels.length] },
        class_labels: classLabels,
      },
      { signal },
    );
    const out = outputs.out_sample;
    if (!out || isKept(out)) throw new Error('the UNet returned no out_sample');
    const noisePred = guided ? classifierFreeGuidance(sliceBatch(out, 0), sliceBatch(out, 1), guidanceScale) : out;
    const { prevSample, predOriginalSample } = scheduler.step(noisePred, timestep, sample, {
      generator,
      useClippedModelOutput: options.useClippedModelOutput ?? true,
    });
    onStep?.({ index, timestep, sample, noisePred, predOriginalSample, prevSample, ms: performance.now() - stepStart });
    sample = prevSample;
  }
  return { image: sample, timesteps: [...scheduler.timesteps], totalMs: performance.now() - start };
}
