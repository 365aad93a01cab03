/** The numbers behind the guidance sweep: the scales it renders and what it reads off each step. */
import { sliceBatch, sub, type Tensor } from '../../lib/diffusion/index';

/** Guidance scales of the sweep: 0 is the unconditional model, 1 the plain conditional one. */
export const GUIDANCE_SCALES = [0, 1, 2, 3, 5, 7.5, 10];

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

/** One image's noise predictions at one step: both halves of the guidance batch, their difference, the result. */
export interface GuidanceParts {
  uncond: Tensor;
  text: Tensor;
  /** eps_text - eps_uncond: the direction guidance amplifies. */
  difference: Tensor;
  /** What the scheduler used: eps_uncond + w * difference, rescaled if asked. */
  guided: Tensor;
}

export function guidanceParts(
  step: { noisePredUncond: Tensor; noisePredText: Tensor; noisePred: Tensor },
  image: number,
): GuidanceParts {
  const uncond = sliceBatch(step.noisePredUncond, image);
  const text = sliceBatch(step.noisePredText, image);
  return { uncond, text, difference: sub(text, uncond), guided: sliceBatch(step.noisePred, image) };
}
