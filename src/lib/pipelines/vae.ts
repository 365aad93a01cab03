/**
 * The KL autoencoder of latent diffusion (Rombach et al. 2022, Sec. 3): encode a picture to the
 * mean and log-variance of its latent distribution, optionally sample from it, decode back.
 */
import { createGenerator, randnTensor, type Tensor } from '../diffusion/index';
import { hostOutput, type ModelRunner } from '../runtime/types';

export interface VaeRoundTrip {
  /** Mean of q(z | x), [1, 4, 8, 8]. */
  latentMean: Tensor;
  /** Log-variance of q(z | x), [1, 4, 8, 8]. */
  latentLogvar: Tensor;
  /** The latent that was decoded: the mean, or mean + std * eps when sampling. */
  latent: Tensor;
  /** Decoded picture, [1, 3, 32, 32] in [-1, 1]. */
  reconstruction: Tensor;
  /** PSNR in dB of the reconstruction against the input, both mapped to [0, 1]. */
  psnr: number;
  encodeMs: number;
  decodeMs: number;
}

export interface VaeOptions {
  /** Decode a sample of q(z | x) instead of its mean (diffusers' `latent_dist.sample()` vs `.mode()`). */
  sample?: boolean;
  seed?: number;
  signal?: AbortSignal;
}

export async function encode(encoder: ModelRunner, image: Tensor, signal?: AbortSignal) {
  const outputs = await encoder.run({ sample: image }, { signal });
  return {
    latentMean: hostOutput(outputs, 'latent_mean', 'VAE encoder'),
    latentLogvar: hostOutput(outputs, 'latent_logvar', 'VAE encoder'),
  };
}

export async function decode(decoder: ModelRunner, latent: Tensor, signal?: AbortSignal): Promise<Tensor> {
  return hostOutput(await decoder.run({ latent_sample: latent }, { signal }), 'sample', 'VAE decoder');
}

/** z = mean + exp(logvar / 2) * eps: the reparameterised sample (Kingma & Welling 2014). */
export function sampleLatent(mean: Tensor, logvar: Tensor, seed: number): Tensor {
  const eps = randnTensor(mean.shape, createGenerator(seed));
  const data = new Float32Array(mean.data.length);
  for (let i = 0; i < data.length; i++) data[i] = mean.data[i] + Math.exp(0.5 * logvar.data[i]) * eps.data[i];
  return { data, shape: [...mean.shape] };
}

/** Peak signal-to-noise ratio of two [-1, 1] pictures, measured on [0, 1] as is usual. */
export function psnr(a: Tensor, b: Tensor): number {
  if (a.data.length !== b.data.length) throw new Error('psnr: pictures differ in size');
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = (Math.max(-1, Math.min(1, a.data[i])) - Math.max(-1, Math.min(1, b.data[i]))) / 2;
    sum += d * d;
  }
  const mse = sum / a.data.length;
  return mse === 0 ? Infinity : 10 * Math.log10(1 / mse);
}

export async function vaeRoundTrip(
  encoder: ModelRunner,
  decoder: ModelRunner,
  image: Tensor,
  options: VaeOptions = {},
): Promise<VaeRoundTrip> {
  const t0 = performance.now();
  const { latentMean, latentLogvar } = await encode(encoder, image, options.signal);
  const t1 = performance.now();
  const latent = options.sample ? sampleLatent(latentMean, latentLogvar, options.seed ?? 0) : latentMean;
  const reconstruction = await decode(decoder, latent, options.signal);
  const t2 = performance.now();
  return {
    latentMean,
    latentLogvar,
    latent,
    reconstruction,
    psnr: psnr(reconstruction, image),
    encodeMs: t1 - t0,
    decodeMs: t2 - t1,
  };
}

/**
 * Points between two latents, ends included. `slerp` walks the great circle between them (the
 * usual choice for Gaussian latents, whose norm concentrates), `lerp` the straight line.
 */
export function interpolateLatents(a: Tensor, b: Tensor, count: number, method: 'lerp' | 'slerp' = 'slerp'): Tensor[] {
  if (a.data.length !== b.data.length) throw new Error('interpolateLatents: latents differ in size');
  if (count < 2) throw new Error('interpolateLatents: count must be at least 2');
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.data.length; i++) {
    dot += a.data[i] * b.data[i];
    na += a.data[i] * a.data[i];
    nb += b.data[i] * b.data[i];
  }
  const omega = Math.acos(Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb || 1))));
  return Array.from({ length: count }, (_, k) => {
    const t = k / (count - 1);
    // Nearly parallel latents: slerp's weights are 0/0, and the straight line is the same path.
    const useLerp = method === 'lerp' || Math.sin(omega) < 1e-6;
    const wa = useLerp ? 1 - t : Math.sin((1 - t) * omega) / Math.sin(omega);
    const wb = useLerp ? t : Math.sin(t * omega) / Math.sin(omega);
    const data = new Float32Array(a.data.length);
    for (let i = 0; i < data.length; i++) data[i] = wa * a.data[i] + wb * b.data[i];
    return { data, shape: [...a.shape] };
  });
}
