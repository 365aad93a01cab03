/** The pure helpers behind the Stable Diffusion chapter's figures: batched decoding, attention maps, UNet structure. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { averageCrossAttention, tokenMap, tokenShares } from '../../src/lib/pipelines/cross-attention';
import { decodeLatents } from '../../src/lib/pipelines/latent-frames';
import type { ModelRunner } from '../../src/lib/runtime/types';
import { SD15_UNET_CONFIG, skipsAtLevel, unetStructure } from '../../src/components/unet-structure/structure';

const manifest = JSON.parse(readFileSync('public/weights/manifest.json', 'utf8'));

describe('decodeLatents', () => {
  it('divides by the scaling factor, keeps the order, and batches runs', async () => {
    const batches: number[] = [];
    // A stand-in decoder: the picture's first value is the latent's first value.
    const decoder: ModelRunner = {
      id: 'fake',
      async run(feeds) {
        const z = feeds.latent_sample as { data: Float32Array; shape: number[] };
        const n = z.shape[0];
        batches.push(n);
        const data = new Float32Array(n * 3 * 2 * 2);
        for (let i = 0; i < n; i++) data[i * 12] = z.data[i * 4];
        return { sample: { data, shape: [n, 3, 2, 2] } };
      },
    };
    const latent = (v: number, n = 1) => ({ data: new Float32Array(4 * n).fill(v), shape: [n, 4, 1, 1] });
    const out = await decodeLatents(decoder, [latent(2), latent(4, 2), latent(6)], 2, { batchSize: 3 });
    expect(out.shape).toEqual([4, 3, 2, 2]);
    expect([0, 1, 2, 3].map((i) => out.data[i * 12])).toEqual([1, 2, 2, 3]);
    expect(batches).toEqual([3, 1]);
  });
});

describe('cross-attention averages', () => {
  // 2 steps, batch 2, 2 layers, 3 tokens, 1 x 2 positions; every position sums to one over tokens.
  const step = (values: number[]) => ({ data: Float32Array.from(values), shape: [2, 2, 3, 1, 2] });
  const a = step([...[1, 0, 0, 0, 0, 1], ...[0, 1, 1, 0, 0, 0], ...Array(12).fill(1 / 3)]);
  const b = step([...[0, 0, 1, 0, 0, 1], ...[0, 1, 1, 0, 0, 0], ...Array(12).fill(1 / 3)]);

  it('averages the chosen layers and steps of one image', () => {
    const all = averageCrossAttention([a, b]);
    expect(all.shape).toEqual([1, 3, 1, 2]);
    // token 0, position 0: (1 + 0 + 0 + 0) / 4
    expect(all.data[0]).toBeCloseTo(0.25, 6);
    const layer1 = averageCrossAttention([a, b], { layers: [1] });
    expect([...layer1.data]).toEqual([0, 1, 1, 0, 0, 0]);
    const other = averageCrossAttention([a], { image: 1 });
    other.data.forEach((v) => expect(v).toBeCloseTo(1 / 3, 6));
  });

  it('token shares sum to one; token maps add up tokens', () => {
    const all = averageCrossAttention([a, b]);
    const shares = tokenShares(all);
    expect(shares.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
    const sum = tokenMap(all, [0, 1, 2]);
    sum.forEach((v) => expect(v).toBeCloseTo(1, 6));
  });

  it('refuses layers and images that do not exist', () => {
    expect(() => averageCrossAttention([a], { layers: [2] })).toThrow(/layers/);
    expect(() => averageCrossAttention([a], { image: 2 })).toThrow(/batch/);
    expect(() => averageCrossAttention([])).toThrow(/no steps/);
  });
});

describe('unetStructure', () => {
  it("gives Stable Diffusion 1.5's 16 cross-attention layers and 12 skip connections", () => {
    const sd = unetStructure(SD15_UNET_CONFIG);
    expect(sd.crossAttentionLayers).toBe(16);
    expect(sd.down.map((b) => b.resolution)).toEqual([64, 32, 16, 8]);
    expect(sd.up.map((b) => b.channels)).toEqual([1280, 1280, 640, 320]);
    const saved = 1 + sd.down.reduce((s, b) => s + b.skips, 0);
    expect(saved).toBe(12);
    expect(sd.up.reduce((s, b) => s + b.skips, 0)).toBe(12);
    expect([0, 1, 2, 3].map((l) => skipsAtLevel(sd, l))).toEqual([3, 3, 3, 3]);
  });

  it('matches the shipped UNet: as many cross-attention layers as it exports maps for', () => {
    const unet = manifest.models.sd_unet;
    const ours = unetStructure(unet.config);
    expect(ours.crossAttentionLayers).toBe(unet.cross_attention_layers.length);
    const names = unet.cross_attention_layers.map((l: { name: string }) => l.name.split(' ')[0]);
    const blocks = [...ours.down, ours.mid, ...ours.up];
    const expected = blocks.flatMap((b) => Array(b.attentions).fill(b.name));
    expect(names).toEqual(expected);
    const resolutions = unet.cross_attention_layers.map((l: { resolution: number }) => l.resolution);
    expect(resolutions).toEqual(blocks.flatMap((b) => Array(b.attentions).fill(b.resolution)));
  });
});
