/** The embedding maths of the DALL-E 2 chapter: unit-rms scale, cosine, slerp, the 2-D PCA map. */
import { describe, expect, it } from 'vitest';
import {
  cosineSimilarity,
  createGenerator,
  fitPca2,
  l2Normalize,
  nearestByCosine,
  projectPca2,
  randnTensor,
  slerp,
  unitRms,
  type Tensor,
} from '../../src/lib/diffusion/index';

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
const row = (t: Tensor, i: number) => t.data.slice(i * t.shape[1], (i + 1) * t.shape[1]);

describe('unitRms and l2Normalize', () => {
  it('unitRms gives every row norm sqrt(E) and keeps zeros at zero (training/models/unclip.py)', () => {
    const x = { data: Float32Array.from([3, 4, 0, 0, 0, 0, 0, 0, 1, -1, 2, -2]), shape: [3, 4] };
    const y = unitRms(x);
    expect(norm(row(y, 0))).toBeCloseTo(2, 6); // sqrt(4)
    expect(Array.from(row(y, 0))).toEqual([1.2, 1.6, 0, 0].map((v) => Math.fround(v)));
    expect(Array.from(row(y, 1))).toEqual([0, 0, 0, 0]);
    expect(norm(row(y, 2))).toBeCloseTo(2, 6);
  });

  it('l2Normalize gives unit rows; cosine of a row with itself is 1, with its negation -1', () => {
    const x = randnTensor([5, 64], createGenerator(1));
    const n = l2Normalize(x);
    for (let i = 0; i < 5; i++) expect(norm(row(n, i))).toBeCloseTo(1, 6);
    const minus = { data: x.data.map((v) => -v), shape: x.shape };
    const c = cosineSimilarity(x, minus);
    expect(c.shape).toEqual([5, 5]);
    for (let i = 0; i < 5; i++) expect(c.data[i * 5 + i]).toBeCloseTo(-1, 6);
    expect(nearestByCosine({ data: row(x, 3), shape: [1, 64] }, x, 2)[0]).toEqual({
      index: 3,
      similarity: expect.closeTo(1, 6),
    });
  });
});

describe('slerp', () => {
  const a = unitRms(randnTensor([1, 64], createGenerator(2)));
  const b = unitRms(randnTensor([1, 64], createGenerator(3)));

  it('returns the exact ends at t = 0 and t = 1', () => {
    expect(slerp(a, b, 0).data).toEqual(a.data);
    expect(slerp(a, b, 1).data).toEqual(b.data);
  });

  it('keeps the norm of equal-norm ends all the way (the straight line would shrink it)', () => {
    for (const t of [0.1, 0.25, 0.5, 0.9]) expect(norm(slerp(a, b, t).data)).toBeCloseTo(8, 4);
    const mid = a.data.map((v, i) => (v + b.data[i]) / 2);
    expect(norm(mid)).toBeLessThan(7); // two random 64-d directions are nearly orthogonal
  });

  it('walks the angle uniformly: the angle to a grows linearly with t', () => {
    const angle = (u: Tensor, v: Tensor) => Math.acos(cosineSimilarity(u, v).data[0]);
    const total = angle(a, b);
    for (const t of [0.2, 0.5, 0.7]) expect(angle(a, slerp(a, b, t))).toBeCloseTo(t * total, 4);
  });

  it('falls back to the straight line for parallel vectors', () => {
    const twice = { data: a.data.map((v) => 2 * v), shape: a.shape };
    const mid = slerp(a, twice, 0.5);
    for (let i = 0; i < 64; i++) expect(mid.data[i]).toBeCloseTo(1.5 * a.data[i], 5);
  });
});

describe('fitPca2 / projectPca2', () => {
  it('finds the axes of a stretched cloud, with their variances, against the closed form', () => {
    // Points along (3, 4, 0)/5 with variance ~100 and along (0, 0, 1) with variance ~4, plus small noise.
    const g = createGenerator(4);
    const n = 400;
    const z = randnTensor([n, 3], g).data;
    const data = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const u = 10 * z[i * 3];
      const w = 2 * z[i * 3 + 1];
      const e = 0.05 * z[i * 3 + 2];
      data.set([0.6 * u - 0.8 * e + 1, 0.8 * u + 0.6 * e - 2, w + 5], i * 3);
    }
    const pca = fitPca2({ data, shape: [n, 3] });
    expect(Math.abs(pca.components[0][0])).toBeCloseTo(0.6, 2);
    expect(Math.abs(pca.components[0][1])).toBeCloseTo(0.8, 2);
    expect(Math.abs(pca.components[1][2])).toBeCloseTo(1, 3);
    // Sample variances of the generating coordinates.
    const variance = (k: number, s: number) => {
      let m = 0;
      let v = 0;
      for (let i = 0; i < n; i++) m += (s * z[i * 3 + k]) / n;
      for (let i = 0; i < n; i++) v += (s * z[i * 3 + k] - m) ** 2 / (n - 1);
      return v;
    };
    expect(pca.explainedVariance[0] / variance(0, 10)).toBeCloseTo(1, 2);
    expect(pca.explainedVariance[1] / variance(1, 2)).toBeCloseTo(1, 2);
    expect(pca.mean[2]).toBeCloseTo(5, 0);
    // Components are orthonormal; projections of the data are centred.
    const dot = pca.components[0].reduce((s, v, j) => s + v * pca.components[1][j], 0);
    expect(Math.abs(dot)).toBeLessThan(1e-6);
    const xy = projectPca2(pca, { data, shape: [n, 3] });
    expect(xy.shape).toEqual([n, 2]);
    const meanX = Array.from({ length: n }, (_, i) => xy.data[2 * i]).reduce((s, v) => s + v, 0) / n;
    expect(Math.abs(meanX)).toBeLessThan(1e-4);
  });

  it('is deterministic and fixes the sign (largest component positive)', () => {
    const x = randnTensor([50, 64], createGenerator(5));
    const p = fitPca2(x);
    expect(fitPca2(x).components[0]).toEqual(p.components[0]);
    for (const c of p.components) {
      const big = c.reduce((best, v, j) => (Math.abs(v) > Math.abs(c[best]) ? j : best), 0);
      expect(c[big]).toBeGreaterThan(0);
    }
  });

  it('refuses mismatched widths', () => {
    const p = fitPca2(randnTensor([10, 4], createGenerator(6)));
    expect(() => projectPca2(p, randnTensor([2, 5], createGenerator(7)))).toThrow(/fitted on 4/);
  });
});
