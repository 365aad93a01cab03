/**
 * What the 2-D figures compute, composed from the library (src/lib/diffusion/toy2d*.ts): the data
 * set the reader picked, the DDPM schedule every diffusion figure uses, the grids the planes shade
 * and the arrows they draw. No drawing here, so it can be tested without a browser.
 */
import {
  DDIMScheduler,
  DDPMScheduler,
  FlowMatchEulerDiscreteScheduler,
  alphasCumprod,
  betaSchedule,
  createGenerator,
  type Scheduler,
} from '../../lib/diffusion/index';
import {
  DRAWN_STD,
  TOY_DATASETS,
  exactPredictions,
  exactVelocity,
  flowCoefficients,
  gridPoints,
  logDensity,
  mixtureFromPoints,
  sampleMixture,
  noisedMixture,
  vpCoefficients,
  type GaussianMixture2D,
  type PathCoefficients,
} from '../../lib/diffusion/toy2d';
import {
  couplingVelocityField,
  eulerFlow,
  exactVelocityField,
  noiseParticles,
  odeCoupling,
  pathStraightness,
  sampleParticles,
  type EpsilonField,
  type VelocityField,
} from '../../lib/diffusion/toy2d-sampling';
import { PLANE_EXTENT } from './plane';

/** DDPM's own schedule (Ho et al. 2020): linear betas 1e-4 to 0.02 over 1,000 steps. */
export const TOY_ALPHAS_CUMPROD = alphasCumprod(betaSchedule('linear', 1000, 1e-4, 0.02));
export const TOY_TRAIN_TIMESTEPS = TOY_ALPHAS_CUMPROD.length;

/** The data choices of every 2-D figure: the library's sets, then the reader's drawing. */
export const TOY_DATA_CHOICES = [
  ...TOY_DATASETS.map((d) => ({ id: d.id, label: d.label })),
  { id: 'drawn', label: 'Your drawing' },
];

/** Fewest drawn points that make a distribution worth sampling. */
export const MIN_DRAWN_POINTS = 5;
/** Most mixture components a drawing keeps (evenly thinned), so sampling stays interactive. */
const MAX_DRAWN_COMPONENTS = 240;

/** The mixture for a data choice; null when the drawing has too few points. */
export function toyMixture(id: string, drawn: readonly number[]): GaussianMixture2D | null {
  if (id === 'drawn') {
    const n = drawn.length / 2;
    if (n < MIN_DRAWN_POINTS) return null;
    const stride = Math.max(1, Math.ceil(n / MAX_DRAWN_COMPONENTS));
    const kept: number[] = [];
    for (let i = 0; i < n; i += stride) kept.push(drawn[2 * i], drawn[2 * i + 1]);
    return mixtureFromPoints(kept, DRAWN_STD);
  }
  return (TOY_DATASETS.find((d) => d.id === id) ?? TOY_DATASETS[0]).mixture;
}

/** A DDIM or DDPM scheduler on the toy schedule, trailing spacing (the first step starts at t = 999, pure noise). */
export function toyScheduler(kind: 'ddim' | 'ddpm', steps: number): Scheduler {
  const options = { clipSample: false, timestepSpacing: 'trailing' as const, betaSchedule: 'linear' as const };
  const s = kind === 'ddim' ? new DDIMScheduler(options) : new DDPMScheduler(options);
  s.setTimesteps(steps);
  return s;
}

/** Coefficients of x_t on the DDPM path at training timestep t (t < 0 means the clean data). */
export function vpAt(timestep: number): PathCoefficients {
  return vpCoefficients(timestep < 0 ? 1 : TOY_ALPHAS_CUMPROD[timestep]);
}

/** log p_t on a size x size grid over the plane (row 0 at the bottom), for the shading. */
export function densityGrid(gm: GaussianMixture2D, coefficients: PathCoefficients, size = 64): Float64Array {
  const noised = coefficients.alpha === 1 && coefficients.sigma === 0 ? gm : noisedMixture(gm, coefficients);
  const pts = gridPoints(-PLANE_EXTENT, PLANE_EXTENT, size);
  const out = new Float64Array(size * size);
  for (let i = 0; i < out.length; i++) out[i] = logDensity(noised, pts[2 * i], pts[2 * i + 1]);
  return out;
}

/** Grid points for arrows, inset from the plane's edge. */
export function arrowGrid(count = 15): Float64Array {
  const inset = PLANE_EXTENT * (1 - 1 / count);
  return gridPoints(-inset, inset, count);
}

export type ArrowField = 'score' | 'epsilon' | 'velocity' | 'none';

/** The exact field at these points on the DDPM path (score or epsilon) or the flow path (velocity at flow time t). */
export function exactArrows(gm: GaussianMixture2D, kind: ArrowField, at: number, points: Float64Array): Float64Array {
  if (kind === 'velocity') return exactVelocity(gm, Math.max(at, 1e-3), points);
  const p = exactPredictions(gm, vpAt(at), points);
  return kind === 'score' ? p.score : p.epsilon;
}

/** Median vector length of a field [M, 2]. */
export function medianLength(vectors: ArrayLike<number>): number {
  const lengths: number[] = [];
  for (let i = 0; i + 1 < vectors.length; i += 2) lengths.push(Math.hypot(vectors[i], vectors[i + 1]));
  lengths.sort((a, b) => a - b);
  const m = lengths.length >> 1;
  return lengths.length % 2 ? lengths[m] : (lengths[m - 1] + lengths[m]) / 2;
}

/**
 * An arrow scale that draws the field's median vector as `target` plane units: a score grows like
 * 1 / sigma^2 near the data, so fixed scaling would be all dots at t = 999 and all spikes at t = 0.
 */
export function arrowScale(vectors: ArrayLike<number>, target = 0.22): number {
  const m = medianLength(vectors);
  return m > 0 ? target / m : 1;
}

/** Mean log density of points under the clean data: how well samples land on the data. */
export function meanLogDensity(gm: GaussianMixture2D, points: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i + 1 < points.length; i += 2) total += logDensity(gm, points[i], points[i + 1]);
  return total / (points.length / 2);
}

/** The same starting noise for every sampler a figure compares. */
export function startingNoise(n: number, seed: number): Float32Array {
  return noiseParticles(n, createGenerator(seed));
}

/** The exact epsilon field of the data at each sampling timestep. */
export function exactToyField(gm: GaussianMixture2D): EpsilonField {
  return (points, timestep) => Float32Array.from(exactPredictions(gm, vpAt(timestep), points).epsilon);
}

/** Straight-path time -> coefficients (re-exported for figures that draw flow densities). */
export const flowAt = flowCoefficients;

const references = new WeakMap<GaussianMixture2D, Float32Array>();
/** Real draws from the data (fixed seed, cached): what samples are compared against. */
export function referenceSample(gm: GaussianMixture2D, n: number): Float32Array {
  let s = references.get(gm);
  if (!s || s.length !== 2 * n) {
    s = sampleMixture(gm, n, createGenerator(7));
    references.set(gm, s);
  }
  return s;
}

/** The sigmas diffusers' FlowMatchEulerDiscreteScheduler walks for `steps` steps and this shift (ending with 0). */
export function flowSigmas(steps: number, shift = 1): number[] {
  const scheduler = new FlowMatchEulerDiscreteScheduler({ shift });
  scheduler.setTimesteps(steps);
  return [...scheduler.sigmas];
}

/** Pairs reflow trains on, and the kernel width of its velocity estimate (plane units). */
export const REFLOW_PAIRS = 1000;
export const REFLOW_BANDWIDTH = 0.06;
/** Steps of the fine Euler run that makes the pairs: close to the exact ODE. */
const REFLOW_PAIR_STEPS = 50;

const reflowFields = new WeakMap<GaussianMixture2D, Map<number, VelocityField>>();
/**
 * The reflowed velocity of this data (cached per data set and seed): pairs of fresh noise and where
 * the exact flow's ODE carries it, regressed by `couplingVelocityField`. The pairs' noise is never
 * the noise a figure then samples from.
 */
export function reflowField(gm: GaussianMixture2D, seed: number): VelocityField {
  let bySeed = reflowFields.get(gm);
  if (!bySeed) reflowFields.set(gm, (bySeed = new Map()));
  let field = bySeed.get(seed);
  if (!field) {
    const fine = Array.from({ length: REFLOW_PAIR_STEPS + 1 }, (_, i) => 1 - i / REFLOW_PAIR_STEPS);
    const pairs = odeCoupling(exactVelocityField(gm), noiseParticles(REFLOW_PAIRS, createGenerator(seed)), fine);
    field = couplingVelocityField(pairs, REFLOW_BANDWIDTH);
    bySeed.set(seed, field);
  }
  return field;
}

export interface PathsRun {
  /** Positions per frame [N, 2], frame 0 the shared noise. */
  frames: Float32Array[];
  straightness: number;
  /** Mean log p_data of where the particles ended. */
  logP: number;
}

function summarise(gm: GaussianMixture2D, frames: Float32Array[]): PathsRun {
  return { frames, straightness: pathStraightness(frames), logP: meanLogDensity(gm, frames[frames.length - 1]) };
}

/** The exact-field samplers the flow chapter's 2-D figure compares, both from `start` in `steps` steps. */
export function comparePaths(
  gm: GaussianMixture2D,
  start: Float32Array,
  steps: number,
  shift: number,
): Record<'ddim' | 'flow', PathsRun> {
  return {
    ddim: summarise(gm, sampleParticles(toyScheduler('ddim', steps), exactToyField(gm), start).frames),
    flow: summarise(gm, eulerFlow(exactVelocityField(gm), start, flowSigmas(steps, shift))),
  };
}

/** Euler on the reflowed field (see `reflowField`; its first call per data and seed builds the pairs). */
export function reflowPaths(
  gm: GaussianMixture2D,
  start: Float32Array,
  steps: number,
  shift: number,
  reflowSeed: number,
): PathsRun {
  return summarise(gm, eulerFlow(reflowField(gm, reflowSeed), start, flowSigmas(steps, shift)));
}
