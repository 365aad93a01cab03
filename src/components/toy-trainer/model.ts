/**
 * What the in-page trainer computes, apart from the network itself (src/lib/toy-train): the noise
 * level the slider picks, the learned and exact fields there, samples from either, the training
 * loop's pacing, and the exact field's loss (the floor of the loss curve). No drawing here.
 * TensorFlow.js is loaded only when the reader presses Train, so its module is imported for types only.
 */
import { createGenerator, type Generator } from '../../lib/diffusion/index';
import { exactPredictions, exactVelocity, sampleMixture, type GaussianMixture2D } from '../../lib/diffusion/toy2d';
import { eulerFlow, sampleParticles } from '../../lib/diffusion/toy2d-sampling';
import type { ToyObjective, ToyTrainer } from '../../lib/toy-train/mlp-trainer';
import {
  TOY_ALPHAS_CUMPROD,
  arrowGrid,
  arrowScale,
  densityGrid,
  exactToyField,
  flowAt,
  meanLogDensity,
  startingNoise,
  toyScheduler,
  vpAt,
} from '../toy2d-shared/model';

export const GRID = arrowGrid(13);
/** Cells a side of the shading. */
export const DENSITY_SIZE = 48;
/** Training steps between two turns of the page (redraws, Stop). */
const CHUNK = 25;
/** Training steps between two fresh samples from the network (sampling costs as much as ~50 steps). */
const SAMPLE_EVERY = 250;
const PARTICLES = 300;
/** Euler's 50 steps from flow time 1 (noise) to 0 (data). */
const FLOW_SIGMAS = Array.from({ length: 51 }, (_, i) => 1 - i / 50);

/** The slider's noise level: a DDPM timestep for epsilon, a flow time for v (slider 1-100). */
export interface NoiseLevel {
  timestep: number;
  /** What the network is given: the timestep for epsilon, the flow time in (0, 1] for v. */
  time: number;
  text: string;
}

export function noiseLevel(objective: ToyObjective, slider: number): NoiseLevel {
  const v = slider / 100;
  const timestep = Math.min(999, Math.round(v * 1000) - 1);
  return objective === 'epsilon'
    ? { timestep, time: timestep, text: `t = ${timestep}` }
    : { timestep, time: v, text: `t = ${v.toFixed(2)}` };
}

/** The fields both planes show at one noise level: the shading, the exact arrows, the network's. */
export interface Fields {
  /** log p_t on a DENSITY_SIZE^2 grid. */
  density: Float64Array;
  /** The exact field on GRID, [M, 2]: epsilon or velocity. */
  exact: Float64Array;
  /** The network's field on GRID, or null before training. */
  learned: Float32Array | null;
  /** One arrow scale for both planes, so that lengths compare. */
  scale: number;
}

export function fieldsAt(
  gm: GaussianMixture2D,
  objective: ToyObjective,
  level: NoiseLevel,
  trainer: ToyTrainer | null,
): Fields {
  const flow = objective === 'flow';
  const coefficients = flow ? flowAt(level.time) : vpAt(level.timestep);
  const exact = flow
    ? exactVelocity(gm, Math.max(level.time, 1e-3), GRID)
    : exactPredictions(gm, coefficients, GRID).epsilon;
  return {
    density: densityGrid(gm, coefficients, DENSITY_SIZE),
    exact,
    learned: trainer ? trainer.predict(Float32Array.from(GRID), level.time) : null,
    scale: arrowScale(exact),
  };
}

/** |learned - exact| / |exact| over the grid: how far the network's field is from the truth. */
export function relativeError(learned: ArrayLike<number>, exact: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < exact.length; i++) {
    num += (learned[i] - exact[i]) ** 2;
    den += exact[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/**
 * Samples [N, 2] from the trained network, or from the exact field when `trainer` is null; the same
 * noise for both. DDIM (50 steps) for epsilon, Euler (50 steps) for v.
 */
export function sampleWith(gm: GaussianMixture2D, objective: ToyObjective, trainer: ToyTrainer | null): Float32Array {
  const start = startingNoise(PARTICLES, 21);
  if (objective === 'flow') {
    const field = trainer
      ? (p: Float32Array, t: number) => trainer.predict(p, t)
      : (p: Float32Array, t: number) => Float32Array.from(exactVelocity(gm, Math.max(t, 1e-3), p));
    const frames = eulerFlow(field, start, FLOW_SIGMAS);
    return frames[frames.length - 1];
  }
  const field = trainer ? (p: Float32Array, t: number) => trainer.predict(p, t) : exactToyField(gm);
  const run = sampleParticles(toyScheduler('ddim', 50), field, start);
  return run.frames[run.frames.length - 1];
}

/** What the loop reports after each chunk. */
export interface Progress {
  /** Steps done in this run, of `total`. */
  done: number;
  total: number;
  seconds: number;
  /** Fresh samples from the network, every SAMPLE_EVERY steps and at the end; otherwise null. */
  samples: Float32Array | null;
}

/**
 * Trains `trainer` `total` more steps on batches from `gm`, appending each step's loss to `losses`.
 * The learning rate follows `learningRate(peak, done, total)` over this run (a cosine). Gives the page
 * a turn after every CHUNK steps (`onProgress`); throws an AbortError when `signal` fires.
 */
export async function trainFor(
  trainer: ToyTrainer,
  gm: GaussianMixture2D,
  total: number,
  losses: number[],
  learningRate: (peak: number, step: number, total: number) => number,
  signal: AbortSignal,
  onProgress: (progress: Progress) => void,
): Promise<number> {
  const generator = createGenerator(100 + trainer.steps);
  const sample = (n: number, g: Generator) => sampleMixture(gm, n, g);
  const started = performance.now();
  let done = 0;
  while (done < total) {
    if (signal.aborted) throw new DOMException('stopped', 'AbortError');
    const count = Math.min(CHUNK, total - done);
    trainer.setLearningRate(learningRate(trainer.config.learningRate, done, total));
    losses.push(...trainer.train(count, sample, generator));
    done += count;
    const samples =
      done % SAMPLE_EVERY === 0 || done === total ? sampleWith(gm, trainer.config.objective, trainer) : null;
    onProgress({ done, total, seconds: (performance.now() - started) / 1000, samples });
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return (performance.now() - started) / 1000;
}

/** The line under the chart once a run has finished: time, loss against the floor, where its samples land. */
export function trainedText(
  gm: GaussianMixture2D,
  steps: number,
  total: number,
  seconds: number,
  backend: string,
  losses: number[],
  floor: number,
  samples: { learned: Float32Array; exact: Float32Array },
): string {
  return (
    `Trained ${steps} steps in ${seconds.toFixed(1)} s on ${backend} ` +
    `(${((1000 * seconds) / total).toFixed(1)} ms a step): loss ${smoothed(losses).toFixed(3)}, ` +
    `exact field ${floor.toFixed(3)}. Mean log p_data of its samples ` +
    `${meanLogDensity(gm, samples.learned).toFixed(2)} (exact field's: ${meanLogDensity(gm, samples.exact).toFixed(2)}). ` +
    `Train again to continue.`
  );
}

/**
 * The loss axis: from just under the exact field's loss to the curve's high point after the first
 * steps, so the gap the network is closing fills the chart instead of a sliver above the floor.
 */
export function lossDomain(losses: number[], floor: number): [number, number] {
  if (!losses.length || !Number.isFinite(floor)) return [0, 1];
  const late = losses.slice(Math.min(50, Math.floor(losses.length / 4)));
  const sorted = [...late].sort((a, b) => a - b);
  const high = sorted[Math.floor(0.98 * (sorted.length - 1))];
  const low = Math.min(floor, sorted[0]);
  return [low - 0.1 * (high - low), high + 0.05 * (high - low)];
}

/** Mean of the last 50 losses (the curve is noisy step to step). */
export function smoothed(losses: number[]): number {
  const tail = losses.slice(-50);
  return tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length);
}

/**
 * The loss the exact field would score on this trainer's batches: mean squared distance between the
 * regression target and its conditional mean, estimated on 16 batches (the floor of the curve).
 */
export function exactLoss(trainer: ToyTrainer, gm: GaussianMixture2D): number {
  const generator = createGenerator(999);
  const steps = TOY_ALPHAS_CUMPROD.length;
  let total = 0;
  let count = 0;
  for (let b = 0; b < 16; b++) {
    const { input, times, target } = trainer.makeBatch((n, g) => sampleMixture(gm, n, g), generator);
    for (let i = 0; i < times.length; i++) {
      const point = input.subarray(2 * i, 2 * i + 2);
      const best =
        trainer.config.objective === 'flow'
          ? exactVelocity(gm, Math.max(times[i], 1e-4), point)
          : exactPredictions(gm, vpAt(Math.round(times[i] * (steps - 1))), point).epsilon;
      total += (best[0] - target[2 * i]) ** 2 + (best[1] - target[2 * i + 1]) ** 2;
      count += 2;
    }
  }
  return total / count;
}
