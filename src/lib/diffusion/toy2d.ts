/**
 * Diffusion in two dimensions, in closed form. Every toy distribution here is an isotropic Gaussian
 * mixture, because a mixture stays a mixture under the forward process: if x0 ~ sum_k w_k N(mu_k, s_k^2 I)
 * and x_t = a x0 + b eps, then x_t ~ sum_k w_k N(a mu_k, (a^2 s_k^2 + b^2) I). So the noised density,
 * its exact score grad log p_t(x), the denoiser E[x0 | x_t] (Tweedie's formula) and the exact
 * probability-flow velocity are all a few exponentials away, at every t, with no network.
 *
 * Two interpolation paths share that code (`NoisePath`): the variance-preserving path of DDPM
 * (a = sqrt(alphabar_t), b = sqrt(1 - alphabar_t)) and the straight path of flow matching
 * (a = 1 - t, b = t; Lipman et al. 2023, Liu et al. 2023). Points are flat `[x0, y0, x1, y1, ...]`
 * arrays, `[N, 2]` row-major, the layout of a `Tensor` of shape [N, 2].
 */
import type { Generator } from './random';

/** An isotropic Gaussian mixture in the plane. Components may carry a class label for guidance. */
export interface GaussianMixture2D {
  /** Component means, [K, 2] row-major. */
  means: Float64Array;
  /** Per-component standard deviation, [K]. */
  stds: Float64Array;
  /** Mixture weights, [K], summing to 1. */
  weights: Float64Array;
  /** Class of each component, [K] (0 when the data has no classes). */
  labels: Int32Array;
}

/** One component as written by hand. */
export interface Component2D {
  mean: readonly [number, number];
  std: number;
  weight?: number;
  label?: number;
}

/** A mixture from components; weights default to equal and are normalised to sum to 1. */
export function gaussianMixture(components: readonly Component2D[]): GaussianMixture2D {
  if (components.length === 0) throw new Error('gaussianMixture: a mixture needs at least one component.');
  const k = components.length;
  const means = new Float64Array(2 * k);
  const stds = new Float64Array(k);
  const weights = new Float64Array(k);
  const labels = new Int32Array(k);
  let total = 0;
  components.forEach((c, i) => {
    if (!(c.std > 0)) throw new Error(`gaussianMixture: component ${i} needs a positive std.`);
    means[2 * i] = c.mean[0];
    means[2 * i + 1] = c.mean[1];
    stds[i] = c.std;
    weights[i] = c.weight ?? 1;
    labels[i] = c.label ?? 0;
    total += weights[i];
  });
  for (let i = 0; i < k; i++) weights[i] /= total;
  return { means, stds, weights, labels };
}

/** Data points as a mixture of equal small Gaussians centred on them (a kernel density estimate). */
export function mixtureFromPoints(points: ArrayLike<number>, std: number, label = 0): GaussianMixture2D {
  const components: Component2D[] = [];
  for (let i = 0; i + 1 < points.length; i += 2) components.push({ mean: [points[i], points[i + 1]], std, label });
  return gaussianMixture(components);
}

/** The components of one class, re-weighted to sum to 1: the class-conditional density p(x | c). */
export function classMixture(gm: GaussianMixture2D, label: number): GaussianMixture2D {
  const keep: Component2D[] = [];
  for (let i = 0; i < gm.stds.length; i++) {
    if (gm.labels[i] === label) {
      keep.push({ mean: [gm.means[2 * i], gm.means[2 * i + 1]], std: gm.stds[i], weight: gm.weights[i], label });
    }
  }
  if (keep.length === 0) throw new Error(`classMixture: no component has class ${label}.`);
  return gaussianMixture(keep);
}

/** The distinct class labels of a mixture, ascending. */
export function mixtureClasses(gm: GaussianMixture2D): number[] {
  return [...new Set(gm.labels)].sort((a, b) => a - b);
}

/** Noise level of a path at one time: x_t = alpha x0 + sigma eps, and the time derivatives of both. */
export interface PathCoefficients {
  alpha: number;
  sigma: number;
  /** d alpha / dt and d sigma / dt, for the probability-flow velocity. */
  dAlpha: number;
  dSigma: number;
}

/** Variance-preserving (DDPM) coefficients at cumulative alpha `alphaBar` (derivatives per unit of alphaBar are not needed). */
export function vpCoefficients(alphaBar: number): PathCoefficients {
  return { alpha: Math.sqrt(alphaBar), sigma: Math.sqrt(1 - alphaBar), dAlpha: NaN, dSigma: NaN };
}

/** Flow-matching straight path at t in [0, 1]: x_t = (1 - t) x0 + t eps (rectified flow, eq. 1 of Liu et al. 2023). */
export function flowCoefficients(t: number): PathCoefficients {
  return { alpha: 1 - t, sigma: t, dAlpha: -1, dSigma: 1 };
}

/** The distribution of x_t = alpha x0 + sigma eps: each component scaled by alpha and widened by sigma. */
export function noisedMixture(gm: GaussianMixture2D, { alpha, sigma }: PathCoefficients): GaussianMixture2D {
  const means = gm.means.map((m) => alpha * m);
  const stds = gm.stds.map((s) => Math.sqrt(alpha * alpha * s * s + sigma * sigma));
  return { means, stds, weights: gm.weights.slice(), labels: gm.labels.slice() };
}

/**
 * Per-component log terms log w_k + log N(x; mu_k, s_k^2 I) at one point, written into `out`
 * ([K]); returns their log-sum-exp, log p(x). Log-space keeps far-away points finite.
 */
function componentLogs(gm: GaussianMixture2D, x: number, y: number, out: Float64Array): number {
  let max = -Infinity;
  for (let k = 0; k < gm.stds.length; k++) {
    const dx = x - gm.means[2 * k];
    const dy = y - gm.means[2 * k + 1];
    const v = gm.stds[k] * gm.stds[k];
    out[k] = Math.log(gm.weights[k]) - Math.log(2 * Math.PI * v) - (dx * dx + dy * dy) / (2 * v);
    if (out[k] > max) max = out[k];
  }
  let sum = 0;
  for (let k = 0; k < out.length; k++) sum += Math.exp(out[k] - max);
  return max + Math.log(sum);
}

/** log p(x, y) of the mixture. */
export function logDensity(gm: GaussianMixture2D, x: number, y: number): number {
  return componentLogs(gm, x, y, new Float64Array(gm.stds.length));
}

/**
 * The exact score grad_x log p(x) at every point ([N, 2] in, [N, 2] out):
 * sum_k r_k(x) (mu_k - x) / s_k^2 with responsibilities r_k = w_k N_k(x) / p(x).
 */
export function score(gm: GaussianMixture2D, points: ArrayLike<number>): Float64Array {
  const out = new Float64Array(points.length);
  const logs = new Float64Array(gm.stds.length);
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = points[i];
    const y = points[i + 1];
    const lse = componentLogs(gm, x, y, logs);
    let sx = 0;
    let sy = 0;
    for (let k = 0; k < logs.length; k++) {
      const r = Math.exp(logs[k] - lse);
      const v = gm.stds[k] * gm.stds[k];
      sx += (r * (gm.means[2 * k] - x)) / v;
      sy += (r * (gm.means[2 * k + 1] - y)) / v;
    }
    out[i] = sx;
    out[i + 1] = sy;
  }
  return out;
}

/** What each network parametrisation would output at x_t if it were perfect, from the exact score. */
export interface ExactPredictions {
  /** The noise prediction eps = -sigma * score (DDPM's epsilon target, Ho et al. 2020 eq. 11 / Song et al. 2021). */
  epsilon: Float64Array;
  /** The denoiser E[x0 | x_t] = (x_t + sigma^2 score) / alpha (Tweedie's formula). */
  sample: Float64Array;
  /** The score itself, grad log p_t(x_t). */
  score: Float64Array;
}

/**
 * Exact epsilon, x0 and score of the data mixture noised to `coefficients`, at each point. The
 * denoiser is computed per component, E[x0 | x_t, k] = mu_k + a s_k^2 (x_t - a mu_k) / (a^2 s_k^2 + b^2),
 * weighted by the responsibilities, which equals Tweedie's (x_t + b^2 score) / a but stays finite at a = 0.
 */
export function exactPredictions(
  gm: GaussianMixture2D,
  coefficients: PathCoefficients,
  points: ArrayLike<number>,
): ExactPredictions {
  const { alpha, sigma } = coefficients;
  const noised = noisedMixture(gm, coefficients);
  const s = score(noised, points);
  const epsilon = s.map((v) => -sigma * v);
  const sample = new Float64Array(s.length);
  const logs = new Float64Array(gm.stds.length);
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = points[i];
    const y = points[i + 1];
    const lse = componentLogs(noised, x, y, logs);
    let mx = 0;
    let my = 0;
    for (let k = 0; k < logs.length; k++) {
      const r = Math.exp(logs[k] - lse);
      const gain = (alpha * gm.stds[k] * gm.stds[k]) / (noised.stds[k] * noised.stds[k]);
      mx += r * (gm.means[2 * k] + gain * (x - alpha * gm.means[2 * k]));
      my += r * (gm.means[2 * k + 1] + gain * (y - alpha * gm.means[2 * k + 1]));
    }
    sample[i] = mx;
    sample[i + 1] = my;
  }
  return { epsilon, sample, score: s };
}

/**
 * The exact flow-matching velocity E[d x_t / dt | x_t] = alpha' E[x0 | x_t] + sigma' E[eps | x_t]
 * for the straight path: E[eps - x0 | x_t], the regression target's minimiser. Needs 0 < t <= 1.
 */
export function exactVelocity(gm: GaussianMixture2D, t: number, points: ArrayLike<number>): Float64Array {
  const c = flowCoefficients(t);
  const { epsilon, sample } = exactPredictions(gm, c, points);
  const out = new Float64Array(points.length);
  for (let i = 0; i < out.length; i++) out[i] = c.dAlpha * sample[i] + c.dSigma * epsilon[i];
  return out;
}

/** Draws `n` points from the mixture ([n, 2]), consuming the generator in a fixed order. */
export function sampleMixture(gm: GaussianMixture2D, n: number, generator: Generator): Float32Array {
  const out = new Float32Array(2 * n);
  const cdf = new Float64Array(gm.weights.length);
  gm.weights.reduce((acc, w, k) => (cdf[k] = acc + w), 0);
  for (let i = 0; i < n; i++) {
    const u = generator.random() * cdf[cdf.length - 1];
    let k = 0;
    while (k < cdf.length - 1 && cdf[k] <= u) k++;
    out[2 * i] = gm.means[2 * k] + gm.stds[k] * generator.normal();
    out[2 * i + 1] = gm.means[2 * k + 1] + gm.stds[k] * generator.normal();
  }
  return out;
}

/** Points on a regular grid over [lo, hi]^2, `count` per side, row by row from the bottom left. */
export function gridPoints(lo: number, hi: number, count: number): Float64Array {
  const out = new Float64Array(2 * count * count);
  const step = (hi - lo) / (count - 1);
  for (let j = 0; j < count; j++) {
    for (let i = 0; i < count; i++) {
      out[2 * (j * count + i)] = lo + i * step;
      out[2 * (j * count + i) + 1] = lo + j * step;
    }
  }
  return out;
}

/** A toy data set: its mixture and how it is described to a reader. */
export interface ToyDataset {
  id: string;
  label: string;
  /** What each class is, for the guidance figure (one entry per class label). */
  classNames: string[];
  mixture: GaussianMixture2D;
}

/** Components spaced evenly along a parametric curve, all with one std: a smooth curve of density. */
function alongCurve(
  count: number,
  std: number,
  label: number,
  at: (u: number) => readonly [number, number],
): Component2D[] {
  return Array.from({ length: count }, (_, i) => ({ mean: at(i / (count - 1)), std, label }));
}

/**
 * The chapter's data sets, all inside roughly [-2, 2]^2 so that they sit on the scale of the
 * N(0, I) noise they are mixed with (as image pixels in [-1, 1] do).
 */
export const TOY_DATASETS: readonly ToyDataset[] = [
  {
    id: 'mixture',
    label: 'Three Gaussians',
    classNames: ['left', 'top', 'right'],
    mixture: gaussianMixture([
      { mean: [-1.3, -0.6], std: 0.3, weight: 0.4, label: 0 },
      { mean: [0.0, 1.3], std: 0.25, weight: 0.25, label: 1 },
      { mean: [1.3, -0.6], std: 0.35, weight: 0.35, label: 2 },
    ]),
  },
  {
    id: 'moons',
    label: 'Two moons',
    classNames: ['upper moon', 'lower moon'],
    mixture: gaussianMixture([
      ...alongCurve(24, 0.09, 0, (u) => [Math.cos(Math.PI * u) - 0.5, Math.sin(Math.PI * u) - 0.25]),
      ...alongCurve(24, 0.09, 1, (u) => [0.5 - Math.cos(Math.PI * u), 0.25 - Math.sin(Math.PI * u)]),
    ]),
  },
  {
    id: 'ring',
    label: 'Ring',
    classNames: ['left half', 'right half'],
    mixture: gaussianMixture(
      alongCurve(41, 0.08, 0, (u) => [1.4 * Math.cos(2 * Math.PI * u), 1.4 * Math.sin(2 * Math.PI * u)])
        .slice(0, 40)
        .map((c) => ({ ...c, label: c.mean[0] < 0 ? 0 : 1 })),
    ),
  },
];

/** The spread of each component of a distribution the reader draws: wide enough to join strokes. */
export const DRAWN_STD = 0.08;
