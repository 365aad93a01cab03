import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../src/lib/diffusion/index';
import { attentionRow, ditGates, sampleDit, type DitStepRecord } from '../../src/lib/pipelines/dit';
import type { TrainedSchedulerConfig } from '../../src/lib/runtime/manifest';
import type { Feed, Int64Tensor, ModelRunner } from '../../src/lib/runtime/types';

const DEPTH = 3;
const HEADS = 2;
const T = 16;
const SCHEDULER: TrainedSchedulerConfig = {
  num_train_timesteps: 1000,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  beta_end: 0.012,
  prediction_type: 'epsilon',
};

/**
 * A stand-in DiT with the shipped graph's inputs and outputs: noise = 0.5 * sample + 0.1 * label,
 * one-hot attention (token i attends to token (i + layer + head) mod T), gates = label / 10 + block.
 */
function fakeDit(calls: number[][]): ModelRunner {
  return {
    id: 'dit',
    async run(feeds: Record<string, Feed>) {
      const sample = feeds.sample as Tensor;
      const labels = Array.from((feeds.class_labels as Int64Tensor).data, Number);
      calls.push(labels);
      const b = labels.length;
      const per = sample.data.length / b;
      const out = Float32Array.from(sample.data, (v, i) => 0.5 * v + 0.1 * labels[Math.floor(i / per)]);
      const probs = new Float32Array(b * DEPTH * HEADS * T * T);
      const gates = new Float32Array(b * DEPTH * 2);
      for (let n = 0; n < b; n++) {
        for (let l = 0; l < DEPTH; l++) {
          gates[(n * DEPTH + l) * 2] = labels[n] / 10 + l;
          gates[(n * DEPTH + l) * 2 + 1] = labels[n] / 10 + l + 0.5;
          for (let h = 0; h < HEADS; h++) {
            for (let i = 0; i < T; i++) probs[(((n * DEPTH + l) * HEADS + h) * T + i) * T + ((i + l + h) % T)] = 1;
          }
        }
      }
      return {
        out_sample: { data: out, shape: [...sample.shape] },
        attention_probs: { data: probs, shape: [b, DEPTH, HEADS, T, T] },
        adaln_gates: { data: gates, shape: [b, DEPTH, 2] },
      };
    },
  };
}

/** A decoder that upsamples 4x and keeps the first three channels, enough to see inputs reach it. */
const fakeDecoder: ModelRunner = {
  id: 'vae_decoder',
  async run(feeds) {
    const z = feeds.latent_sample as Tensor; // [1, 4, 8, 8]
    const data = new Float32Array(3 * 32 * 32);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++) data[(c * 32 + y) * 32 + x] = z.data[(c * 8 + (y >> 2)) * 8 + (x >> 2)];
    return { sample: { data, shape: [1, 3, 32, 32] } };
  },
};

const base = {
  classLabel: 3,
  nullClassLabel: 10,
  guidanceScale: 4,
  numInferenceSteps: 4,
  seed: 7,
  latentShape: [4, 8, 8] as [number, number, number],
  scalingFactor: 0.9,
};

describe('sampleDit', () => {
  it('runs [null, class] as one batch per step and records the conditional pass', async () => {
    const calls: number[][] = [];
    const steps: DitStepRecord[] = [];
    const result = await sampleDit(fakeDit(calls), fakeDecoder, SCHEDULER, { ...base, onStep: (s) => steps.push(s) });
    expect(calls).toEqual(Array(4).fill([10, 3]));
    // SD-style DDIM: leading spacing with steps_offset 1.
    expect(result.timesteps).toEqual([751, 501, 251, 1]);
    expect(steps).toHaveLength(4);
    expect(steps[0].attentionProbs.shape).toEqual([1, DEPTH, HEADS, T, T]);
    // Gates of the conditional pass (label 3), not the null one.
    expect(steps[0].adalnGates.data[0]).toBeCloseTo(0.3);
    expect(result.image.shape).toEqual([1, 3, 32, 32]);
    expect(result.image.data.every(Number.isFinite)).toBe(true);
  });

  it('runs the conditional pass alone at guidance 1', async () => {
    const calls: number[][] = [];
    await sampleDit(fakeDit(calls), fakeDecoder, SCHEDULER, { ...base, guidanceScale: 1 });
    expect(calls).toEqual(Array(4).fill([3]));
  });

  it('repeats exactly for a seed and changes with the seed or the class', async () => {
    const run = (o: Partial<typeof base>) => sampleDit(fakeDit([]), fakeDecoder, SCHEDULER, { ...base, ...o });
    const a = await run({});
    const b = await run({});
    expect(b.image.data).toEqual(a.image.data);
    expect((await run({ seed: 8 })).image.data).not.toEqual(a.image.data);
    expect((await run({ classLabel: 5 })).image.data).not.toEqual(a.image.data);
  });

  it('divides the latent by the scaling factor before decoding', async () => {
    const result = await sampleDit(fakeDit([]), fakeDecoder, SCHEDULER, base);
    expect(result.image.data[0]).toBeCloseTo(result.latents.data[0] / base.scalingFactor, 5);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      sampleDit(fakeDit([]), fakeDecoder, SCHEDULER, { ...base, signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('ditGates and attentionRow', () => {
  it('reads one gate pair per block for the given class', async () => {
    const calls: number[][] = [];
    const gates = await ditGates(fakeDit(calls), 500, 2, [4, 8, 8]);
    expect(calls).toEqual([[2]]);
    expect(gates.attention.map((g) => +g.toFixed(3))).toEqual([0.2, 1.2, 2.2]);
    expect(gates.mlp.map((g) => +g.toFixed(3))).toEqual([0.7, 1.7, 2.7]);
  });

  it('picks the softmax row of one query token', async () => {
    const steps: DitStepRecord[] = [];
    await sampleDit(fakeDit([]), fakeDecoder, SCHEDULER, {
      ...base,
      numInferenceSteps: 1,
      onStep: (s) => steps.push(s),
    });
    const row = attentionRow(steps[0].attentionProbs, 2, 1, 5);
    expect(row).toHaveLength(T);
    expect(row[(5 + 2 + 1) % T]).toBe(1);
    expect(row.reduce((a, b) => a + b, 0)).toBe(1);
    expect(() => attentionRow(steps[0].attentionProbs, DEPTH, 0, 0)).toThrow(/outside/);
  });
});
