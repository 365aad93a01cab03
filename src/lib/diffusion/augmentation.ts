/**
 * Noise conditioning augmentation (Saharia et al. 2022, Imagen, section 2.5; Ho et al. 2022,
 * "Cascaded Diffusion Models", section 4.1): a super-resolution model is trained on low-resolution
 * inputs corrupted by the forward process at a random level, and told that level, so that at sampling
 * time it can be asked to distrust the artifacts of the stage below it.
 */
import { f32, roundHalfEven } from './numerics';
import { zipTensors, type Tensor } from './tensor';

/**
 * The forward-process step k = round(noise_level * T) and its alpha-bar for an augmentation level in
 * [0, 1]: alpha-bar = 1 at k = 0 (no noise), else the schedule's alphas_cumprod[k - 1], so that level 1
 * is the schedule's last, almost pure-noise step. (torch's `round` is half-to-even, as here.)
 */
export function augmentationAlphaCumprod(
  alphasCumprod: ArrayLike<number>,
  noiseLevel: number,
): { k: number; alphaProd: number } {
  if (!(noiseLevel >= 0 && noiseLevel <= 1)) {
    throw new Error(`noise_level must be in [0, 1]; got ${noiseLevel}.`);
  }
  // torch multiplies in float32: level [B] * T, then rounds.
  const k = roundHalfEven(f32(f32(noiseLevel) * alphasCumprod.length));
  return { k, alphaProd: k === 0 ? 1 : alphasCumprod[k - 1] };
}

/**
 * q(z_k | z_0) at the augmentation step (DDPM eq. 4): sqrt(ab_k) lowRes + sqrt(1 - ab_k) noise.
 * lowRes and noise [N, C, H, W] -> [N, C, H, W].
 */
export function noiseAugment(
  lowRes: Tensor,
  noise: Tensor,
  alphasCumprod: ArrayLike<number>,
  noiseLevel: number,
): Tensor {
  const { alphaProd } = augmentationAlphaCumprod(alphasCumprod, noiseLevel);
  const a = f32(Math.sqrt(alphaProd));
  const b = f32(Math.sqrt(f32(1 - alphaProd)));
  return zipTensors(lowRes, noise, (x, z) => a * x + b * z);
}
