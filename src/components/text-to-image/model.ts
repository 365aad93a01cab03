/** The text-to-image figure's run and its trajectory view, without the DOM. */
import type { Tensor } from '../../lib/diffusion/index';
import { decodeLatents } from '../../lib/pipelines/latent-frames';
import type { SchedulerName } from '../../lib/pipelines/schedulers';
import { textToImage, type TextToImageModels } from '../../lib/pipelines/text-to-image';

/** What the reader set: StableDiffusionPipeline's arguments, by their diffusers names. */
export interface TextToImageSettings {
  prompt: string;
  negativePrompt: string;
  guidanceScale: number;
  scheduler: SchedulerName;
  numInferenceSteps: number;
  seed: number;
}

/** One recorded step, kept so the reader can scrub the run without recomputing it. */
export interface LatentFrame {
  timestep: number;
  /** x_t as the UNet was given it (after scale_model_input), [1, C, H, W]. */
  modelInput: Tensor;
  /** The scheduler's predicted x0 at this step, [1, C, H, W]. */
  predOriginalSample: Tensor;
}

/** One recorded step of a run, kept so the trajectory can be replayed without the model. */
export function frameFrom(step: { timestep: number; modelInput: Tensor; predOriginalSample: Tensor }): LatentFrame {
  return { timestep: step.timestep, modelInput: step.modelInput, predOriginalSample: step.predOriginalSample };
}

export interface SampleAndDecodeResult {
  /** The finished picture, [1, 3, H, W] in [-1, 1]. */
  image: Tensor;
  /** [z_t of every step..., predicted z0 of every step...] decoded, [2S, 3, H, W]. */
  decoded: Tensor;
  stepMs: number[];
  totalMs: number;
  decodeMs: number;
}

/**
 * Samples with the reader's settings, then puts every step's z_t and predicted z0 through the
 * decoder together: one batched decode after the loop costs far less than two decodes a step.
 */
export async function sampleAndDecode(
  t2i: TextToImageModels,
  settings: TextToImageSettings,
  hooks: { signal: AbortSignal; onStep(frame: LatentFrame, index: number): void; onDecode(count: number): void },
): Promise<SampleAndDecodeResult> {
  const frames: LatentFrame[] = [];
  const stepMs: number[] = [];
  const result = await textToImage(t2i, {
    ...settings,
    signal: hooks.signal,
    onStep: (step) => {
      stepMs.push(step.ms);
      frames.push(frameFrom(step));
      hooks.onStep(frames[frames.length - 1], step.index);
    },
  });
  const latents = [...frames.map((f) => f.modelInput), ...frames.map((f) => f.predOriginalSample)];
  hooks.onDecode(latents.length);
  const decodeStart = performance.now();
  const decoded = await decodeLatents(t2i.vaeDecoder, latents, t2i.scalingFactor, { signal: hooks.signal });
  return { image: result.image, decoded, stepMs, totalMs: result.totalMs, decodeMs: performance.now() - decodeStart };
}

/** The diffusers call that does what the figure does, for the code line under it. */
export function pipelineCall(settings: {
  prompt: string;
  negativePrompt: string;
  guidanceScale: number;
  numInferenceSteps: number;
  seed: number;
}): string {
  const quote = (s: string) => JSON.stringify(s);
  const args = [
    quote(settings.prompt),
    ...(settings.negativePrompt ? [`negative_prompt=${quote(settings.negativePrompt)}`] : []),
    `guidance_scale=${settings.guidanceScale}`,
    `num_inference_steps=${settings.numInferenceSteps}`,
    `generator=torch.manual_seed(${settings.seed})`,
  ];
  return `image = pipe(${args.join(', ')}).images[0]`;
}
