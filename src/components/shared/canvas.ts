/** Browser drawing helpers shared by figures: put RGBA bytes or a picture tensor on a canvas. */
import type { Tensor } from '../../lib/diffusion/index';
import { tensorToRgba } from '../../lib/image/index';

export function paintRgba(
  canvas: HTMLCanvasElement,
  rgba: Uint8ClampedArray<ArrayBuffer>,
  width: number,
  height: number,
) {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  canvas.getContext('2d')!.putImageData(new ImageData(rgba, width, height), 0, 0);
}

/** Draws the first picture of a [N, C, H, W] tensor in [-1, 1]. */
export function paintTensor(canvas: HTMLCanvasElement, tensor: Tensor) {
  const [, , height, width] = tensor.shape;
  paintRgba(canvas, tensorToRgba(tensor), width, height);
}

/** Median of some timings, the figure we report per step (robust to the first, warm-up step). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
