/**
 * Checks FlowMatchEulerDiscreteScheduler (src/lib/diffusion/schedulers/flow-match.ts) against numbers
 * produced by the real diffusers code (tests/fixtures/flow-match-reference.json, written by
 * tests/fixtures/flow-match-reference.py; provenance in tests/fixtures/README.md), plus two
 * properties that hold whatever the fixture says.
 *
 * Every entry of the fixture is checked, so new cases need no code here.
 *
 * Tolerance: sigmas and timesteps are held to 1e-6 relative (they are built with diffusers' float32
 * rounding mirrored, so in practice they agree bit for bit); step() and scale_noise() outputs to
 * |a - b| <= 1e-6 * max(1, |b|). calculate_shift is float64 maths and is held to 1e-12.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  FlowMatchEulerDiscreteScheduler,
  calculateShift,
  createGenerator,
  randnTensor,
  sub,
  timeShift,
  type FlowMatchEulerDiscreteSchedulerConfig,
  type Tensor,
} from '../../src/lib/diffusion/index';
import { loadFixture, toTensor, type Json, type RefArray } from './reference-fixture';

const TABLE_TOLERANCE = 1e-6;
const TOLERANCE = 1e-6;

const ref = loadFixture('flow-match-reference.json');

/** Largest relative error |a - b| / |b| (absolute where b = 0). */
function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = expected[i] === 0 ? Math.abs(actual[i]) : Math.abs(actual[i] - expected[i]) / Math.abs(expected[i]);
    worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
  }
  return worst;
}

/** Largest |a - b| / max(1, |b|). */
function maxScaledError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
  }
  return worst;
}

function expectTensorClose(actual: Tensor, expected: RefArray): number {
  expect(actual.shape).toEqual(expected.shape);
  const err = maxScaledError(actual.data, expected.values.map(Math.fround));
  expect(err).toBeLessThanOrEqual(TOLERANCE);
  return err;
}

/** diffusers' snake_case kwargs as our camelCase options (Python None is JSON null). */
function camelConfig(kwargs: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(kwargs)) {
    out[key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())] = value;
  }
  return out;
}

function makeScheduler(kwargs: Json): FlowMatchEulerDiscreteScheduler {
  return new FlowMatchEulerDiscreteScheduler(camelConfig(kwargs) as Partial<FlowMatchEulerDiscreteSchedulerConfig>);
}

function makeSetScheduler(run: Json): FlowMatchEulerDiscreteScheduler {
  const scheduler = makeScheduler(run.constructor_kwargs);
  if (run.num_inference_steps !== null && run.num_inference_steps !== undefined) {
    scheduler.setTimesteps(run.num_inference_steps, run.set_timesteps_kwargs ?? {});
  }
  return scheduler;
}

/** Max errors observed per check, printed once at the end for the record. */
const observed: Record<string, number> = {};
function record(key: string, err: number): void {
  observed[key] = Math.max(observed[key] ?? 0, err);
}

function expectSchedule(scheduler: FlowMatchEulerDiscreteScheduler, entry: Json): void {
  const timestepErr = maxRelativeError(scheduler.timesteps, entry.timesteps.values.map(Math.fround));
  const sigmaErr = maxRelativeError(scheduler.sigmas, entry.sigmas.values.map(Math.fround));
  record('timesteps', timestepErr);
  record('sigmas', sigmaErr);
  expect(timestepErr).toBeLessThanOrEqual(TABLE_TOLERANCE);
  expect(sigmaErr).toBeLessThanOrEqual(TABLE_TOLERANCE);
}

describe('FlowMatchEulerDiscreteScheduler matches diffusers', () => {
  it('fixture provenance is recorded', () => {
    expect(ref.meta.diffusers_commit).toMatch(/^[0-9a-f]{40}$/);
    expect(ref.meta.diffusers_version).toBeTruthy();
  });

  it.each((ref.calculate_shift.cases as Json[]).map((c) => [c.image_seq_len, c] as const))(
    'calculate_shift(%i)',
    (_, c) => {
      const mu = calculateShift(c.image_seq_len, c.base_seq_len, c.max_seq_len, c.base_shift, c.max_shift);
      expect(Math.abs(mu - c.mu)).toBeLessThanOrEqual(1e-12);
    },
  );

  describe('__init__ (training schedule)', () => {
    for (const entry of ref.init as Json[]) {
      it(entry.name, () => {
        const scheduler = makeScheduler(entry.constructor_kwargs);
        expectSchedule(scheduler, entry);
        const ours = scheduler.config as unknown as Json;
        const theirs = camelConfig(entry.config);
        for (const key of Object.keys(ours)) expect([key, ours[key]]).toEqual([key, theirs[key]]);
      });
    }
  });

  describe('set_timesteps', () => {
    for (const entry of ref.set_timesteps as Json[]) {
      it(entry.name, () => {
        const scheduler = makeSetScheduler(entry);
        expect(scheduler.sigmas).toHaveLength(entry.num_inference_steps + 1);
        expectSchedule(scheduler, entry);
      });
    }
  });

  describe('step', () => {
    const sample = toTensor(ref.inputs.sample);
    const modelOutput = toTensor(ref.inputs.model_output);
    for (const run of ref.step as Json[]) {
      it(run.name, () => {
        const scheduler = makeSetScheduler(run);
        // The fixture's timestep is found in our schedule: the two agree bit for bit.
        expect(scheduler.timesteps[run.step_index]).toBe(Math.fround(run.timestep));
        expect(scheduler.sigmas[run.step_index]).toBe(Math.fround(run.sigma));
        expect(scheduler.sigmas[run.step_index + 1]).toBe(Math.fround(run.sigma_next));
        expect(scheduler.scaleModelInput(sample, run.timestep)).toBe(sample);
        const varianceNoise = run.noise_drawn ? toTensor(run.noise_drawn) : undefined;
        const out = scheduler.step(modelOutput, Math.fround(run.timestep), sample, { varianceNoise });
        record('step prev_sample', expectTensorClose(out.prevSample, run.prev_sample));
        record('step pred_original_sample', expectTensorClose(out.predOriginalSample, run.pred_original_sample));
      });
    }

    it('stochasticSampling without noise asks for a generator', () => {
      const scheduler = new FlowMatchEulerDiscreteScheduler({ stochasticSampling: true });
      scheduler.setTimesteps(4);
      expect(() => scheduler.step(modelOutput, scheduler.timesteps[0], sample)).toThrow(/generator/);
    });

    it('a timestep outside the schedule is a readable error', () => {
      const scheduler = new FlowMatchEulerDiscreteScheduler();
      scheduler.setTimesteps(4);
      expect(() => scheduler.step(modelOutput, 3, sample)).toThrow(/not in the schedule/);
    });
  });

  describe('scale_noise', () => {
    const sample = toTensor(ref.inputs.sample);
    const noise = toTensor(ref.inputs.noise);
    for (const run of ref.scale_noise as Json[]) {
      it(run.name, () => {
        const scheduler = makeSetScheduler(run);
        expect(scheduler.sigmas[run.step_index]).toBe(Math.fround(run.sigma));
        const out = scheduler.scaleNoise(sample, Math.fround(run.timestep), noise);
        record('scale_noise', expectTensorClose(out, run.output));
      });
    }
  });

  it('dynamic shifting without mu is a readable error', () => {
    const scheduler = new FlowMatchEulerDiscreteScheduler({ useDynamicShifting: true });
    expect(() => scheduler.setTimesteps(8)).toThrow(/mu/);
  });
});

describe('FlowMatchEulerDiscreteScheduler properties', () => {
  const configs: [string, Partial<FlowMatchEulerDiscreteSchedulerConfig>, { mu?: number }][] = [
    ['default', {}, {}],
    ['shift 3 (SD3)', { shift: 3 }, {}],
    ['dynamic mu(4096) (FLUX)', { useDynamicShifting: true }, { mu: calculateShift(4096) }],
    ['dynamic linear', { useDynamicShifting: true, timeShiftType: 'linear' }, { mu: calculateShift(1024) }],
    ['shiftTerminal 0.1', { shiftTerminal: 0.1 }, {}],
  ];

  it.each(configs)('%s: sigmas fall strictly from at most 1 to 0', (_, config, options) => {
    // shiftTerminal cannot stretch a one-step schedule (its only sigma is 1); see the next test.
    for (const steps of config.shiftTerminal ? [2, 3, 10, 28, 50, 999] : [1, 2, 3, 10, 28, 50, 999]) {
      const scheduler = new FlowMatchEulerDiscreteScheduler(config);
      scheduler.setTimesteps(steps, options);
      const { sigmas, timesteps } = scheduler;
      expect(sigmas).toHaveLength(steps + 1);
      expect(sigmas[0]).toBeLessThanOrEqual(1);
      expect(sigmas[steps]).toBe(0);
      for (let i = 0; i < steps; i++) {
        expect(sigmas[i + 1]).toBeLessThan(sigmas[i]);
        expect(timesteps[i]).toBe(Math.fround(sigmas[i] * 1000));
      }
    }
  });

  it('shiftTerminal on a one-step schedule is a readable error (diffusers returns NaN sigmas)', () => {
    const scheduler = new FlowMatchEulerDiscreteScheduler({ shiftTerminal: 0.1 });
    expect(() => scheduler.setTimesteps(1)).toThrow(/shiftTerminal/);
  });

  it('Euler with the exact velocity of a straight path lands on x0 in one step', () => {
    // x_sigma = (1 - sigma) x0 + sigma noise has constant velocity v = noise - x0, which Euler integrates exactly.
    const generator = createGenerator(7);
    const x0 = randnTensor([2, 4, 3], generator);
    const noise = randnTensor([2, 4, 3], generator);
    const velocity = sub(noise, x0);
    const scheduler = new FlowMatchEulerDiscreteScheduler();
    scheduler.setTimesteps(1);
    expect(scheduler.sigmas).toEqual([1, 0]);
    const t = scheduler.timesteps[0];
    const xT = scheduler.scaleNoise(x0, t, noise);
    expect(xT.data).toEqual(noise.data);
    const { prevSample, predOriginalSample } = scheduler.step(velocity, t, xT);
    // Exact up to the float32 rounding of noise - x0 (one ulp of |noise|).
    expect(maxScaledError(prevSample.data, x0.data)).toBeLessThanOrEqual(1e-6);
    expect(maxScaledError(predOriginalSample.data, x0.data)).toBeLessThanOrEqual(1e-6);
  });

  it('... and in every step of a shifted 28-step schedule', () => {
    const generator = createGenerator(11);
    const x0 = randnTensor([1, 2, 4, 4], generator);
    const noise = randnTensor([1, 2, 4, 4], generator);
    const velocity = sub(noise, x0);
    const scheduler = new FlowMatchEulerDiscreteScheduler({ shift: 3 });
    scheduler.setTimesteps(28);
    let x = scheduler.scaleNoise(x0, scheduler.timesteps[0], noise);
    for (const t of scheduler.timesteps) x = scheduler.step(velocity, t, x).prevSample;
    expect(maxScaledError(x.data, x0.data)).toBeLessThanOrEqual(1e-5);
  });

  it('timeShift(mu = 0) with sigma = 1 is the identity, and larger mu means more noise', () => {
    for (const t of [0.1, 0.5, 0.9]) {
      expect(timeShift(0, 1, t)).toBeCloseTo(t, 15);
      expect(timeShift(1.15, 1, t)).toBeGreaterThan(t);
    }
  });
});

afterAll(() => {
  // Printed so that a change in accuracy shows in the test log.
  console.info(
    Object.entries(observed)
      .map(([k, v]) => `max error ${k}: ${v.toExponential(2)}`)
      .join('\n'),
  );
});
