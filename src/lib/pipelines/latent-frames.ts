/**
 * Turning a recorded denoising run into pictures after the fact: every latent the figure wants to
 * show (x_t and predicted x0 at each step) is decoded by the VAE in a few large batches instead of
 * one decoder run per step, so sampling is never slowed down by drawing.
 */
import { concatBatch, scale, sliceBatch, type Tensor } from '../diffusion/index';
import type { ModelRunner } from '../runtime/types';
import { decode } from './vae';

export interface DecodeLatentsOptions {
  /** The most latents per decoder run; a 25-step run's 50 latents fit in one. */
  batchSize?: number;
  signal?: AbortSignal;
  /** Called after each decoder run with how many latents are done. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * diffusers' `vae.decode(latents / vae.config.scaling_factor)` over many latents: each [n, C, H, W]
 * tensor in `latents` is one or more pictures; returns all of them, in order, as [N, 3, 4H, 4W].
 */
export async function decodeLatents(
  vaeDecoder: ModelRunner,
  latents: readonly Tensor[],
  scalingFactor: number,
  options: DecodeLatentsOptions = {},
): Promise<Tensor> {
  const { batchSize = 64, signal, onProgress } = options;
  const all = concatBatch(latents); // [N, C, H, W]
  const total = all.shape[0];
  const pictures: Tensor[] = [];
  for (let start = 0; start < total; start += batchSize) {
    const end = Math.min(total, start + batchSize);
    pictures.push(await decode(vaeDecoder, scale(sliceBatch(all, start, end), 1 / scalingFactor), signal));
    onProgress?.(end, total);
  }
  return concatBatch(pictures);
}
