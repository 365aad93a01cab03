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

/** The figures report per-step timings as a median (robust to the first, warm-up step); one definition. */
export { median } from '../../lib/pipelines/step-cost';
