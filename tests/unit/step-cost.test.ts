import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createGenerator } from '../../src/lib/diffusion/index';
import { costRow, measureStepCost, median, unetStepFeeds } from '../../src/lib/pipelines/step-cost';
import type { TensorSpec } from '../../src/lib/runtime/manifest';
import type { ModelRunner } from '../../src/lib/runtime/types';
import { nodeRunner } from '../helpers/node-runner';

const SPECS: TensorSpec[] = [
  { name: 'sample', shape: ['batch', 4, 8, 8], dtype: 'float32' },
  { name: 'timestep', shape: ['batch'], dtype: 'float32' },
  { name: 'encoder_hidden_states', shape: ['batch', 16, 64], dtype: 'float32' },
  { name: 'time_ids', shape: ['batch', 6], dtype: 'float32' },
];

/** A runner that "takes" a scripted number of milliseconds on a fake clock and records its calls. */
function scriptedRunner(id: string, durations: number[], clock: { t: number }, calls: string[]): ModelRunner {
  let i = 0;
  return {
    id,
    async run() {
      calls.push(id);
      clock.t += durations[i++];
      return {};
    },
  };
}

describe('unetStepFeeds', () => {
  it('replaces the symbolic batch and fills each input sensibly', () => {
    const feeds = unetStepFeeds(SPECS, 2, createGenerator(0));
    expect(feeds.sample.shape).toEqual([2, 4, 8, 8]);
    expect(feeds.encoder_hidden_states.shape).toEqual([2, 16, 64]);
    expect([...(feeds.timestep.data as Float32Array)]).toEqual([500, 500]);
    expect([...(feeds.time_ids.data as Float32Array)]).toEqual([32, 32, 0, 0, 32, 32, 32, 32, 0, 0, 32, 32]);
    const noise = feeds.sample.data as Float32Array;
    expect(noise.some((v) => v !== 0)).toBe(true);
  });
});

describe('measureStepCost', () => {
  it('warms both models up, then interleaves the timed runs and reports medians', async () => {
    const clock = { t: 0 };
    const calls: string[] = [];
    const result = await measureStepCost(
      {
        latent: { runner: scriptedRunner('latent', [50, 3, 5, 4], clock, calls), inputs: SPECS },
        pixel: { runner: scriptedRunner('pixel', [900, 80, 60, 70], clock, calls), inputs: SPECS },
      },
      { runs: 3, warmups: 1, now: () => clock.t },
    );
    expect(calls).toEqual(['latent', 'pixel', 'latent', 'pixel', 'latent', 'pixel', 'latent', 'pixel']);
    expect(result.latent).toEqual({ runsMs: [3, 5, 4], warmupMs: 50, medianMs: 4 });
    expect(result.pixel).toEqual({ runsMs: [80, 60, 70], warmupMs: 900, medianMs: 70 });
  });

  it('runs each model through its warm-up and timed runs in turn when asked for consecutive order', async () => {
    const clock = { t: 0 };
    const calls: string[] = [];
    const result = await measureStepCost(
      {
        latent: { runner: scriptedRunner('latent', [50, 3, 5, 4], clock, calls), inputs: SPECS },
        pixel: { runner: scriptedRunner('pixel', [900, 80, 60, 70], clock, calls), inputs: SPECS },
      },
      { runs: 3, warmups: 1, now: () => clock.t, order: 'consecutive' },
    );
    expect(calls).toEqual(['latent', 'latent', 'latent', 'latent', 'pixel', 'pixel', 'pixel', 'pixel']);
    expect(result.latent).toEqual({ runsMs: [3, 5, 4], warmupMs: 50, medianMs: 4 });
    expect(result.pixel).toEqual({ runsMs: [80, 60, 70], warmupMs: 900, medianMs: 70 });
  });

  it('stops between runs when aborted', async () => {
    const clock = { t: 0 };
    const controller = new AbortController();
    const runner: ModelRunner = {
      id: 'x',
      async run() {
        clock.t += 1;
        controller.abort();
        return {};
      },
    };
    await expect(
      measureStepCost({ x: { runner, inputs: SPECS } }, { now: () => clock.t, signal: controller.signal }),
    ).rejects.toThrow();
  });
});

describe('costRow', () => {
  it('scales FLOPs by the batch and time by the number of steps', () => {
    const row = costRow({ runsMs: [10], warmupMs: 20, medianMs: 10 }, 5e7, 2, 25);
    expect(row.stepFlops).toBe(1e8);
    expect(row.sampleMs).toBe(250);
    expect(row.gflopsPerSecond).toBeCloseTo(10, 10);
    expect(median([3, 1, 2, 10])).toBe(2.5);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([])).toBeNaN();
  });
});

describe('on the shipped UNets (onnxruntime-node)', () => {
  const manifest = JSON.parse(readFileSync('public/weights/manifest.json', 'utf8'));
  for (const id of ['sd_unet', 'sd_unet_pixel_twin', 'sd_unet_timing_twin']) {
    const entry = manifest.models[id];
    // The twin is built with the final mini SD weights; until then the manifest has no entry.
    it.skipIf(!entry || !existsSync(`public/weights/${entry?.file}`))(
      `${id} accepts the feeds at batch 2`,
      async () => {
        const runner = await nodeRunner(id, `public/weights/${entry.file}`);
        const out = await runner.run(unetStepFeeds(entry.inputs, 2, createGenerator(0)));
        const sample = entry.inputs.find((s: TensorSpec) => s.name === 'sample');
        expect((out.out_sample as { shape: number[] }).shape).toEqual([2, ...sample.shape.slice(1)]);
      },
    );
  }
});
