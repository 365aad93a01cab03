/**
 * Sampling loops over 2-D particles with any of the library's schedulers: the same `step()` code
 * that samples pictures, fed a field instead of a network. Particles are a Tensor of shape [N, 2].
 */
import type { Generator } from './random';
import type { Scheduler, StepOptions } from './schedulers/common';
import { tensor, type Tensor } from './tensor';
import { exactPredictions, exactVelocity, vpCoefficients, type GaussianMixture2D } from './toy2d';

/** What a denoising network would answer at these points ([N, 2]) and this training timestep. */
export type EpsilonField = (points: Float32Array, timestep: number) => Float32Array;

/** The perfect epsilon-prediction network for this data: -sqrt(1 - alphabar_t) * score of the noised data. */
export function exactEpsilonField(gm: GaussianMixture2D, alphasCumprod: ArrayLike<number>): EpsilonField {
  return (points, timestep) => {
    const eps = exactPredictions(gm, vpCoefficients(alphasCumprod[timestep]), points).epsilon;
    return Float32Array.from(eps);
  };
}

/** Classifier-free guidance on epsilon, eps_u + w (eps_c - eps_u) (Ho & Salimans 2022, eq. 6). */
export function guidedEpsilonField(
  unconditional: EpsilonField,
  conditional: EpsilonField,
  guidanceScale: number,
): EpsilonField {
  return (points, timestep) => {
    const u = unconditional(points, timestep);
    const c = conditional(points, timestep);
    return u.map((v, i) => v + guidanceScale * (c[i] - v));
  };
}

/** Every recorded position of a run: frame 0 is the starting noise, frame i the sample after step i. */
export interface Trajectories {
  /** Model timesteps, one per step. */
  timesteps: number[];
  /** numSteps + 1 frames of [N, 2] positions. */
  frames: Float32Array[];
  /** The scheduler's x0 estimate at each step, [N, 2] per step. */
  predOriginal: Float32Array[];
}

/**
 * Runs a scheduler from `start` ([N, 2]) to the end of its timesteps, calling `field` at each step.
 * Call `scheduler.setTimesteps` first. Stochastic schedulers (DDPM) draw their step noise from
 * `options.generator`.
 */
export function sampleParticles(
  scheduler: Scheduler,
  field: EpsilonField,
  start: Float32Array,
  options: StepOptions = {},
): Trajectories {
  let x: Tensor = tensor(start.slice(), [start.length / 2, 2]);
  const frames = [x.data.slice()];
  const predOriginal: Float32Array[] = [];
  for (const t of scheduler.timesteps) {
    const eps = tensor(field(x.data, t), x.shape);
    const out = scheduler.step(eps, t, x, options);
    x = out.prevSample;
    frames.push(x.data.slice());
    predOriginal.push(out.predOriginalSample.data.slice());
  }
  return { timesteps: [...scheduler.timesteps], frames, predOriginal };
}

/** A velocity field on the straight path: v(points, t) for t in (0, 1], t = 1 being pure noise. */
export type VelocityField = (points: Float32Array, t: number) => Float32Array;

/** The exact rectified-flow velocity E[eps - x0 | x_t] of this data. */
export function exactVelocityField(gm: GaussianMixture2D): VelocityField {
  return (points, t) => Float32Array.from(exactVelocity(gm, t, points));
}

/**
 * Euler on dx/dt = v from t = sigmas[0] to the last sigma, recording every frame:
 * x_{i+1} = x_i + (sigma_{i+1} - sigma_i) v(x_i, sigma_i), the step of diffusers'
 * FlowMatchEulerDiscreteScheduler.
 */
export function eulerFlow(field: VelocityField, start: Float32Array, sigmas: readonly number[]): Float32Array[] {
  let x = start.slice();
  const frames = [x.slice()];
  for (let i = 0; i + 1 < sigmas.length; i++) {
    const v = field(x, sigmas[i]);
    const dt = sigmas[i + 1] - sigmas[i];
    x = x.map((value, j) => value + dt * v[j]);
    frames.push(x.slice());
  }
  return frames;
}

/** Standard normal starting points [N, 2] (the same draws for every sampler compared). */
export function noiseParticles(n: number, generator: Generator): Float32Array {
  return generator.randn([n, 2]).data;
}

/**
 * Straightness of paths: mean over points of (end-to-end distance) / (path length); 1 is a straight
 * line. Each frame holds the same points of `dim` coordinates each: 2 for particles in the plane, the
 * whole length for one latent.
 */
export function pathStraightness(frames: readonly ArrayLike<number>[], dim = 2): number {
  const n = frames[0].length / dim;
  const distance = (a: ArrayLike<number>, b: ArrayLike<number>, p: number) => {
    let sum = 0;
    for (let d = p * dim; d < (p + 1) * dim; d++) sum += (a[d] - b[d]) ** 2;
    return Math.sqrt(sum);
  };
  let total = 0;
  for (let p = 0; p < n; p++) {
    let length = 0;
    for (let f = 1; f < frames.length; f++) length += distance(frames[f], frames[f - 1], p);
    const chord = distance(frames[frames.length - 1], frames[0], p);
    total += length > 0 ? chord / length : 1;
  }
  return total / n;
}

/** Pairs of noise and data points, [N, 2] each, row i of one paired with row i of the other. */
export interface Coupling {
  noise: Float32Array;
  data: Float32Array;
}

/**
 * The coupling a flow's ODE makes: each noise point paired with where Euler on `field` carries it
 * (`sigmas` from 1 to 0). These are the pairs reflow retrains on (Liu et al. 2023, section 2.2).
 */
export function odeCoupling(field: VelocityField, noise: Float32Array, sigmas: readonly number[]): Coupling {
  const frames = eulerFlow(field, noise, sigmas);
  return { noise: noise.slice(), data: frames[frames.length - 1] };
}

/**
 * The velocity a reflowed (2-rectified) flow learns from coupled pairs (z_i, x_i), estimated by
 * kernel regression instead of a network: the weighted mean of z_i - x_i over the pairs whose
 * straight line passes near x at time t,
 *   v(x, t) = sum_i K(x - x_t^i) (z_i - x_i) / sum_i K(x - x_t^i),  x_t^i = (1 - t) x_i + t z_i,
 * with a Gaussian kernel K of width `bandwidth`. It minimises the same loss a network trained on the
 * pairs' straight interpolations minimises, smoothed over `bandwidth`.
 */
export function couplingVelocityField(coupling: Coupling, bandwidth: number): VelocityField {
  const { noise, data } = coupling;
  const n = noise.length / 2;
  const inv = 1 / (2 * bandwidth * bandwidth);
  const logK = new Float64Array(n);
  return (points, t) => {
    const out = new Float32Array(points.length);
    for (let p = 0; p < points.length / 2; p++) {
      const x = points[2 * p];
      const y = points[2 * p + 1];
      let max = -Infinity;
      for (let i = 0; i < n; i++) {
        const cx = (1 - t) * data[2 * i] + t * noise[2 * i];
        const cy = (1 - t) * data[2 * i + 1] + t * noise[2 * i + 1];
        logK[i] = -((x - cx) ** 2 + (y - cy) ** 2) * inv;
        if (logK[i] > max) max = logK[i];
      }
      // Subtracting the largest log weight keeps points far from every pair finite (nearest pair wins).
      let total = 0;
      let vx = 0;
      let vy = 0;
      for (let i = 0; i < n; i++) {
        const k = Math.exp(logK[i] - max);
        total += k;
        vx += k * (noise[2 * i] - data[2 * i]);
        vy += k * (noise[2 * i + 1] - data[2 * i + 1]);
      }
      out[2 * p] = vx / total;
      out[2 * p + 1] = vy / total;
    }
    return out;
  };
}
