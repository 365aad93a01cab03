/**
 * What one denoising step costs: the same UNet timed on latents and on pixels (Rombach et al. 2022,
 * sec. 3: latent diffusion exists because pixel-space steps are expensive). Runs go through the
 * ModelRunner contract, so this works on onnxruntime-web and -node alike; the clock is injectable.
 */
import { createGenerator, randnTensor, type Generator, type Tensor } from '../diffusion/index';
import type { TensorSpec } from '../runtime/manifest';
import type { Int64Tensor, ModelRunner } from '../runtime/types';

/**
 * Inputs for one UNet call at batch `batch`, built from the model's manifest specs: the symbolic
 * "batch" dimension becomes `batch`, `timestep` a mid-schedule step, `time_ids` the plain
 * (32, 32, 0, 0, 32, 32) and every other float input seeded Gaussian noise. The cost of a step does
 * not depend on the values, only on the shapes, so this is a fair stand-in for a sampling step.
 */
export function unetStepFeeds(
  inputs: readonly TensorSpec[],
  batch: number,
  generator: Generator,
): Record<string, Tensor | Int64Tensor> {
  const feeds: Record<string, Tensor | Int64Tensor> = {};
  for (const spec of inputs) {
    const shape = spec.shape.map((d) => (typeof d === 'number' ? d : batch));
    const size = shape.reduce((a, b) => a * b, 1);
    if (spec.dtype === 'int64') {
      feeds[spec.name] = { data: new BigInt64Array(size), shape };
    } else if (spec.name === 'timestep') {
      feeds[spec.name] = { data: new Float32Array(size).fill(500), shape };
    } else if (spec.name === 'time_ids') {
      const row = [32, 32, 0, 0, 32, 32];
      feeds[spec.name] = { data: Float32Array.from({ length: size }, (_, i) => row[i % row.length]), shape };
    } else {
      feeds[spec.name] = randnTensor(shape, generator);
    }
  }
  return feeds;
}

export interface StepTiming {
  /** Milliseconds of each timed run, in the order they ran (warm-up excluded). */
  runsMs: number[];
  /** The warm-up run: first-call costs (kernel compilation, buffer allocation), not reported. */
  warmupMs: number;
  medianMs: number;
}

export interface StepCostOptions {
  /** Timed runs per model after the warm-up; the median is reported. */
  runs?: number;
  /** Untimed-for-the-median runs per model first. */
  warmups?: number;
  /** Both models get the same batch: 2, as classifier-free guidance runs a step. */
  batch?: number;
  seed?: number;
  now?: () => number;
  /** Called after every run, warm-ups included, e.g. to show progress. */
  onRun?: (progress: { model: string; run: number; of: number; ms: number }) => void;
  signal?: AbortSignal;
  /**
   * 'interleaved' (a, b, a, b, ...): a burst of background load hits every model alike; right for
   * comparing two models. 'consecutive' (a, a, a, b, b, b): each model's runs follow its warm-up as
   * a sampling loop's steps do, with its weights warm in the CPU caches; right for timing many models.
   */
  order?: 'interleaved' | 'consecutive';
}

/** The median (the mean of the middle two for an even count): the figure every timing in the site reports. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Times one call of each model: warm-ups first, then the timed runs, interleaved across the models
 * by default (see `order`).
 */
export async function measureStepCost(
  /** `batch` per model overrides the option's (e.g. 1 for a model that runs without guidance). */
  models: Record<string, { runner: ModelRunner; inputs: readonly TensorSpec[]; batch?: number }>,
  options: StepCostOptions = {},
): Promise<Record<string, StepTiming>> {
  const {
    runs = 5,
    warmups = 1,
    batch = 2,
    seed = 0,
    now = () => performance.now(),
    onRun,
    signal,
    order = 'interleaved',
  } = options;
  const names = Object.keys(models);
  const generator = createGenerator(seed);
  const feeds = Object.fromEntries(
    names.map((n) => [n, unetStepFeeds(models[n].inputs, models[n].batch ?? batch, generator)]),
  );
  const timed: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const warm: Record<string, number> = {};
  const total = warmups + runs;

  const once = async (name: string, run: number) => {
    signal?.throwIfAborted();
    const start = now();
    await models[name].runner.run(feeds[name], { signal });
    const ms = now() - start;
    onRun?.({ model: name, run, of: total, ms });
    return ms;
  };

  const warmUp = async (name: string) => {
    for (let w = 0; w < warmups; w++) warm[name] = await once(name, w + 1);
  };
  if (order === 'consecutive') {
    for (const name of names) {
      await warmUp(name);
      for (let r = 0; r < runs; r++) timed[name].push(await once(name, warmups + r + 1));
    }
  } else {
    for (const name of names) await warmUp(name);
    for (let r = 0; r < runs; r++) {
      for (const name of names) timed[name].push(await once(name, warmups + r + 1));
    }
  }
  return Object.fromEntries(
    names.map((n) => [n, { runsMs: timed[n], warmupMs: warm[n] ?? NaN, medianMs: median(timed[n]) }]),
  );
}

export interface CostRow {
  /** Measured median of one step at the given batch. */
  stepMs: number;
  /** FLOPs of one step: the manifest's per-sample count times the batch. */
  stepFlops: number;
  /** What `numInferenceSteps` UNet steps cost (text encoder and VAE decoder not included). */
  sampleMs: number;
  /** Achieved GFLOP/s: how busy the hardware was kept. */
  gflopsPerSecond: number;
}

/** Turns a timing and the manifest's FLOP count into the figures a reader compares. */
export function costRow(timing: StepTiming, flopsPerSample: number, batch = 2, numInferenceSteps = 25): CostRow {
  const stepFlops = flopsPerSample * batch;
  return {
    stepMs: timing.medianMs,
    stepFlops,
    sampleMs: timing.medianMs * numInferenceSteps,
    gflopsPerSecond: stepFlops / 1e9 / (timing.medianMs / 1000),
  };
}
