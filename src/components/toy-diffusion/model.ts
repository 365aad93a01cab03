/**
 * What the 2-D sampler figure computes: DDIM and DDPM from the same noise on the exact score of the
 * data, and, for each frame of the run, the field and density its planes show and the readout's
 * text. No drawing here, so it runs in tests as it does in the page.
 */
import { createGenerator } from '../../lib/diffusion/index';
import { exactPredictions, type ExactPredictions, type GaussianMixture2D } from '../../lib/diffusion/toy2d';
import { sampleParticles, type Trajectories } from '../../lib/diffusion/toy2d-sampling';
import {
  TOY_ALPHAS_CUMPROD,
  arrowGrid,
  densityGrid,
  exactToyField,
  meanLogDensity,
  medianLength,
  referenceSample,
  startingNoise,
  toyScheduler,
  vpAt,
  type ArrowField,
} from '../toy2d-shared/model';

export const PARTICLES = 400;
export const GRID = arrowGrid(15);
/** Cells a side of the shading. */
export const DENSITY_SIZE = 56;

export interface SamplerRun {
  gm: GaussianMixture2D;
  timesteps: number[];
  /** Frames [steps + 1][N, 2]: frame i holds x at timesteps[i] (before that step); the last is the sample. */
  ddim: Trajectories;
  ddpm: Trajectories;
}

/** Both samplers from the same starting noise (seeded by `seed`); DDPM's fresh noise has its own seed. */
export function sampleBoth(gm: GaussianMixture2D, steps: number, seed: number): SamplerRun {
  const start = startingNoise(PARTICLES, 1000 + seed);
  const field = exactToyField(gm);
  const ddimScheduler = toyScheduler('ddim', steps);
  const ddim = sampleParticles(ddimScheduler, field, start);
  const ddpm = sampleParticles(toyScheduler('ddpm', steps), field, start, { generator: createGenerator(2000 + seed) });
  return { gm, timesteps: [...ddimScheduler.timesteps], ddim, ddpm };
}

/** What the planes show at frame `step`: its timestep (-1 once done), p_t's shading and the arrows. */
export interface Frame {
  step: number;
  steps: number;
  t: number;
  /** log p_t on a DENSITY_SIZE^2 grid. */
  density: Float64Array;
  /** The exact field on GRID; null once done (there is no t to evaluate it at). */
  predictions: ExactPredictions | null;
  /** The arrows asked for, [M, 2], or null. */
  vectors: Float64Array | null;
}

export function frameAt(run: SamplerRun, step: number, kind: ArrowField): Frame {
  const steps = run.timesteps.length;
  const t = step < steps ? run.timesteps[step] : -1;
  const coefficients = vpAt(t);
  const predictions = t >= 0 ? exactPredictions(run.gm, coefficients, GRID) : null;
  const vectors = predictions && kind !== 'none' ? (kind === 'score' ? predictions.score : predictions.epsilon) : null;
  return { step, steps, t, density: densityGrid(run.gm, coefficients, DENSITY_SIZE), predictions, vectors };
}

/** The slider's readout: "12 of 50, t = 760", or "50 of 50, done". */
export function stepText({ step, steps, t }: Frame): string {
  return t >= 0 ? `${step} of ${steps}, t = ${t}` : `${step} of ${steps}, done`;
}

/** The readout under the planes: the field's sizes at t, or how well each sampler landed on the data. */
export function readoutText(run: SamplerRun, frame: Frame): string {
  const { predictions, t, steps } = frame;
  if (predictions) {
    const noise = Math.sqrt(1 - TOY_ALPHAS_CUMPROD[t]);
    return (
      `t = ${t}: √(1 − ᾱₜ) = ${noise.toFixed(3)}; median |∇log pₜ| = ${medianLength(predictions.score).toFixed(2)}, ` +
      `median |ε| = ${medianLength(predictions.epsilon).toFixed(2)} (ε = −${noise.toFixed(3)} × score).`
    );
  }
  const data = meanLogDensity(run.gm, referenceSample(run.gm, PARTICLES));
  return (
    `Done. Mean log p_data of the samples: DDIM ${meanLogDensity(run.gm, run.ddim.frames[steps]).toFixed(2)}, ` +
    `DDPM ${meanLogDensity(run.gm, run.ddpm.frames[steps]).toFixed(2)}; of real data points: ${data.toFixed(2)}.`
  );
}
