/**
 * The closed-form 2-D maths of src/lib/diffusion/toy2d.ts: scores against central finite
 * differences of the log density, Tweedie's denoiser and the flow velocity against single-Gaussian
 * closed forms, and the samplers against the data they should reach.
 */
import { describe, expect, it } from 'vitest';
import {
  DDIMScheduler,
  DDPMScheduler,
  alphasCumprod,
  betaSchedule,
  createGenerator,
} from '../../src/lib/diffusion/index';
import {
  TOY_DATASETS,
  classMixture,
  exactPredictions,
  exactVelocity,
  flowCoefficients,
  gaussianMixture,
  gridPoints,
  logDensity,
  mixtureClasses,
  mixtureFromPoints,
  noisedMixture,
  sampleMixture,
  score,
  vpCoefficients,
} from '../../src/lib/diffusion/toy2d';
import {
  eulerFlow,
  exactEpsilonField,
  exactVelocityField,
  guidedEpsilonField,
  noiseParticles,
  pathStraightness,
  sampleParticles,
} from '../../src/lib/diffusion/toy2d-sampling';

const H = 1e-5;

/** Central differences of log p: the gradient the closed-form score must equal. */
function finiteDifferenceScore(gm: Parameters<typeof logDensity>[0], x: number, y: number): [number, number] {
  return [
    (logDensity(gm, x + H, y) - logDensity(gm, x - H, y)) / (2 * H),
    (logDensity(gm, x, y + H) - logDensity(gm, x, y - H)) / (2 * H),
  ];
}

function meanAndVariance(points: Float32Array): { mean: [number, number]; variance: [number, number] } {
  const n = points.length / 2;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += points[2 * i] / n;
    my += points[2 * i + 1] / n;
  }
  let vx = 0;
  let vy = 0;
  for (let i = 0; i < n; i++) {
    vx += (points[2 * i] - mx) ** 2 / n;
    vy += (points[2 * i + 1] - my) ** 2 / n;
  }
  return { mean: [mx, my], variance: [vx, vy] };
}

describe('exact score of a noised Gaussian mixture', () => {
  const probes = gridPoints(-2.5, 2.5, 7);
  for (const dataset of TOY_DATASETS) {
    for (const alphaBar of [0.999, 0.5, 0.02]) {
      it(`${dataset.id} at alphabar ${alphaBar} matches finite differences of log p_t`, () => {
        const noised = noisedMixture(dataset.mixture, vpCoefficients(alphaBar));
        const s = score(noised, probes);
        for (let i = 0; i < probes.length; i += 2) {
          const [fx, fy] = finiteDifferenceScore(noised, probes[i], probes[i + 1]);
          // Relative to the score's size: near a sharp component the score reaches ~100.
          expect(Math.abs(s[i] - fx)).toBeLessThan(1e-5 * Math.max(1, Math.abs(fx)));
          expect(Math.abs(s[i + 1] - fy)).toBeLessThan(1e-5 * Math.max(1, Math.abs(fy)));
        }
      });
    }
  }

  it('stays finite far from every component (log-sum-exp)', () => {
    const s = score(TOY_DATASETS[1].mixture, [40, -35]);
    expect(Number.isFinite(s[0]) && Number.isFinite(s[1])).toBe(true);
    expect(s[0]).toBeLessThan(0); // points back towards the data
  });

  it('eps = -sqrt(1 - alphabar) * score, and Tweedie recovers the single Gaussian posterior mean', () => {
    const gm = gaussianMixture([{ mean: [0.7, -0.4], std: 0.5 }]);
    const alphaBar = 0.3;
    const c = vpCoefficients(alphaBar);
    const x = [1.1, 0.9];
    const pred = exactPredictions(gm, c, x);
    expect(pred.epsilon[0]).toBeCloseTo(-Math.sqrt(1 - alphaBar) * pred.score[0], 12);
    // One Gaussian: E[x0 | x_t] = mu + a s^2 (x - a mu) / (a^2 s^2 + b^2).
    const v = c.alpha ** 2 * 0.25 + c.sigma ** 2;
    expect(pred.sample[0]).toBeCloseTo(0.7 + (c.alpha * 0.25 * (x[0] - c.alpha * 0.7)) / v, 12);
    expect(pred.sample[1]).toBeCloseTo(-0.4 + (c.alpha * 0.25 * (x[1] + c.alpha * 0.4)) / v, 12);
  });
});

describe('flow-matching velocity', () => {
  it('equals E[eps - x0 | x_t] and satisfies the continuity of the straight path (finite differences in t)', () => {
    const gm = TOY_DATASETS[0].mixture;
    // The probability-flow ODE transports the marginal: d/dt log p_t(x) = -div v - v . grad log p_t.
    const x = 0.3;
    const y = -0.2;
    const t = 0.6;
    const dt = 1e-5;
    const logP = (tt: number, xx: number, yy: number) => logDensity(noisedMixture(gm, flowCoefficients(tt)), xx, yy);
    const dLogPdt = (logP(t + dt, x, y) - logP(t - dt, x, y)) / (2 * dt);
    const v = (xx: number, yy: number) => exactVelocity(gm, t, [xx, yy]);
    const div = (v(x + H, y)[0] - v(x - H, y)[0]) / (2 * H) + (v(x, y + H)[1] - v(x, y - H)[1]) / (2 * H);
    const s = score(noisedMixture(gm, flowCoefficients(t)), [x, y]);
    const here = v(x, y);
    expect(dLogPdt).toBeCloseTo(-div - (here[0] * s[0] + here[1] * s[1]), 4);
  });

  it('Euler with many steps carries N(0, I) onto a single Gaussian', () => {
    const gm = gaussianMixture([{ mean: [1, -0.5], std: 0.3 }]);
    const start = noiseParticles(4000, createGenerator(1));
    const sigmas = Array.from({ length: 201 }, (_, i) => 1 - i / 200);
    sigmas[200] = 0;
    // The field is singular at t = 0; Euler only evaluates it at t > 0.
    const frames = eulerFlow(exactVelocityField(gm), start, sigmas);
    const { mean, variance } = meanAndVariance(frames[frames.length - 1]);
    expect(mean[0]).toBeCloseTo(1, 1);
    expect(mean[1]).toBeCloseTo(-0.5, 1);
    expect(Math.sqrt(variance[0])).toBeCloseTo(0.3, 1);
  });

  it('towards one data point, flow paths are straight lines and DDIM paths are arcs', () => {
    // x_t = (1 - t) mu + t eps is a segment; sqrt(alphabar) mu + sqrt(1 - alphabar) eps is a quarter ellipse.
    const gm = gaussianMixture([{ mean: [1.5, 0], std: 0.01 }]);
    const start = noiseParticles(200, createGenerator(2));
    const sigmas = Array.from({ length: 51 }, (_, i) => 1 - i / 50);
    const flow = pathStraightness(eulerFlow(exactVelocityField(gm), start, sigmas));
    const ac = alphasCumprod(betaSchedule('linear', 1000, 1e-4, 0.02));
    const ddim = new DDIMScheduler({ clipSample: false, timestepSpacing: 'trailing' });
    ddim.setTimesteps(50);
    const vp = pathStraightness(sampleParticles(ddim, exactEpsilonField(gm, ac), start).frames);
    expect(flow).toBeGreaterThan(0.999);
    expect(vp).toBeLessThan(flow - 0.02);
  });
});

describe('2-D samplers on the library schedulers', () => {
  const ac = alphasCumprod(betaSchedule('linear', 1000, 1e-4, 0.02));
  const gm = gaussianMixture([{ mean: [-0.8, 0.6], std: 0.25 }]);

  it('DDIM (probability-flow ODE) and DDPM both reach the data distribution from the same noise', () => {
    const start = noiseParticles(3000, createGenerator(3));
    const ddim = new DDIMScheduler({ clipSample: false, timestepSpacing: 'trailing' });
    ddim.setTimesteps(100);
    const ddpm = new DDPMScheduler({ clipSample: false, timestepSpacing: 'trailing' });
    ddpm.setTimesteps(100);
    const field = exactEpsilonField(gm, ac);
    for (const run of [
      sampleParticles(ddim, field, start),
      sampleParticles(ddpm, field, start, { generator: createGenerator(4) }),
    ]) {
      const { mean, variance } = meanAndVariance(run.frames[run.frames.length - 1]);
      expect(run.frames).toHaveLength(101);
      expect(mean[0]).toBeCloseTo(-0.8, 1);
      expect(mean[1]).toBeCloseTo(0.6, 1);
      expect(Math.sqrt(variance[0])).toBeGreaterThan(0.18);
      expect(Math.sqrt(variance[0])).toBeLessThan(0.32);
    }
  });

  it('guidance at w = 1 is the conditional field; large w pushes samples past the class', () => {
    const data = TOY_DATASETS[0].mixture;
    expect(mixtureClasses(data)).toEqual([0, 1, 2]);
    const cond = exactEpsilonField(classMixture(data, 2), ac);
    const uncond = exactEpsilonField(data, ac);
    const pts = Float32Array.from([0.1, 0.2, -1, 1]);
    expect([...guidedEpsilonField(uncond, cond, 1)(pts, 500)]).toEqual([...cond(pts, 500)]);
    const start = noiseParticles(500, createGenerator(5));
    const run = (w: number) => {
      const s = new DDIMScheduler({ clipSample: false, timestepSpacing: 'trailing' });
      s.setTimesteps(50);
      return meanAndVariance(sampleParticles(s, guidedEpsilonField(uncond, cond, w), start).frames[50]);
    };
    const plain = run(1);
    const strong = run(8);
    expect(plain.mean[0]).toBeCloseTo(1.3, 0);
    // Guidance extrapolates away from the other classes: further right, and narrower.
    expect(strong.mean[0]).toBeGreaterThan(plain.mean[0] + 0.1);
    expect(strong.variance[0]).toBeLessThan(plain.variance[0]);
  });

  it('sampleMixture follows the weights; mixtureFromPoints puts one component on each point', () => {
    const gm = gaussianMixture([
      { mean: [-5, 0], std: 0.1, weight: 3 },
      { mean: [5, 0], std: 0.1, weight: 1 },
    ]);
    const pts = sampleMixture(gm, 4000, createGenerator(6));
    let left = 0;
    for (let i = 0; i < pts.length; i += 2) if (pts[i] < 0) left++;
    expect(left / 4000).toBeCloseTo(0.75, 1);
    const drawn = mixtureFromPoints([0, 0, 1, 1, 2, 2], 0.1);
    expect(drawn.stds).toHaveLength(3);
    expect(Array.from(drawn.weights).reduce((a, b) => a + b)).toBeCloseTo(1, 12);
  });
});
