import { describe, expect, it } from 'vitest';
import { interpolateLatents, psnr, sampleLatent } from '../../src/lib/pipelines/vae';

const t = (values: number[]) => ({ data: Float32Array.from(values), shape: [1, values.length, 1, 1] });

describe('VAE helpers', () => {
  it('psnr is infinite for equal pictures and 20 log10(2/|d|) for a constant difference', () => {
    expect(psnr(t([0.1, -0.2]), t([0.1, -0.2]))).toBe(Infinity);
    // d = 0.2 on [-1, 1] is 0.1 on [0, 1]: 20 dB.
    expect(psnr(t([0, 0]), t([0.2, 0.2]))).toBeCloseTo(20, 5);
  });

  it('sampleLatent is mean + exp(logvar / 2) * eps, reproducible per seed', () => {
    const mean = t([1, 2, 3]);
    const exact = sampleLatent(mean, t([-100, -100, -100]), 0);
    exact.data.forEach((v, i) => expect(v).toBeCloseTo(mean.data[i], 6));
    expect(sampleLatent(mean, t([0, 0, 0]), 5).data).toEqual(sampleLatent(mean, t([0, 0, 0]), 5).data);
    expect(sampleLatent(mean, t([0, 0, 0]), 5).data).not.toEqual(sampleLatent(mean, t([0, 0, 0]), 6).data);
  });

  it('interpolation starts and ends at the two latents; slerp keeps the norm of equal-norm ends', () => {
    const a = t([1, 0]);
    const b = t([0, 1]);
    const path = interpolateLatents(a, b, 5, 'slerp');
    expect(path).toHaveLength(5);
    expect([...path[0].data]).toEqual([1, 0]);
    expect(path[4].data[1]).toBeCloseTo(1, 6);
    for (const p of path) expect(Math.hypot(p.data[0], p.data[1])).toBeCloseTo(1, 6);
    const line = interpolateLatents(a, b, 3, 'lerp');
    expect([...line[1].data]).toEqual([0.5, 0.5]);
    // Parallel latents fall back to the straight line instead of dividing by zero.
    expect([...interpolateLatents(a, t([2, 0]), 3)[1].data]).toEqual([1.5, 0]);
  });
});
