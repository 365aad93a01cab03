/**
 * Checks src/lib/diffusion against numbers produced by real diffusers 0.40 and DiT code
 * (tests/fixtures/diffusers-reference.json, provenance in tests/fixtures/README.md).
 *
 * Every entry of the fixture is checked, so new cases need no code here.
 *
 * Tolerance: an element a passes against the reference b when
 *   |a - b| <= TOLERANCE * max(1, |b|),
 * i.e. relative for values above 1 and absolute below. TOLERANCE = 1e-5 for outputs of
 * multi-operation maths (steps, guidance, embeddings); schedule tables (betas, alphas_cumprod,
 * sigmas) are held to 1e-6 relative, since they are built with float32 rounding mirrored from torch.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  DDIMScheduler,
  DDPMScheduler,
  DPMSolverMultistepScheduler,
  EulerDiscreteScheduler,
  alphasCumprod,
  betaSchedule,
  classifierFreeGuidance,
  dynamicThreshold,
  get2dSincosPosEmbed,
  rescaleNoiseCfg,
  timestepEmbedding,
  type BetaScheduleName,
  type Scheduler,
  type Tensor,
} from '../../src/lib/diffusion/index';
import { loadFixture, toTensor, type Json, type RefArray } from './reference-fixture';

const TOLERANCE = 1e-5;
const TABLE_TOLERANCE = 1e-6;

const ref = loadFixture('diffusers-reference.json');

/** Largest |a - b| / max(1, |b|); the statistic the tolerance bounds. */
function maxScaledError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
  }
  return worst;
}

/** Largest relative error |a - b| / |b| (for strictly non-zero tables such as betas). */
function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = expected[i] === 0 ? Math.abs(actual[i]) : Math.abs(actual[i] - expected[i]) / Math.abs(expected[i]);
    worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
  }
  return worst;
}

function expectClose(actual: Tensor, expected: RefArray, tolerance = TOLERANCE): number {
  expect(actual.shape).toEqual(expected.shape);
  const err = maxScaledError(actual.data, Float32Array.from(expected.values, Math.fround));
  expect(err).toBeLessThanOrEqual(tolerance);
  return err;
}

/** diffusers' snake_case constructor kwargs as our camelCase config ("-inf" is how JSON spells -infinity). */
function camelConfig(kwargs: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(kwargs)) {
    const camel = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    out[camel] = value === '-inf' ? -Infinity : value === 'inf' ? Infinity : value;
  }
  return out;
}

const schedulerClasses: Record<string, new (config: Json) => Scheduler> = {
  DDPMScheduler,
  DDIMScheduler,
  EulerDiscreteScheduler,
  DPMSolverMultistepScheduler,
};

function makeScheduler(name: string, kwargs: Json): Scheduler {
  const SchedulerClass = schedulerClasses[name];
  if (!SchedulerClass) throw new Error(`No scheduler class for ${name}`);
  return new SchedulerClass(camelConfig(kwargs));
}

/** Max errors observed per check, printed once at the end for the record. */
const observed: Record<string, number> = {};
function record(key: string, err: number): void {
  observed[key] = Math.max(observed[key] ?? 0, err);
}

describe('beta schedules match diffusers', () => {
  for (const [name, entry] of Object.entries(ref.beta_schedules as Json)) {
    it(`${name}: betas and alphas_cumprod`, () => {
      const c = entry.config;
      const betas = betaSchedule(name as BetaScheduleName, c.num_train_timesteps, c.beta_start, c.beta_end);
      const betaErr = maxRelativeError(betas, Float32Array.from(entry.betas.values, Math.fround));
      const alphaErr = maxRelativeError(
        alphasCumprod(betas),
        Float32Array.from(entry.alphas_cumprod.values, Math.fround),
      );
      record(`betas ${name}`, betaErr);
      record(`alphas_cumprod ${name}`, alphaErr);
      expect(betaErr).toBeLessThanOrEqual(TABLE_TOLERANCE);
      expect(alphaErr).toBeLessThanOrEqual(TABLE_TOLERANCE);

      const scheduler = new DDPMScheduler(camelConfig(entry.constructor_kwargs));
      expect(maxRelativeError(scheduler.betas, betas)).toBe(0);
    });
  }
});

describe('set_timesteps matches diffusers', () => {
  for (const entry of ref.set_timesteps as Json[]) {
    it(`${entry.scheduler} ${entry.spacing_variant} ${entry.num_inference_steps} steps`, () => {
      const scheduler = makeScheduler(entry.scheduler, entry.constructor_kwargs);
      scheduler.setTimesteps(entry.num_inference_steps);
      expect(scheduler.timesteps).toEqual(entry.timesteps.values.map(Math.fround));
      if (entry.sigmas) {
        const sigmas = (scheduler as EulerDiscreteScheduler).sigmas;
        const err = maxRelativeError(sigmas, Float32Array.from(entry.sigmas.values, Math.fround));
        record(`sigmas ${entry.scheduler}`, err);
        expect(err).toBeLessThanOrEqual(TABLE_TOLERANCE);
      }
      if (entry.init_noise_sigma !== undefined) {
        expect(scheduler.initNoiseSigma).toBeCloseTo(entry.init_noise_sigma, 5);
      }
    });
  }
});

describe('resolved configs equal diffusers defaults', () => {
  const runs: Json[] = [...ref.set_timesteps, ...Object.values(ref.step_checks as Json)];
  runs.forEach((run, i) => {
    it(`${run.scheduler} #${i}`, () => {
      const scheduler = makeScheduler(run.scheduler, run.constructor_kwargs) as unknown as { config: Json };
      expect(scheduler.config).toMatchObject(camelConfig(run.config));
    });
  });
});

describe('step() matches diffusers for three consecutive steps', () => {
  const inputs = ref.inputs as Json;
  for (const [name, run] of Object.entries(ref.step_checks as Json)) {
    it(name, () => {
      const scheduler = makeScheduler(run.scheduler, run.constructor_kwargs);
      scheduler.setTimesteps(run.num_inference_steps);
      expect(scheduler.timesteps).toEqual(run.all_timesteps.values.map(Math.fround));
      expect(scheduler.initNoiseSigma).toBeCloseTo(run.init_noise_sigma, 5);
      if (run.sigmas) {
        const sigmas = (scheduler as EulerDiscreteScheduler).sigmas;
        expect(maxRelativeError(sigmas, Float32Array.from(run.sigmas.values, Math.fround))).toBeLessThanOrEqual(
          TABLE_TOLERANCE,
        );
      }
      const modelOutput = toTensor(inputs.model_output);
      const stepOptions = camelConfig(run.step_kwargs);

      for (const step of run.steps as Json[]) {
        expect(scheduler.timesteps[step.step_index]).toBe(Math.fround(step.timestep));
        const sample = toTensor(step.input_sample === 'inputs.sample' ? inputs.sample : step.input_sample);
        if (step.scale_model_input_output) {
          const scaled = scheduler.scaleModelInput(sample, step.timestep);
          record(`${name} scale_model_input`, expectClose(scaled, step.scale_model_input_output));
        }
        const noise = (step.noise_drawn as RefArray[]).map(toTensor);
        expect(noise.length).toBeLessThanOrEqual(1);
        const out = scheduler.step(modelOutput, Math.fround(step.timestep), sample, {
          ...stepOptions,
          varianceNoise: noise[0],
        });
        record(`${name} prev_sample`, expectClose(out.prevSample, step.prev_sample));
        const x0 = step.pred_original_sample ?? step.converted_model_output_x0_from_scheduler_state;
        record(`${name} pred_original_sample`, expectClose(out.predOriginalSample, x0));
      }
    });
  }
});

describe('guidance and thresholding match diffusers', () => {
  it('classifier-free guidance and rescale_noise_cfg', () => {
    const c = ref.cfg_rescale;
    const noiseCfg = classifierFreeGuidance(toTensor(c.uncond), toTensor(c.cond), c.guidance_scale);
    record('cfg noise_cfg', expectClose(noiseCfg, c.noise_cfg));
    const rescaled = rescaleNoiseCfg(toTensor(c.noise_cfg), toTensor(c.cond), c.guidance_rescale);
    record('rescale_noise_cfg', expectClose(rescaled, c.output));
  });

  it('dynamic thresholding (_threshold_sample)', () => {
    const d = ref.dynamic_thresholding;
    const kwargs = d.constructor_kwargs;
    const out = dynamicThreshold(toTensor(d.input), kwargs.dynamic_thresholding_ratio, kwargs.sample_max_value);
    record('dynamic_threshold', expectClose(out, d.output));
  });
});

describe('DiT embeddings match facebookresearch/DiT', () => {
  it('get_2d_sincos_pos_embed(16, 4)', () => {
    const e = ref.dit.get_2d_sincos_pos_embed;
    record('pos_embed', expectClose(get2dSincosPosEmbed(16, 4), e.output));
  });

  it('TimestepEmbedder.timestep_embedding(t, 16)', () => {
    const e = ref.dit.timestep_embedding;
    record('timestep_embedding', expectClose(timestepEmbedding(e.t.values, 16), e.output));
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
