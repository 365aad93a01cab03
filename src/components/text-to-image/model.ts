/** The maths behind the text-to-image figure's trajectory view; no DOM. */
import type { Tensor } from '../../lib/diffusion/index';

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
