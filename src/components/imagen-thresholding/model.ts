/**
 * The numbers behind the thresholding figure: the three treatments of x0 it compares, the predicted x0
 * before any treatment (what the thresholds act on), and how saturated a finished picture is.
 */
import type { Tensor } from '../../lib/diffusion/index';
import { quantile } from '../../lib/diffusion/numerics';
import type { Thresholding } from '../../lib/pipelines/cascade';

export type ModeKind = Thresholding['kind'];

/** The three panels, left to right, with what each does to x0. */
export const MODES: { kind: ModeKind; label: string; rule: string }[] = [
  { kind: 'none', label: 'No thresholding', rule: 'x̂₀ used as predicted' },
  { kind: 'static', label: 'Static clipping', rule: 'x̂₀ clipped to [−1, 1]' },
  { kind: 'dynamic', label: 'Dynamic thresholding', rule: 'x̂₀ clipped to [−s, s], divided by s' },
];

/** The percentile slider's range (%): the slider's attributes, and the clamp on the value it sends. */
export const PERCENTILE = { min: 80, max: 99.9, step: 0.1 };

/** The figure's batch: one variant per mode, in MODES order. */
export function thresholdingVariants(percentile: number, maxValue: number): { thresholding: Thresholding }[] {
  return MODES.map(({ kind }) => ({
    thresholding: kind === 'dynamic' ? { kind, ratio: percentile / 100, maxValue } : { kind },
  }));
}

/**
 * The model's x0 estimate before clipping or thresholding, for image `index` of a batch (DDIM eq. 12's
 * "predicted x0"): (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t). [N, C, H, W] -> [C * H * W] values.
 */
export function rawPredictedX0(sample: Tensor, eps: Tensor, alphaProd: number, index: number): Float32Array {
  const size = sample.data.length / sample.shape[0];
  const a = Math.sqrt(alphaProd);
  const b = Math.sqrt(1 - alphaProd);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (sample.data[index * size + i] - b * eps.data[index * size + i]) / a;
  return out;
}

/** The p-th percentile (0..100) of |x|: Imagen's s before it is clamped to [1, max]. */
export function percentileAbs(values: Float32Array, percentile: number): number {
  return quantile(
    values.map((v) => Math.abs(v)),
    percentile / 100,
  );
}

/** Share of a picture's values (image `index` of [N, C, H, W] in [-1, 1]) pinned at the ends of the range. */
export function saturatedShare(image: Tensor, index: number, tolerance = 1 / 255): number {
  const size = image.data.length / image.shape[0];
  let count = 0;
  for (let i = 0; i < size; i++) if (Math.abs(image.data[index * size + i]) >= 1 - tolerance) count++;
  return count / size;
}

/** One point of the chart: how far the raw x0 prediction reached at a step, for one mode. */
export interface ReachPoint {
  step: number;
  mode: string;
  reach: number;
}
