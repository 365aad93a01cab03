/**
 * Pure conversions between canvas pixels (RGBA bytes) and model tensors ([1, 3, H, W] in [-1, 1]).
 * No DOM here: components read pixels from a canvas and pass the bytes in.
 */
import type { Tensor } from '../diffusion/index';

/** Square centre crop of a width x height picture: the largest square, centred. */
export function centerCropRect(width: number, height: number): { sx: number; sy: number; size: number } {
  const size = Math.min(width, height);
  return { sx: Math.floor((width - size) / 2), sy: Math.floor((height - size) / 2), size };
}

/**
 * RGBA bytes (row-major, 4 per pixel) -> [1, 3, H, W] in [-1, 1], composited over white.
 * White is the background our emoji models were trained on, so transparency means "paper".
 */
export function rgbaToTensor(rgba: ArrayLike<number>, width: number, height: number): Tensor {
  const plane = width * height;
  if (rgba.length !== plane * 4) throw new Error(`expected ${plane * 4} RGBA bytes, got ${rgba.length}`);
  const data = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    const alpha = rgba[4 * i + 3] / 255;
    for (let c = 0; c < 3; c++) {
      const value = (rgba[4 * i + c] / 255) * alpha + (1 - alpha);
      data[c * plane + i] = value * 2 - 1;
    }
  }
  return { data, shape: [1, 3, height, width] };
}

/**
 * The first image of a [N, C, H, W] tensor in [-1, 1] -> opaque RGBA bytes, clamped the way
 * diffusers' image processor does ((x / 2 + 0.5).clamp(0, 1)). One channel is drawn as grey.
 */
export function tensorToRgba(tensor: Tensor, out?: Uint8ClampedArray): Uint8ClampedArray {
  const [, channels, height, width] = tensor.shape;
  const plane = width * height;
  const rgba = out ?? new Uint8ClampedArray(plane * 4);
  const { data } = tensor;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = data[(channels === 1 ? 0 : c) * plane + i];
      // Uint8ClampedArray rounds and clamps to 0..255 on assignment.
      rgba[4 * i + c] = (v * 0.5 + 0.5) * 255;
    }
    rgba[4 * i + 3] = 255;
  }
  return rgba;
}
