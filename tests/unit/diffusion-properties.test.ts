/**
 * Property tests of src/lib/diffusion: identities that must hold whatever the reference table
 * holds (round trips, closed forms, perfect-model steps, determinism of the generator).
 *
 * Tolerances are stated per check; "close" means |a - b| <= tol * max(1, |b|) element-wise.
 */
import { describe, expect, it } from 'vitest';
import {
  DDIMScheduler,
  DDPMScheduler,
  DPMSolverMultistepScheduler,
  EulerDiscreteScheduler,
  Generator,
  alphasCumprod,
  betaSchedule,
  classifierFreeGuidance,
  concatBatch,
  createGenerator,
  dynamicThreshold,
  get2dSincosPosEmbed,
  mapTensor,
  patchify,
  randnTensor,
  rescaleNoiseCfg,
  rescaleZeroTerminalSnr,
  sliceBatch,
  snr,
  splitChannels,
  tensor,
  timestepEmbedding,
  unpatchify,
  zipTensors,
  type BetaScheduleName,
  type PredictionType,
  type Tensor,
  type TimestepSpacing,
} from '../../src/lib/diffusion/index';

const SCHEDULES: BetaScheduleName[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'sigmoid'];
const SPACINGS: TimestepSpacing[] = ['leading', 'trailing', 'linspace'];
const PREDICTIONS: PredictionType[] = ['epsilon', 'sample', 'v_prediction'];

function maxScaledError(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let worst = 0;
  for (let i = 0; i < b.data.length; i++) {
    worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]) / Math.max(1, Math.abs(b.data[i])));
  }
  return worst;
}

function expectClose(a: Tensor, b: Tensor, tolerance: number): void {
  expect(maxScaledError(a, b)).toBeLessThanOrEqual(tolerance);
}

function std(values: ArrayLike<number>): number {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i] / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  return Math.sqrt(ss / (n - 1));
}

/** A deterministic "clean image" in [-0.9, 0.9] and its noise, [2, 4, 8, 8]. */
function cleanAndNoise(seed = 7): { x0: Tensor; eps: Tensor } {
  const g = createGenerator(seed);
  const x0 = mapTensor(g.randn([2, 4, 8, 8]), (v) => 0.9 * Math.tanh(v));
  return { x0, eps: g.randn([2, 4, 8, 8]) };
}

describe('tensor helpers', () => {
  it('concatBatch and sliceBatch invert each other', () => {
    const g = createGenerator(1);
    const a = g.randn([1, 3, 2, 2]);
    const b = g.randn([2, 3, 2, 2]);
    const ab = concatBatch([a, b]);
    expect(ab.shape).toEqual([3, 3, 2, 2]);
    expect(sliceBatch(ab, 0)).toEqual(a);
    expect(sliceBatch(ab, 1, 3)).toEqual(b);
  });

  it('splitChannels splits dim 1 like torch.split', () => {
    const t = tensor(
      Array.from({ length: 2 * 4 * 3 }, (_, i) => i),
      [2, 4, 3],
    );
    const [first, second] = splitChannels(t, 1);
    expect(Array.from(first.data)).toEqual([0, 1, 2, 12, 13, 14]);
    expect(second.shape).toEqual([2, 3, 3]);
    expect(Array.from(second.data.subarray(0, 3))).toEqual([3, 4, 5]);
  });

  it('tensor() rejects data that does not fill the shape', () => {
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/cannot fill shape/);
  });
});

describe('DiT patchify / unpatchify', () => {
  it('round-trips exactly for several patch sizes and shapes', () => {
    const g = createGenerator(3);
    for (const [shape, p] of [
      [[2, 4, 8, 8], 2],
      [[1, 3, 12, 12], 4],
      [[3, 1, 6, 6], 3],
      [[1, 8, 4, 4], 1],
    ] as [number[], number][]) {
      const latent = g.randn(shape);
      const tokens = patchify(latent, p);
      expect(tokens.shape).toEqual([shape[0], (shape[2] / p) * (shape[3] / p), p * p * shape[1]]);
      expect(unpatchify(tokens, p, shape[1])).toEqual(latent);
    }
  });

  it("reads tokens in DiT's order: reshape (N, h, w, p, q, c), einsum nhwpqc -> nchpwq", () => {
    const [n, c, p, h] = [2, 3, 2, 3];
    const tokens = tensor(
      Array.from({ length: n * h * h * p * p * c }, (_, i) => i),
      [n, h * h, p * p * c],
    );
    const image = unpatchify(tokens, p, c);
    const size = h * p;
    for (let b = 0; b < n; b++)
      for (let gy = 0; gy < h; gy++)
        for (let gx = 0; gx < h; gx++)
          for (let pp = 0; pp < p; pp++)
            for (let q = 0; q < p; q++)
              for (let ch = 0; ch < c; ch++) {
                const source = ((((b * h + gy) * h + gx) * p + pp) * p + q) * c + ch; // x[n, h, w, p, q, c]
                const target = ((b * c + ch) * size + gy * p + pp) * size + gx * p + q; // imgs[n, c, h*p, w*p]
                expect(image.data[target]).toBe(source);
              }
  });

  it('rejects shapes that do not tile', () => {
    expect(() => patchify(tensor(new Float32Array(2 * 5 * 5), [1, 2, 5, 5]), 2)).toThrow(/divisible/);
    expect(() => unpatchify(tensor(new Float32Array(3 * 4), [1, 3, 4]), 2, 1)).toThrow(/square/);
  });
});

describe('DiT embeddings', () => {
  it('2-D position embedding: first half encodes the column, second half the row', () => {
    const [dim, grid] = [8, 3];
    const embed = get2dSincosPosEmbed(dim, grid);
    expect(embed.shape).toEqual([grid * grid, dim]);
    const omega = [1, 1 / 100]; // 1 / 10000^(k / 2), k = 0, 1 for the 4-wide halves
    for (let h = 0; h < grid; h++)
      for (let w = 0; w < grid; w++) {
        const row = Array.from(embed.data.subarray((h * grid + w) * dim, (h * grid + w + 1) * dim));
        const expected = [w, h].flatMap((pos) => [
          ...omega.map((o) => Math.sin(pos * o)),
          ...omega.map((o) => Math.cos(pos * o)),
        ]);
        row.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
      }
  });

  it('timestep embedding: cos then sin, zero-padded for odd dims, scalar t accepted', () => {
    const even = timestepEmbedding([0], 6);
    expect(Array.from(even.data)).toEqual([1, 1, 1, 0, 0, 0]);
    const odd = timestepEmbedding(3, 7);
    expect(odd.shape).toEqual([1, 7]);
    expect(odd.data[6]).toBe(0);
    expect(odd.data[0]).toBeCloseTo(Math.cos(3), 6);
    expect(odd.data[3]).toBeCloseTo(Math.sin(3), 6);
  });
});

describe('seeded Generator', () => {
  it('matches the reference C code of SplitMix64-seeded xoshiro128**', () => {
    // Printed by Blackman & Vigna's xoshiro128starstar.c, state = two splitmix64.c outputs (low, high words).
    const expected: Record<number, number[]> = {
      0: [3737715805, 2584255861, 2876756834, 3286328325, 1553311962, 1625202774],
      42: [1776835114, 4165204688, 17111135, 2317295270, 2792088233, 2554630222],
      123456789: [1346704765, 2882174560, 1840973710, 4030037534, 3644170367, 605829230],
    };
    for (const [seed, values] of Object.entries(expected)) {
      const g = createGenerator(Number(seed));
      expect(values.map(() => g.nextUint32())).toEqual(values);
    }
  });

  it('pins the first normals of seed 0 (a change here changes every figure on the site)', () => {
    const first = Array.from(createGenerator(0).randn([6]).data);
    expect(first).toEqual(
      [
        -1.6222723722457886, 0.14156554639339447, -0.6841331124305725, -1.0653704404830933, -1.201858401298523,
        0.4228433668613434,
      ].map(Math.fround),
    );
  });

  it('is deterministic: same seed, same stream; different seeds differ', () => {
    expect(createGenerator(5).randn([100])).toEqual(createGenerator(5).randn([100]));
    expect(createGenerator(5).randn([100])).not.toEqual(createGenerator(6).randn([100]));
    const g = createGenerator(9);
    g.randn([10]);
    const copy = g.clone();
    expect(copy.randn([20])).toEqual(g.randn([20]));
  });

  it('draws uniforms in [0, 1) and standard normals (moments within 4 standard errors)', () => {
    const g = createGenerator(11);
    const n = 200_000;
    for (let i = 0; i < 1000; i++) {
      const u = g.random();
      expect(u >= 0 && u < 1).toBe(true);
    }
    const z = g.randn([n]).data;
    let mean = 0;
    for (const v of z) mean += v / n;
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(std(z) - 1)).toBeLessThan(4 / Math.sqrt(2 * n));
  });

  it('randnTensor with one generator per batch element, like diffusers', () => {
    const batch = randnTensor([2, 3, 4], [createGenerator(1), createGenerator(2)]);
    expect(sliceBatch(batch, 0).data).toEqual(createGenerator(1).randn([1, 3, 4]).data);
    expect(sliceBatch(batch, 1).data).toEqual(createGenerator(2).randn([1, 3, 4]).data);
    expect(randnTensor([2, 2], createGenerator(4))).toEqual(createGenerator(4).randn([2, 2]));
    expect(() => randnTensor([3, 2], [createGenerator(1)])).toThrow(/generators/);
    expect(() => new Generator(1.5)).toThrow(/integer/);
  });
});

describe('beta schedules', () => {
  for (const name of SCHEDULES) {
    it(`${name}: betas in (0, 1), alpha_bar decreasing, zero-SNR rescale ends at SNR 0`, () => {
      const betas = betaSchedule(name);
      expect(betas.length).toBe(1000);
      expect(betas.every((b) => b > 0 && b < 1)).toBe(true);
      const ac = alphasCumprod(betas);
      expect(ac.every((a, i) => i === 0 || a < ac[i - 1])).toBe(true);

      const rescaled = rescaleZeroTerminalSnr(betas);
      const rescaledAc = alphasCumprod(rescaled);
      const rescaledSnr = snr(rescaledAc);
      expect(rescaled[999]).toBe(1);
      expect(rescaledAc[999]).toBe(0);
      expect(rescaledSnr[999]).toBe(0);
      // The first alpha_bar is kept (up to float32 rounding).
      expect(Math.abs(rescaledAc[0] - ac[0])).toBeLessThan(1e-6);
    });
  }

  it('snr is alpha_bar / (1 - alpha_bar)', () => {
    expect(Array.from(snr([0.5, 0.8, 0]))).toEqual([1, Math.fround(0.8 / 0.2), 0]);
  });
});

describe('guidance', () => {
  const g = createGenerator(21);
  const uncond = g.randn([2, 4, 8, 8]);
  const cond = g.randn([2, 4, 8, 8]);

  it('classifier-free guidance: scale 1 is cond, scale 0 is uncond', () => {
    expect(classifierFreeGuidance(uncond, cond, 1)).toEqual(cond);
    expect(classifierFreeGuidance(uncond, cond, 0)).toEqual(uncond);
  });

  it('rescaleNoiseCfg: rescale 0 is identity, rescale 1 matches the std of cond per batch element', () => {
    const guided = classifierFreeGuidance(uncond, cond, 7.5);
    expect(rescaleNoiseCfg(guided, cond, 0)).toEqual(guided);
    const rescaled = rescaleNoiseCfg(guided, cond, 1);
    for (const n of [0, 1]) {
      expect(std(sliceBatch(rescaled, n).data)).toBeCloseTo(std(sliceBatch(cond, n).data), 5);
    }
  });

  it('dynamic thresholding: identity inside [-1, 1], output bounded by 1', () => {
    const inside = mapTensor(uncond, (v) => 0.99 * Math.tanh(v));
    expect(dynamicThreshold(inside, 0.995, 1.5)).toEqual(inside);
    const large = mapTensor(uncond, (v) => 3 * v);
    const out = dynamicThreshold(large, 0.9, 10);
    expect(out.data.every((v) => Math.abs(v) <= 1)).toBe(true);
    // With a large enough max value each batch element reaches exactly +-1 at its quantile.
    expect(Math.max(...Array.from(sliceBatch(out, 0).data, Math.abs))).toBe(1);
  });
});

describe('schedulers: defaults and errors', () => {
  it("uses each class's own diffusers defaults", () => {
    expect(new DDPMScheduler().config.timestepSpacing).toBe('leading');
    expect(new DDIMScheduler().config.setAlphaToOne).toBe(true);
    expect(new EulerDiscreteScheduler().config.timestepSpacing).toBe('linspace');
    expect(new DPMSolverMultistepScheduler().config).toMatchObject({
      solverOrder: 2,
      algorithmType: 'dpmsolver++',
      solverType: 'midpoint',
      lowerOrderFinal: true,
      timestepSpacing: 'linspace',
    });
    expect(Object.isFrozen(new DDPMScheduler().config)).toBe(true);
    expect(new DDPMScheduler({ betaSchedule: undefined }).config.betaSchedule).toBe('linear');
  });

  it('explains missing setTimesteps and missing randomness', () => {
    const sample = cleanAndNoise().x0;
    expect(() => new DDIMScheduler().step(sample, 10, sample)).toThrow(/setTimesteps/);
    expect(() => new DPMSolverMultistepScheduler().step(sample, 10, sample)).toThrow(/setTimesteps/);
    const ddpm = new DDPMScheduler();
    ddpm.setTimesteps(10);
    expect(() => ddpm.step(sample, ddpm.timesteps[0], sample)).toThrow(/generator/);
    const ddim = new DDIMScheduler();
    ddim.setTimesteps(10);
    expect(() => ddim.step(sample, ddim.timesteps[0], sample, { eta: 1 })).toThrow(/generator/);
  });

  it('rounds linspace timesteps half to even, like numpy', () => {
    const linspaced = new DDPMScheduler({ timestepSpacing: 'linspace' });
    linspaced.setTimesteps(25);
    expect(linspaced.timesteps).toContain(166); // 4 * 999 / 24 = 166.5
  });
});

describe('addNoise closed forms', () => {
  const { x0, eps } = cleanAndNoise();

  it('DDPM/DDIM: sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps with one t per batch element', () => {
    for (const scheduler of [
      new DDPMScheduler({ betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012 }),
      new DDIMScheduler(),
    ]) {
      const timesteps = [10, 900];
      const noisy = scheduler.addNoise(x0, eps, timesteps);
      timesteps.forEach((t, n) => {
        const a = scheduler.alphasCumprod[t];
        const expected = zipTensors(
          sliceBatch(x0, n),
          sliceBatch(eps, n),
          (x, e) => Math.sqrt(a) * x + Math.sqrt(1 - a) * e,
        );
        expectClose(sliceBatch(noisy, n), expected, 1e-6);
      });
      // A single timestep broadcasts over the batch.
      expect(scheduler.addNoise(x0, eps, 500)).toEqual(scheduler.addNoise(x0, eps, [500, 500]));
      // The v-target is consistent: sqrt(a) x_t - sqrt(1-a) v = x0.
      const v = scheduler.getVelocity(x0, eps, 500);
      const xt = scheduler.addNoise(x0, eps, 500);
      const a = scheduler.alphasCumprod[500];
      expectClose(
        zipTensors(xt, v, (x, vi) => Math.sqrt(a) * x - Math.sqrt(1 - a) * vi),
        x0,
        1e-5,
      );
    }
  });

  it('Euler: x0 + sigma eps; DPM-Solver: alpha_t x0 + sigma_t eps', () => {
    const euler = new EulerDiscreteScheduler();
    euler.setTimesteps(20);
    const t = euler.timesteps[5];
    const sigma = euler.sigmas[5];
    expectClose(
      euler.addNoise(x0, eps, t),
      zipTensors(x0, eps, (x, e) => x + sigma * e),
      1e-6,
    );

    const dpm = new DPMSolverMultistepScheduler();
    dpm.setTimesteps(20);
    const s = dpm.sigmas[5];
    const alpha = 1 / Math.sqrt(s * s + 1);
    expectClose(
      dpm.addNoise(x0, eps, dpm.timesteps[5]),
      zipTensors(x0, eps, (x, e) => alpha * x + s * alpha * e),
      1e-6,
    );
  });
});

/** The exact model output for x_t built from (x0, eps) at alpha_bar = a: eps, x0 or v. */
function perfectPrediction(type: PredictionType, x0: Tensor, eps: Tensor, a: number): Tensor {
  if (type === 'epsilon') return eps;
  if (type === 'sample') return x0;
  return zipTensors(x0, eps, (x, e) => Math.sqrt(a) * e - Math.sqrt(1 - a) * x);
}

describe('DDIM with a perfect model lands exactly on q(x_{t-1} | x0, eps)', () => {
  const { x0, eps } = cleanAndNoise();
  for (const betaScheduleName of SCHEDULES)
    for (const timestepSpacing of SPACINGS)
      for (const predictionType of PREDICTIONS) {
        it(`${betaScheduleName}, ${timestepSpacing}, ${predictionType}`, () => {
          const scheduler = new DDIMScheduler({
            betaSchedule: betaScheduleName,
            timestepSpacing,
            predictionType,
            clipSample: false,
          });
          scheduler.setTimesteps(13);
          const stepRatio = Math.floor(1000 / 13);
          for (const t of scheduler.timesteps.slice(0, 4)) {
            const a = scheduler.alphasCumprod[t];
            const xt = scheduler.addNoise(x0, eps, t);
            const out = scheduler.step(perfectPrediction(predictionType, x0, eps, a), t, xt);
            // x0 is recovered by dividing by sqrt(alpha_bar), which amplifies float32 rounding (~1e-7) at
            // high t; the cosine schedule reaches alpha_bar ~ 1e-8 at t = 999.
            const tolerance = Math.max(1e-5, 1e-6 / Math.sqrt(a));
            expectClose(out.predOriginalSample, x0, tolerance);
            const prevT = t - stepRatio;
            const expected = prevT >= 0 ? scheduler.addNoise(x0, eps, prevT) : x0;
            expectClose(out.prevSample, expected, tolerance);
          }
        });
      }

  it('eta > 0 adds std_dev_t * noise, from varianceNoise or a generator', () => {
    const scheduler = new DDIMScheduler({ clipSample: false });
    scheduler.setTimesteps(10);
    const t = scheduler.timesteps[2];
    const xt = scheduler.addNoise(x0, eps, t);
    const deterministic = scheduler.step(eps, t, xt, { eta: 0 }).prevSample;
    const z = createGenerator(99).randn(x0.shape);
    const noisy = scheduler.step(eps, t, xt, { eta: 0.7, varianceNoise: z }).prevSample;
    const fromGenerator = scheduler.step(eps, t, xt, { eta: 0.7, generator: createGenerator(99) }).prevSample;
    expect(fromGenerator).toEqual(noisy);
    // sigma_t(eta) from DDIM eq. 16, and the direction term shrinks to keep the marginal.
    const a = scheduler.alphasCumprod[t];
    const aPrev = scheduler.alphasCumprod[t - 100];
    const sigma = 0.7 * Math.sqrt(((1 - aPrev) / (1 - a)) * (1 - a / aPrev));
    const expected = zipTensors(
      zipTensors(x0, eps, (x, e) => Math.sqrt(aPrev) * x + Math.sqrt(1 - aPrev - sigma * sigma) * e),
      z,
      (m, zi) => m + sigma * zi,
    );
    expectClose(noisy, expected, 1e-5);
    expect(maxScaledError(noisy, deterministic)).toBeGreaterThan(1e-3);
  });

  it('clips x0, and useClippedModelOutput re-derives eps from the clipped x0', () => {
    const scheduler = new DDIMScheduler({ clipSample: true, clipSampleRange: 0.5 });
    scheduler.setTimesteps(10);
    const t = scheduler.timesteps[3];
    const xt = scheduler.addNoise(x0, eps, t);
    const plain = scheduler.step(eps, t, xt);
    expect(plain.predOriginalSample.data.every((v) => Math.abs(v) <= 0.5)).toBe(true);
    const clippedEps = scheduler.step(eps, t, xt, { useClippedModelOutput: true });
    // With eps re-derived, x_t is exactly a mix of the clipped x0 and that eps, so one DDIM step
    // from x_t equals q(x_{t-1}) built from (clipped x0, derived eps).
    const a = scheduler.alphasCumprod[t];
    const aPrev = scheduler.alphasCumprod[t - 100];
    const derivedEps = zipTensors(xt, plain.predOriginalSample, (x, c) => (x - Math.sqrt(a) * c) / Math.sqrt(1 - a));
    const expected = zipTensors(
      plain.predOriginalSample,
      derivedEps,
      (c, e) => Math.sqrt(aPrev) * c + Math.sqrt(1 - aPrev) * e,
    );
    expectClose(clippedEps.prevSample, expected, 1e-5);
    expect(maxScaledError(clippedEps.prevSample, plain.prevSample)).toBeGreaterThan(1e-3);
  });
});

describe('DDPM', () => {
  const { x0, eps } = cleanAndNoise();

  for (const predictionType of PREDICTIONS)
    for (const betaScheduleName of SCHEDULES) {
      it(`posterior mean with a perfect ${predictionType} model (${betaScheduleName}, DDPM eq. 7)`, () => {
        const scheduler = new DDPMScheduler({ betaSchedule: betaScheduleName, predictionType, clipSample: false });
        scheduler.setTimesteps(20);
        const [t, prevT] = scheduler.timesteps.slice(4, 6);
        const a = scheduler.alphasCumprod[t];
        const aPrev = scheduler.alphasCumprod[prevT];
        const xt = scheduler.addNoise(x0, eps, t);
        const zero = tensor(new Float32Array(x0.data.length), x0.shape);
        const out = scheduler.step(perfectPrediction(predictionType, x0, eps, a), t, xt, { varianceNoise: zero });
        const beta = 1 - a / aPrev;
        const mean = zipTensors(
          x0,
          xt,
          (x, y) => ((Math.sqrt(aPrev) * beta) / (1 - a)) * x + ((Math.sqrt(1 - beta) * (1 - aPrev)) / (1 - a)) * y,
        );
        expectClose(out.predOriginalSample, x0, 1e-4);
        expectClose(out.prevSample, mean, 1e-4);
      });
    }

  it('adds sqrt(beta~_t) noise, drawn from the generator, and none at t = 0', () => {
    const scheduler = new DDPMScheduler({ clipSample: false });
    scheduler.setTimesteps(10);
    const t = scheduler.timesteps[1];
    const xt = scheduler.addNoise(x0, eps, t);
    const zero = tensor(new Float32Array(x0.data.length), x0.shape);
    const mean = scheduler.step(eps, t, xt, { varianceNoise: zero }).prevSample;
    const z = createGenerator(3).randn(x0.shape);
    const noisy = scheduler.step(eps, t, xt, { generator: createGenerator(3) }).prevSample;
    const prevT = scheduler.timesteps[2];
    const a = scheduler.alphasCumprod[t];
    const aPrev = scheduler.alphasCumprod[prevT];
    const posteriorStd = Math.sqrt(((1 - aPrev) / (1 - a)) * (1 - a / aPrev));
    expectClose(
      noisy,
      zipTensors(mean, z, (m, zi) => m + posteriorStd * zi),
      1e-5,
    );
    // The last step needs no randomness.
    expect(() => scheduler.step(eps, 0, xt)).not.toThrow();
  });

  it('variance types: learned_range spans fixed_small (v = -1) to fixed_large (v = +1)', () => {
    const t = 500;
    const xt = cleanAndNoise().x0;
    const z = createGenerator(8).randn(xt.shape);
    const run = (
      varianceType: 'fixed_small' | 'fixed_large' | 'fixed_small_log' | 'fixed_large_log' | 'learned_range' | 'learned',
      v?: number,
    ) => {
      const scheduler = new DDPMScheduler({ varianceType, clipSample: false });
      const output =
        v === undefined
          ? eps
          : concatChannels(
              eps,
              mapTensor(eps, () => v),
            );
      return scheduler.step(output, t, xt, { varianceNoise: z }).prevSample;
    };
    expectClose(run('learned_range', -1), run('fixed_small'), 1e-5);
    expectClose(run('learned_range', 1), run('fixed_large'), 1e-5);
    expectClose(run('fixed_small_log'), run('fixed_small'), 1e-5);
    expectClose(run('fixed_large_log'), run('fixed_large'), 1e-5);
    const scheduler = new DDPMScheduler();
    const beta = 1 - scheduler.alphasCumprod[t] / scheduler.alphasCumprod[t - 1];
    expectClose(run('learned', beta), run('fixed_large'), 1e-5);
    expect(() => new DDPMScheduler({ varianceType: 'learned' }).step(eps, t, xt, { varianceNoise: z })).toThrow(
      /channels/,
    );
  });

  it('dynamic thresholding inside step() equals dynamicThreshold on the raw x0', () => {
    const scheduler = new DDPMScheduler({ thresholding: true, sampleMaxValue: 2, dynamicThresholdingRatio: 0.9 });
    const raw = new DDPMScheduler({ clipSample: false });
    const t = 800;
    const xt = mapTensor(cleanAndNoise().eps, (v) => 2 * v);
    const zero = tensor(new Float32Array(xt.data.length), xt.shape);
    const thresholded = scheduler.step(eps, t, xt, { varianceNoise: zero }).predOriginalSample;
    const expected = dynamicThreshold(raw.step(eps, t, xt, { varianceNoise: zero }).predOriginalSample, 0.9, 2);
    expect(thresholded).toEqual(expected);
  });
});

/** Concatenates along dim 1 (channels), for models that output prediction and variance. */
function concatChannels(a: Tensor, b: Tensor): Tensor {
  const [n, c, ...rest] = a.shape;
  const plane = rest.reduce((p, d) => p * d, 1);
  const out = new Float32Array(a.data.length * 2);
  for (let i = 0; i < n; i++) {
    out.set(a.data.subarray(i * c * plane, (i + 1) * c * plane), 2 * i * c * plane);
    out.set(b.data.subarray(i * c * plane, (i + 1) * c * plane), (2 * i + 1) * c * plane);
  }
  return tensor(out, [n, 2 * c, ...rest]);
}

describe('Euler with a perfect model moves exactly to x0 + sigma_{i+1} eps', () => {
  const { x0, eps } = cleanAndNoise();
  for (const timestepSpacing of SPACINGS)
    for (const predictionType of PREDICTIONS)
      for (const useKarrasSigmas of [false, true]) {
        it(`${timestepSpacing}, ${predictionType}${useKarrasSigmas ? ', Karras sigmas' : ''}`, () => {
          const scheduler = new EulerDiscreteScheduler({
            timestepSpacing,
            predictionType,
            useKarrasSigmas,
            betaSchedule: 'scaled_linear',
            betaStart: 0.00085,
            betaEnd: 0.012,
          });
          scheduler.setTimesteps(15);
          let sample = zipTensors(x0, eps, (x, e) => x + scheduler.sigmas[0] * e);
          const initial = scheduler.initNoiseSigma;
          expect(initial).toBeGreaterThanOrEqual(scheduler.sigmas[0]);
          for (let i = 0; i < 5; i++) {
            const t = scheduler.timesteps[i];
            const sigma = scheduler.sigmas[i];
            const scaled = scheduler.scaleModelInput(sample, t);
            expectClose(
              scaled,
              mapTensor(sample, (v) => v / Math.sqrt(sigma * sigma + 1)),
              1e-6,
            );
            // In Euler's scaling x = x0 + sigma eps, alpha_bar = 1 / (1 + sigma^2).
            const model = perfectPrediction(predictionType, x0, eps, 1 / (1 + sigma * sigma));
            const out = scheduler.step(model, t, sample);
            expectClose(out.predOriginalSample, x0, 1e-4);
            expectClose(
              out.prevSample,
              zipTensors(x0, eps, (x, e) => x + scheduler.sigmas[i + 1] * e),
              1e-4,
            );
            sample = out.prevSample;
          }
          expect(scheduler.stepIndex).toBe(5);
        });
      }

  it('churn (sChurn > 0) needs randomness and uses it', () => {
    const scheduler = new EulerDiscreteScheduler();
    scheduler.setTimesteps(10);
    const t = scheduler.timesteps[0];
    const sample = zipTensors(x0, eps, (x, e) => x + scheduler.sigmas[0] * e);
    expect(() => scheduler.step(eps, t, sample, { sChurn: 1 })).toThrow(/generator/);
    const a = new EulerDiscreteScheduler();
    a.setTimesteps(10);
    const b = new EulerDiscreteScheduler();
    b.setTimesteps(10);
    const z = createGenerator(4).randn(x0.shape);
    expect(a.step(eps, t, sample, { sChurn: 1, varianceNoise: z })).toEqual(
      b.step(eps, t, sample, { sChurn: 1, generator: createGenerator(4) }),
    );
  });
});

describe('DPM-Solver++ with a perfect model is exact at every order', () => {
  const { x0, eps } = cleanAndNoise();
  const cases: [1 | 2 | 3, 'midpoint' | 'heun', number][] = [
    [1, 'midpoint', 8],
    [2, 'midpoint', 8],
    [2, 'heun', 20],
    [3, 'midpoint', 20],
    [3, 'heun', 10],
  ];
  for (const [solverOrder, solverType, steps] of cases)
    for (const predictionType of PREDICTIONS) {
      it(`order ${solverOrder} ${solverType}, ${steps} steps, ${predictionType}`, () => {
        const scheduler = new DPMSolverMultistepScheduler({
          solverOrder,
          solverType,
          predictionType,
          betaSchedule: 'scaled_linear',
          betaStart: 0.00085,
          betaEnd: 0.012,
        });
        scheduler.setTimesteps(steps);
        const vp = (sigma: number) => ({
          alpha: 1 / Math.sqrt(1 + sigma * sigma),
          sigma: sigma / Math.sqrt(1 + sigma * sigma),
        });
        const noisyAt = (i: number) => {
          const { alpha, sigma } = vp(scheduler.sigmas[i]);
          return zipTensors(x0, eps, (x, e) => alpha * x + sigma * e);
        };
        let sample = noisyAt(0);
        scheduler.timesteps.forEach((t, i) => {
          const { alpha } = vp(scheduler.sigmas[i]);
          const out = scheduler.step(perfectPrediction(predictionType, x0, eps, alpha * alpha), t, sample);
          expectClose(out.predOriginalSample, x0, 1e-4);
          // The last step (sigma = 0) returns x0 itself.
          expectClose(out.prevSample, noisyAt(i + 1), 1e-4);
          sample = out.prevSample;
        });
        expect(scheduler.lowerOrderNums).toBe(solverOrder);
      });
    }

  it('converges at its order on Gaussian data, where the exact ODE solution is known', () => {
    // x0 ~ N(0, s2): E[x0 | x_t] = alpha s2 / (alpha^2 s2 + sigma^2) x_t, and the probability-flow ODE
    // scales x_t by sqrt((alpha'^2 s2 + sigma'^2) / (alpha^2 s2 + sigma^2)). A perfect constant x0
    // hides the multistep terms; this does not. We stop at t = 500 (step n/2 for every n), away
    // from the stiff end of the schedule, and look at how the error falls as n doubles.
    const s2 = 0.25;
    const vp = (sigma: number) => ({
      alpha: 1 / Math.sqrt(1 + sigma * sigma),
      sigma: sigma / Math.sqrt(1 + sigma * sigma),
    });
    const errorAfterHalf = (solverOrder: 1 | 2 | 3, solverType: 'midpoint' | 'heun', n: number): number => {
      const scheduler = new DPMSolverMultistepScheduler({
        solverOrder,
        solverType,
        predictionType: 'epsilon',
        betaSchedule: 'scaled_linear',
        betaStart: 0.00085,
        betaEnd: 0.012,
      });
      scheduler.setTimesteps(n);
      let x = tensor([1], [1, 1]);
      for (let i = 0; i < n / 2; i++) {
        const { alpha, sigma } = vp(scheduler.sigmas[i]);
        const x0 = ((alpha * s2) / (alpha * alpha * s2 + sigma * sigma)) * x.data[0];
        x = scheduler.step(tensor([(x.data[0] - alpha * x0) / sigma], [1, 1]), scheduler.timesteps[i], x).prevSample;
      }
      expect(scheduler.timesteps[n / 2]).toBe(500);
      const start = vp(scheduler.sigmas[0]);
      const end = vp(scheduler.sigmas[n / 2]);
      const exact = Math.sqrt((end.alpha ** 2 * s2 + end.sigma ** 2) / (start.alpha ** 2 * s2 + start.sigma ** 2));
      return Math.abs(x.data[0] - exact) / exact;
    };
    const errors = (order: 1 | 2 | 3, type: 'midpoint' | 'heun') =>
      [32, 64, 128].map((n) => errorAfterHalf(order, type, n));
    const ratios = (e: number[]) => e.slice(1).map((v, i) => v / e[i]);

    for (const r of ratios(errors(1, 'midpoint'))) expect(r).toBeCloseTo(0.5, 1); // first order: error ~ h
    for (const type of ['midpoint', 'heun'] as const) {
      for (const r of ratios(errors(2, type))) expect(Math.abs(r - 0.25)).toBeLessThan(0.03); // second order: ~ h^2
    }
    // Third order beats second order; its single first-order warm-up step keeps the asymptotic ratio near 1/4.
    const third = errors(3, 'midpoint');
    errors(2, 'midpoint').forEach((e2, i) => expect(third[i]).toBeLessThan(0.4 * e2));
    for (const r of ratios(third)) expect(r).toBeLessThan(0.26);
  });

  it('setTimesteps resets the multistep history, so a second run repeats the first', () => {
    const scheduler = new DPMSolverMultistepScheduler();
    const model = (x: Tensor) => mapTensor(x, (v) => 0.3 * Math.sin(3 * v));
    const run = () => {
      scheduler.setTimesteps(6);
      let sample = cleanAndNoise(2).eps;
      for (const t of scheduler.timesteps) sample = scheduler.step(model(sample), t, sample).prevSample;
      return sample;
    };
    expect(run()).toEqual(run());
  });

  it('Karras sigmas: descending, from the largest to the smallest training sigma, integer timesteps', () => {
    const scheduler = new DPMSolverMultistepScheduler({
      useKarrasSigmas: true,
      betaSchedule: 'scaled_linear',
      betaStart: 0.00085,
      betaEnd: 0.012,
    });
    scheduler.setTimesteps(12);
    const sigmas = Array.from(scheduler.sigmas);
    expect(sigmas.length).toBe(13);
    expect(sigmas.every((s, i) => i === 0 || s < sigmas[i - 1])).toBe(true);
    expect(sigmas[12]).toBe(0);
    expect(scheduler.timesteps.every(Number.isInteger)).toBe(true);
    expect(scheduler.timesteps[0]).toBe(999);
  });

  it('SDE-DPM-Solver++ draws its noise from the generator', () => {
    const make = () => {
      const s = new DPMSolverMultistepScheduler({ algorithmType: 'sde-dpmsolver++' });
      s.setTimesteps(5);
      return s;
    };
    const sample = cleanAndNoise().eps;
    const t = make().timesteps[0];
    expect(() => make().step(eps, t, sample)).toThrow(/generator/);
    const z = createGenerator(12).randn(sample.shape);
    expect(make().step(eps, t, sample, { generator: createGenerator(12) })).toEqual(
      make().step(eps, t, sample, { varianceNoise: z }),
    );
  });
});
