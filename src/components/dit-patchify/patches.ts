/**
 * The patchify figure's build-time numbers: tokens and GFLOPs of a DiT at each patch size, ours and
 * DiT-XL's (it reads the manifest: not for the browser).
 */
import { gflopsAtPatch } from '../../lib/site/dit';
import type { DitSizeConfig } from '../../lib/diffusion/dit-flops';

/** The patch sizes the figure offers; DiT trains p = 2, 4 and 8 (Peebles & Xie 2023, sec. 3.1). */
export const PATCHES = [2, 4, 8];

/** DiT-XL at 256 x 256 (32 x 32 x 4 latent), as published (learn_sigma: 8 output channels). */
const DIT_XL: DitSizeConfig = {
  inputSize: 32,
  patchSize: 2,
  inChannels: 4,
  hiddenSize: 1152,
  depth: 28,
  mlpRatio: 4,
  outChannels: 8,
  frequencyEmbeddingSize: 256,
};

/** 0.0123 -> "0.012", 0.512 -> "0.51", 118.6 -> "118.6"; null (not measured) -> a dash. */
const gflops = (g: number | null) =>
  g === null ? '—' : g >= 10 ? g.toFixed(1) : g >= 0.1 ? g.toFixed(2) : g.toFixed(3);

/** One row per patch size: [p, tokens (ours), GFLOPs (ours), tokens (DiT-XL), GFLOPs (DiT-XL)]. */
export function patchRows(size: DitSizeConfig | null, inputSize: number) {
  return PATCHES.map((p) => ({
    p,
    cells: [
      `p = ${p}`,
      (inputSize / p) ** 2,
      size ? gflops(gflopsAtPatch(size, p)) : '—',
      (DIT_XL.inputSize / p) ** 2,
      gflops(gflopsAtPatch(DIT_XL, p)),
    ],
  }));
}
