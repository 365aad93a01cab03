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
export function tensorToRgba(tensor: Tensor, out?: Uint8ClampedArray<ArrayBuffer>): Uint8ClampedArray<ArrayBuffer> {
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

/** An RGB colour as three bytes. */
export type Rgb = [number, number, number];

/**
 * Diverging colour scale for signed values (latent channels, noise): blue below zero, white at
 * zero, red above, saturating at ±limit. Symmetric so that the sign is never misread.
 */
export function divergingColor(value: number, limit: number): Rgb {
  const x = Math.max(-1, Math.min(1, limit > 0 ? value / limit : 0));
  const blue: Rgb = [33, 102, 172];
  const red: Rgb = [178, 24, 43];
  const end = x < 0 ? blue : red;
  const w = Math.abs(x);
  return [255 + (end[0] - 255) * w, 255 + (end[1] - 255) * w, 255 + (end[2] - 255) * w];
}

/** Largest absolute value, the natural limit of a symmetric colour scale. */
export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

/**
 * One channel of a [N, C, H, W] tensor as RGBA bytes through a colour function, e.g. a latent
 * channel drawn as a heatmap. `limit` defaults to the channel's own largest magnitude.
 */
export function channelToRgba(
  tensor: Tensor,
  channel: number,
  color: (value: number, limit: number) => Rgb = divergingColor,
  limit?: number,
): Uint8ClampedArray<ArrayBuffer> {
  const [, channels, height, width] = tensor.shape;
  if (channel < 0 || channel >= channels) throw new Error(`channel ${channel} out of range 0..${channels - 1}`);
  const plane = width * height;
  const values = tensor.data.subarray(channel * plane, (channel + 1) * plane);
  const scaleLimit = limit ?? maxAbs(values);
  const rgba = new Uint8ClampedArray(plane * 4);
  for (let i = 0; i < plane; i++) {
    const [r, g, b] = color(values[i], scaleLimit);
    rgba[4 * i] = r;
    rgba[4 * i + 1] = g;
    rgba[4 * i + 2] = b;
    rgba[4 * i + 3] = 255;
  }
  return rgba;
}

/** |a - b| per pixel, averaged over channels and amplified, as grey RGBA: where a reconstruction errs. */
export function differenceToRgba(a: Tensor, b: Tensor, gain = 4): Uint8ClampedArray<ArrayBuffer> {
  const [, channels, height, width] = a.shape;
  const plane = width * height;
  const rgba = new Uint8ClampedArray(plane * 4);
  for (let i = 0; i < plane; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += Math.abs(a.data[c * plane + i] - b.data[c * plane + i]) / 2;
    const v = 255 - Math.min(1, (sum / channels) * gain) * 255;
    rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = v;
    rgba[4 * i + 3] = 255;
  }
  return rgba;
}
