import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ditMacs, ditSizeConfigFromManifest, type DitSizeConfig } from '../../src/lib/diffusion/dit-flops';

/** DiT-XL/2 etc. at 256 x 256 (32 x 32 x 4 latents), learn_sigma = True as published. */
const paper = (depth: number, hiddenSize: number): DitSizeConfig => ({
  inputSize: 32,
  patchSize: 2,
  inChannels: 4,
  hiddenSize,
  depth,
  mlpRatio: 4,
  outChannels: 8,
  frequencyEmbeddingSize: 256,
});

describe('ditMacs', () => {
  // Peebles & Xie 2023, table 1 (Gflops, one multiply-add = one flop). Tolerance 0.5%.
  it.each([
    ['DiT-S/2', 12, 384, 6.06],
    ['DiT-B/2', 12, 768, 23.01],
    ['DiT-L/2', 24, 1024, 80.71],
    ['DiT-XL/2', 28, 1152, 118.64],
  ])('reproduces the paper for %s', (_name, depth, hidden, gflops) => {
    const macs = ditMacs(paper(depth, hidden)).total / 1e9;
    expect(Math.abs(macs - gflops) / gflops).toBeLessThan(0.005);
  });

  it('counts T = (I / p)^2 tokens and roughly quarters the cost when p doubles', () => {
    const p2 = ditMacs(paper(28, 1152));
    const p4 = ditMacs({ ...paper(28, 1152), patchSize: 4 });
    const p8 = ditMacs({ ...paper(28, 1152), patchSize: 8 });
    expect([p2.tokens, p4.tokens, p8.tokens]).toEqual([256, 64, 16]);
    // The paper's XL/4 and XL/8: 29.05 and 7.39 Gflops (fig. 2 / table 4).
    expect(p4.total / 1e9).toBeCloseTo(29.05, 0);
    expect(p8.total / 1e9).toBeCloseTo(7.39, 0);
  });

  it('refuses a patch size that does not divide the latent', () => {
    expect(() => ditMacs({ ...paper(2, 64), patchSize: 3 })).toThrow(/does not split/);
  });

  it('reads the manifest config, deriving outChannels from learn_sigma', () => {
    const config = ditSizeConfigFromManifest({
      input_size: 8,
      patch_size: 2,
      in_channels: 4,
      hidden_size: 128,
      depth: 6,
      num_heads: 4,
      mlp_ratio: 4,
      learn_sigma: false,
    });
    expect(config).toMatchObject({ outChannels: 4, frequencyEmbeddingSize: 256, inputSize: 8 });
    expect(ditSizeConfigFromManifest({ patch_size: 2 })).toBeNull();
  });

  // The shipped model's FLOPs were counted from its ONNX graph (2 per multiply-add, training/flops.py).
  const manifestPath = 'public/weights/manifest.json';
  const entry = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')).models.dit : undefined;
  it.skipIf(!entry)('matches the graph-counted flops_per_sample of the shipped mini DiT within 3%', () => {
    const config = ditSizeConfigFromManifest(entry.config)!;
    const macs = ditMacs(config).total;
    expect(Math.abs((2 * macs) / entry.flops_per_sample - 1)).toBeLessThan(0.03);
  });
});
