/**
 * One prompt and one starting noise through two latent text-to-image models trained alike: a
 * flow-matching UNet sampled with Euler on its velocity (FlowMatchEulerDiscreteScheduler) and the
 * epsilon UNet sampled with DDIM, at several step counts.
 */
import { createGenerator, FlowMatchEulerDiscreteScheduler, randnTensor, type Tensor } from '../diffusion/index';
import { pathStraightness } from '../diffusion/toy2d-sampling';
import type { TrainedSchedulerConfig } from '../runtime/manifest';
import { makeScheduler } from './schedulers';
import { textToImage, type LoopScheduler, type TextToImageModels } from './text-to-image';
import { throwIfAborted } from './trajectory';

/** The step counts the flow chapter compares (and `training/` scores in the manifest). */
export const COMPARED_STEPS = [1, 2, 4, 8, 25] as const;

export type ComparedModel = 'flow' | 'diffusion';

/** A flow model's scheduler from its manifest entry (`{ num_train_timesteps, shift }`), with an optional other shift. */
export function flowMatchScheduler(
  trained: { num_train_timesteps: number; [key: string]: unknown },
  shift = typeof trained.shift === 'number' ? trained.shift : 1,
): FlowMatchEulerDiscreteScheduler {
  return new FlowMatchEulerDiscreteScheduler({ numTrainTimesteps: trained.num_train_timesteps, shift });
}

/**
 * DDIM with trailing spacing: its first step is at t = T - 1, pure noise, however few the steps
 * (leading spacing would start one step at t = 1). This is how `training/` scored the diffusion model.
 */
export function ddimTrailingScheduler(trained: TrainedSchedulerConfig): LoopScheduler {
  return makeScheduler('ddim', trained, { timestepSpacing: 'trailing', clipSample: false, setAlphaToOne: false });
}

export interface ComparedImage {
  model: ComparedModel;
  steps: number;
  /** Decoded picture, [1, 3, H, W] in [-1, 1]. */
  image: Tensor;
  /** Timesteps the UNet saw (sigma * 1000 for the flow model). */
  timesteps: number[];
  /** `pathStraightness` of the latents from the noise to the last step (1 for one step: a straight line). */
  straightness: number;
  ms: number;
}

export interface FlowCompareOptions {
  prompt: string;
  seed?: number;
  guidanceScale?: number;
  /** SD3's timestep shift for the flow model (the diffusion model has none). */
  shift?: number;
  stepCounts?: readonly number[];
  /** Called as each picture is ready, flow and diffusion alternating by step count. */
  onImage?: (image: ComparedImage) => void;
  signal?: AbortSignal;
}

/** Samples both models at every step count from the same starting latents. */
export async function compareFlowAndDiffusion(
  models: Record<ComparedModel, TextToImageModels>,
  options: FlowCompareOptions,
): Promise<ComparedImage[]> {
  const { prompt, seed = 0, guidanceScale = 5, stepCounts = COMPARED_STEPS, onImage, signal } = options;
  const [c, h, w] = models.flow.latentShape;
  // Both models start every run from this one draw (both have initNoiseSigma 1).
  const latents = randnTensor([1, c, h, w], createGenerator(seed));
  const schedulers: Record<ComparedModel, () => LoopScheduler> = {
    flow: () => flowMatchScheduler(models.flow.scheduler, options.shift),
    diffusion: () => ddimTrailingScheduler(models.diffusion.scheduler),
  };
  const images: ComparedImage[] = [];
  for (const steps of stepCounts) {
    for (const model of ['flow', 'diffusion'] as const) {
      throwIfAborted(signal);
      const path: Float32Array[] = [latents.data];
      const result = await textToImage(models[model], {
        prompt,
        guidanceScale,
        numInferenceSteps: steps,
        scheduler: schedulers[model](),
        latents,
        signal,
        onStep: (step) => path.push(step.prevSample.data),
      });
      const compared: ComparedImage = {
        model,
        steps,
        image: result.image,
        timesteps: result.timesteps,
        straightness: pathStraightness(path, latents.data.length),
        ms: result.totalMs,
      };
      images.push(compared);
      onImage?.(compared);
    }
  }
  return images;
}
