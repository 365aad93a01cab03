import { f32, quantile } from './numerics';
import { assertSameShape, numel, zipTensors, type Tensor } from './tensor';

/**
 * Classifier-free guidance (Ho & Salimans 2022, eq. 6): eps_uncond + s * (eps_cond - eps_uncond).
 * s = 1 returns the conditional prediction; s > 1 pushes further away from the unconditional one.
 */
export function classifierFreeGuidance(uncond: Tensor, cond: Tensor, guidanceScale: number): Tensor {
  return zipTensors(uncond, cond, (u, c) => u + guidanceScale * (c - u));
}

/** Unbiased standard deviation (N - 1 denominator, like `torch.std`) of each batch element, in float64. */
function stdPerBatch(t: Tensor): number[] {
  const [batch, ...rest] = t.shape;
  const size = numel(rest);
  return Array.from({ length: batch }, (_, n) => {
    const values = t.data.subarray(n * size, (n + 1) * size);
    let mean = 0;
    for (const v of values) mean += v;
    mean /= size;
    let sumSquares = 0;
    for (const v of values) sumSquares += (v - mean) ** 2;
    return Math.sqrt(sumSquares / (size - 1));
  });
}

/**
 * Guidance rescale (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are
 * Flawed", section 3.4, as diffusers' `rescale_noise_cfg`): scale the guided prediction so its
 * standard deviation (over all dims but the batch) matches the conditional prediction's, then mix
 * `guidanceRescale` of that with the rest of the unscaled one. High guidance scales otherwise
 * inflate the prediction's variance and over-expose images.
 */
export function rescaleNoiseCfg(noiseCfg: Tensor, noiseCond: Tensor, guidanceRescale = 0): Tensor {
  assertSameShape(noiseCfg, noiseCond, 'rescaleNoiseCfg');
  const stdCfg = stdPerBatch(noiseCfg); // [B]
  // torch keeps the two standard deviations and their ratio as float32.
  const ratios = stdPerBatch(noiseCond).map((stdCond, n) => f32(f32(stdCond) / f32(stdCfg[n]))); // [B]
  const size = numel(noiseCfg.shape.slice(1));
  return zipTensors(noiseCfg, noiseCond, (x, _cond, i) => {
    const rescaled = x * ratios[Math.floor(i / size)];
    return guidanceRescale * rescaled + (1 - guidanceRescale) * x;
  });
}

/**
 * Dynamic thresholding (Saharia et al. 2022, Imagen, section 2.3; diffusers' `_threshold_sample`):
 * per batch element, s = the `dynamicThresholdingRatio` quantile of |x| over C*H*W, clamped to
 * [1, sampleMaxValue]; then x is clamped to [-s, s] and divided by s. Saturated pixels are pulled
 * inwards instead of being clipped flat, which helps at high guidance scales.
 */
export function dynamicThreshold(sample: Tensor, dynamicThresholdingRatio = 0.995, sampleMaxValue = 1): Tensor {
  const [batch, ...rest] = sample.shape; // [B, C, H, W]
  const size = numel(rest);
  const s = Array.from({ length: batch }, (_, n) => {
    const absValues = sample.data.subarray(n * size, (n + 1) * size).map(Math.abs); // [C*H*W]
    return Math.min(Math.max(quantile(absValues, dynamicThresholdingRatio), 1), f32(sampleMaxValue));
  }); // [B]
  const data = sample.data.map((x, i) => {
    const sn = s[Math.floor(i / size)];
    return Math.min(Math.max(x, -sn), sn) / sn;
  });
  return { data, shape: [...sample.shape] };
}
