/**
 * Resampling of [N, C, H, W] tensors, matching PyTorch's `F.interpolate` (and ONNX Resize's default
 * half-pixel coordinates), so that a pipeline feeds a model exactly what it was trained on.
 */
import type { Tensor } from '../diffusion/index';

/**
 * Source coordinate and weights for one output index with half-pixel centres (align_corners=False):
 * src = (dst + 0.5) * in / out - 0.5, clamped at 0 as PyTorch does; returns (i0, i1, weight of i1).
 */
function halfPixelTaps(dst: number, inSize: number, outSize: number): [number, number, number] {
  const src = Math.max((dst + 0.5) * (inSize / outSize) - 0.5, 0);
  const i0 = Math.min(Math.floor(src), inSize - 1);
  const i1 = Math.min(i0 + 1, inSize - 1);
  return [i0, i1, src - i0];
}

/**
 * Bilinear resize of [N, C, H, W] to [N, C, height, width] with half-pixel centres, like
 * `F.interpolate(x, size, mode="bilinear", align_corners=False)`: each output pixel centre is mapped
 * back into the input grid and the four nearest input pixels are blended by distance.
 */
export function resizeBilinear(t: Tensor, height: number, width: number): Tensor {
  const [n, c, h, w] = t.shape;
  const rows = Array.from({ length: height }, (_, y) => halfPixelTaps(y, h, height));
  const cols = Array.from({ length: width }, (_, x) => halfPixelTaps(x, w, width));
  const out = new Float32Array(n * c * height * width);
  for (let plane = 0; plane < n * c; plane++) {
    const src = t.data.subarray(plane * h * w, (plane + 1) * h * w); // [H, W]
    const dst = plane * height * width;
    for (let y = 0; y < height; y++) {
      const [y0, y1, wy] = rows[y];
      for (let x = 0; x < width; x++) {
        const [x0, x1, wx] = cols[x];
        const top = src[y0 * w + x0] * (1 - wx) + src[y0 * w + x1] * wx;
        const bottom = src[y1 * w + x0] * (1 - wx) + src[y1 * w + x1] * wx;
        out[dst + y * width + x] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return { data: out, shape: [n, c, height, width] };
}

/**
 * Box filter by an integer factor, [N, C, H, W] -> [N, C, H / factor, W / factor]: each output pixel is
 * the mean of a factor x factor block (`F.interpolate(mode="area")` for exact multiples), how the
 * cascade's 16 px training images were made from 32 px ones.
 */
export function downsampleBox(t: Tensor, factor: number): Tensor {
  const [n, c, h, w] = t.shape;
  if (h % factor || w % factor) throw new Error(`downsampleBox: ${h} x ${w} is not a multiple of ${factor}.`);
  const [oh, ow] = [h / factor, w / factor];
  const out = new Float32Array(n * c * oh * ow);
  for (let plane = 0; plane < n * c; plane++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        let sum = 0;
        for (let dy = 0; dy < factor; dy++) {
          for (let dx = 0; dx < factor; dx++) sum += t.data[plane * h * w + (y * factor + dy) * w + x * factor + dx];
        }
        out[plane * oh * ow + y * ow + x] = sum / (factor * factor);
      }
    }
  }
  return { data: out, shape: [n, c, oh, ow] };
}

/** Nearest-neighbour upsampling by an integer factor: each pixel becomes a factor x factor block. */
export function upsampleNearest(t: Tensor, factor: number): Tensor {
  const [n, c, h, w] = t.shape;
  const [oh, ow] = [h * factor, w * factor];
  const out = new Float32Array(n * c * oh * ow);
  for (let plane = 0; plane < n * c; plane++) {
    for (let y = 0; y < oh; y++) {
      const row = plane * h * w + Math.floor(y / factor) * w;
      for (let x = 0; x < ow; x++) out[plane * oh * ow + y * ow + x] = t.data[row + Math.floor(x / factor)];
    }
  }
  return { data: out, shape: [n, c, oh, ow] };
}

/** Keys' cubic convolution kernel with a = -0.75, PyTorch's choice for `mode="bicubic"`. */
function cubicWeights(t: number): [number, number, number, number] {
  const a = -0.75;
  const near = (x: number) => ((a + 2) * x - (a + 3)) * x * x + 1; // |x| <= 1
  const far = (x: number) => ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; // 1 < |x| < 2
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

/**
 * Bicubic resize with half-pixel centres, like `F.interpolate(x, size, mode="bicubic", align_corners=False)`:
 * 4 x 4 taps, indices clamped at the border, no clamping of the result (it may overshoot [-1, 1]).
 * The baseline an upsampler has to beat.
 */
export function resizeBicubic(t: Tensor, height: number, width: number): Tensor {
  const [n, c, h, w] = t.shape;
  const taps = (dst: number, inSize: number, outSize: number) => {
    const src = (dst + 0.5) * (inSize / outSize) - 0.5; // not clamped at 0, unlike bilinear
    const i = Math.floor(src);
    const idx = [i - 1, i, i + 1, i + 2].map((k) => Math.min(Math.max(k, 0), inSize - 1));
    return { idx, wts: cubicWeights(src - i) };
  };
  const rows = Array.from({ length: height }, (_, y) => taps(y, h, height));
  const cols = Array.from({ length: width }, (_, x) => taps(x, w, width));
  const out = new Float32Array(n * c * height * width);
  for (let plane = 0; plane < n * c; plane++) {
    const src = t.data.subarray(plane * h * w, (plane + 1) * h * w); // [H, W]
    for (let y = 0; y < height; y++) {
      const r = rows[y];
      for (let x = 0; x < width; x++) {
        const col = cols[x];
        let sum = 0;
        for (let i = 0; i < 4; i++) {
          let line = 0;
          for (let j = 0; j < 4; j++) line += src[r.idx[i] * w + col.idx[j]] * col.wts[j];
          sum += line * r.wts[i];
        }
        out[plane * height * width + y * width + x] = sum;
      }
    }
  }
  return { data: out, shape: [n, c, height, width] };
}
