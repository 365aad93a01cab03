/** What the flow chapter's comparison figure names: its models, its two rows, and how it prints timesteps. */
import type { ComparedModel } from '../../lib/pipelines/flow-compare';

/** Text encoder, the two denoisers compared, decoder. */
export const FLOW_COMPARE_MODEL_IDS = ['clip_text', 'sd_flow', 'sd_unet_int8', 'vae_decoder'];

export const FLOW_ROWS: readonly { model: ComparedModel; label: string; sampler: string }[] = [
  { model: 'flow', label: 'Rectified flow', sampler: 'sd_flow, Euler on v' },
  { model: 'diffusion', label: 'Diffusion', sampler: 'sd_unet (int8), DDIM' },
];

/** Timesteps as the readout prints them: whole numbers, comma-separated. */
export function timestepList(timesteps: readonly number[]): string {
  return timesteps.map((t) => String(Math.round(t))).join(', ');
}
