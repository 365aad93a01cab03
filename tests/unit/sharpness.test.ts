import { describe, expect, it } from 'vitest';
import { highFrequencyEnergy } from '../../src/lib/image/sharpness';

/** [N, C, H, W] filled by a function of the flat index. */
function pictures(shape: [number, number, number, number], fn: (i: number) => number) {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => fn(i));
  return { data, shape };
}

describe('highFrequencyEnergy', () => {
  it('matches training/recipes/mini_sd.py high_frequency_energy (torch 2.13 conv2d), values clamped first', () => {
    // Reference: F.conv2d(x.clamp(-1, 1), laplacian, groups=3).pow(2).mean(dim=(1, 2, 3)) for
    // x = sin(0.37 i) * 1.3 reshaped to [2, 3, 5, 6]; float32 on both sides, so 1e-5 relative.
    const x = pictures([2, 3, 5, 6], (i) => Math.sin(i * 0.37) * 1.3);
    const [a, b] = highFrequencyEnergy(x);
    expect(a).toBeCloseTo(7.184904098510742, 4);
    expect(b).toBeCloseTo(7.307146072387695, 4);
  });

  it('is zero for flat and linearly shaded pictures', () => {
    expect(highFrequencyEnergy(pictures([1, 3, 8, 8], () => 0.3))).toEqual([0]);
    // A ramp along x within one 8 x 8 plane: the Laplacian of a linear function is zero.
    const ramp = highFrequencyEnergy(pictures([1, 1, 8, 8], (i) => (i % 8) / 8 - 0.5))[0];
    expect(ramp).toBeCloseTo(0, 10);
  });

  it('falls when a picture is blurred', () => {
    const checker = pictures([1, 1, 8, 8], (i) => (((i % 8) + Math.floor(i / 8)) % 2 ? 1 : -1));
    // Each interior pixel of a +-1 checkerboard has four opposite neighbours: Laplacian = -+8.
    expect(highFrequencyEnergy(checker)[0]).toBe(64);
    const blurred = { data: checker.data.map((v) => v * 0.25), shape: checker.shape };
    expect(highFrequencyEnergy(blurred)[0]).toBe(4);
  });

  it('scores each picture of a batch on its own', () => {
    const batch = pictures([3, 1, 4, 4], (i) => (i < 16 ? 0 : i < 32 ? (i % 2 ? 0.5 : -0.5) : 0));
    const [flat, striped, flatAgain] = highFrequencyEnergy(batch);
    expect(flat).toBe(0);
    expect(striped).toBeGreaterThan(0);
    expect(flatAgain).toBe(0);
  });

  it('refuses tensors that are not pictures', () => {
    expect(() => highFrequencyEnergy({ data: new Float32Array(4), shape: [1, 1, 2, 2] })).toThrow(/at least 3 x 3/);
  });
});
