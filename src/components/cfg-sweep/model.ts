/** The numbers behind the guidance sweep: the scales it renders and what it reads off each step. */
import { maxAbs } from '../../lib/image/index';
import { sliceBatch, sub, type Tensor } from '../../lib/diffusion/index';
import type { TextToImageStep } from '../../lib/pipelines/text-to-image';

/** Guidance scales of the sweep: 0 is the unconditional model, 1 the plain conditional one. */
export const GUIDANCE_SCALES = [0, 1, 2, 3, 5, 7.5, 10];

/** Noise predictions have unit variance: ±2.5 holds nearly all of their values on one fixed scale. */
export const NOISE_LIMIT = 2.5;

/** Standard deviation over all values (population form; these are display readouts). */
export function std(t: Tensor): number {
  const n = t.data.length;
  let mean = 0;
  for (const v of t.data) mean += v;
  mean /= n;
  let sum = 0;
  for (const v of t.data) sum += (v - mean) ** 2;
  return Math.sqrt(sum / n);
}

/** One recorded step of the sweep: both halves of the guidance batch and the guided result, [7, C, H, W] each. */
export type GuidanceStep = Pick<TextToImageStep, 'timestep' | 'noisePred'> &
  Required<Pick<TextToImageStep, 'noisePredUncond' | 'noisePredText'>>;

/** What the sweep keeps of a step (the sweep includes w > 1, so both halves of the batch are always there). */
export function recordGuidance(step: TextToImageStep): GuidanceStep {
  return {
    timestep: step.timestep,
    noisePred: step.noisePred,
    noisePredUncond: step.noisePredUncond!,
    noisePredText: step.noisePredText!,
  };
}

/** One image's noise predictions at one step: both halves of the guidance batch, their difference, the result. */
export interface GuidanceParts {
  uncond: Tensor;
  text: Tensor;
  /** eps_text - eps_uncond: the direction guidance amplifies. */
  difference: Tensor;
  /** What the scheduler used: eps_uncond + w * difference, rescaled if asked. */
  guided: Tensor;
}

/** The figure's rows, in the order it shows them. */
export const GUIDANCE_PARTS: { key: keyof GuidanceParts; label: string; note: string }[] = [
  { key: 'uncond', label: 'ε̂(zₜ, ∅)', note: 'empty prompt' },
  { key: 'text', label: 'ε̂(zₜ, y)', note: 'your prompt' },
  { key: 'difference', label: 'difference', note: 'what the prompt changes' },
  { key: 'guided', label: 'guided ε̂', note: 'what the scheduler used' },
];

export function guidanceParts(
  step: { noisePredUncond: Tensor; noisePredText: Tensor; noisePred: Tensor },
  image: number,
): GuidanceParts {
  const uncond = sliceBatch(step.noisePredUncond, image);
  const text = sliceBatch(step.noisePredText, image);
  return { uncond, text, difference: sub(text, uncond), guided: sliceBatch(step.noisePred, image) };
}

/**
 * Each row's colour limit and readout. The predictions share one fixed scale; the difference is far
 * smaller, so it gets its own (its largest value), said beside it.
 */
export function partScales(parts: GuidanceParts): { key: keyof GuidanceParts; limit: number; stats: string }[] {
  const differenceLimit = Math.max(maxAbs(parts.difference.data), 1e-6);
  return GUIDANCE_PARTS.map(({ key }) => {
    const limit = key === 'difference' ? differenceLimit : NOISE_LIMIT;
    const scaleNote = `scale ±${limit < 1 ? limit.toFixed(2) : limit}`;
    return { key, limit, stats: `std ${std(parts[key]).toFixed(2)} · ${scaleNote}` };
  });
}
