/**
 * Reading a text-conditional UNet's cross-attention (Rombach et al. 2022, Sec. 3.3): at every
 * latent position each cross-attention layer spreads one unit of attention over the prompt's
 * tokens. Averaging those probabilities over steps and layers gives, per token, a map of where the
 * UNet looked for it, the idea behind prompt-to-prompt (Hertz et al. 2022) and DAAM (Tang et al. 2023).
 */
import type { Tensor } from '../diffusion/index';

export interface AttentionAverageOptions {
  /** Which image of the batch (dim 0). */
  image?: number;
  /** Layer indices to average (dim 1); all layers when left out. */
  layers?: readonly number[];
}

/**
 * Mean of per-step cross-attention probabilities, each [N, layers, tokens, H, W] (head-averaged),
 * over the steps and the chosen layers of one image: [tokens, H, W] flattened as [1, tokens, H, W].
 * Every position's values still sum to one over the tokens.
 */
export function averageCrossAttention(steps: readonly Tensor[], options: AttentionAverageOptions = {}): Tensor {
  if (steps.length === 0) throw new Error('averageCrossAttention: no steps recorded.');
  const [batch, layerCount, tokens, height, width] = steps[0].shape;
  const image = options.image ?? 0;
  if (image < 0 || image >= batch)
    throw new Error(`averageCrossAttention: image ${image} is outside a batch of ${batch}.`);
  const layers = options.layers ?? Array.from({ length: layerCount }, (_, l) => l);
  if (layers.length === 0 || layers.some((l) => l < 0 || l >= layerCount)) {
    throw new Error(`averageCrossAttention: layers must be within 0..${layerCount - 1}.`);
  }
  const map = tokens * height * width; // one layer's [tokens, H, W]
  const out = new Float64Array(map);
  for (const step of steps) {
    for (const layer of layers) {
      const offset = (image * layerCount + layer) * map;
      for (let i = 0; i < map; i++) out[i] += step.data[offset + i];
    }
  }
  const count = steps.length * layers.length;
  return { data: Float32Array.from(out, (v) => v / count), shape: [1, tokens, height, width] };
}

/** How much of the attention each token received overall: the mean of its map, [tokens]; sums to one. */
export function tokenShares(average: Tensor): number[] {
  const [, tokens, height, width] = average.shape;
  const plane = height * width;
  return Array.from({ length: tokens }, (_, t) => {
    let sum = 0;
    for (let i = 0; i < plane; i++) sum += average.data[t * plane + i];
    return sum / plane;
  });
}

/** One token's map, [H * W], or the sum of several tokens' maps (e.g. all padding tokens together). */
export function tokenMap(average: Tensor, tokenIndices: readonly number[]): Float32Array {
  const [, , height, width] = average.shape;
  const plane = height * width;
  const out = new Float32Array(plane);
  for (const t of tokenIndices) {
    for (let i = 0; i < plane; i++) out[i] += average.data[t * plane + i];
  }
  return out;
}
