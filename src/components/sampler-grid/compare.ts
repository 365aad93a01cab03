/**
 * What the sampler grid says about its own run: how much each sampler's picture changes from one
 * step count to another, measured on the pictures as drawn (clamped to [-1, 1], in grey levels of 255).
 * DDPM's fresh noise at every step makes it draw the digit anew at each step count; the
 * deterministic samplers follow one path from the shared starting noise and barely move.
 */
import type { Tensor } from '../../lib/diffusion/index';

/** The grid's columns: numbers of sampling steps. */
export const STEP_COUNTS = [10, 25, 50];

/** Mean absolute difference of two pictures [1, C, H, W] in [-1, 1], in grey levels (0-255). */
export function greyLevelDifference(a: Tensor, b: Tensor): number {
  if (a.data.length !== b.data.length) throw new Error('pictures of different sizes');
  const clamp = (v: number) => Math.max(-1, Math.min(1, v));
  let total = 0;
  for (let i = 0; i < a.data.length; i++) total += Math.abs(clamp(a.data[i]) - clamp(b.data[i]));
  // [-1, 1] spans 255 grey levels.
  return (total / a.data.length) * 127.5;
}

/** The mean difference over every pair of one sampler's pictures (one per step count). */
export function stepCountSpread(pictures: readonly Tensor[]): number {
  let total = 0;
  let pairs = 0;
  for (let i = 0; i < pictures.length; i++) {
    for (let j = i + 1; j < pictures.length; j++) {
      total += greyLevelDifference(pictures[i], pictures[j]);
      pairs++;
    }
  }
  return pairs ? total / pairs : 0;
}

/** The sentence under the grid: each row's spread, rounded to a grey level, in the rows' order. */
export function spreadSentence(digit: number, rows: readonly { label: string; pictures: readonly Tensor[] }[]): string {
  const spreads = rows.map(({ label, pictures }) => `${label} ${Math.round(stepCountSpread(pictures))}`);
  return (
    `How much each row's ${digit} changes from one step count to another in this run ` +
    `(mean difference a pixel, in grey levels of 255): ${spreads.join(', ')}.`
  );
}
