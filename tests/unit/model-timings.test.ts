import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { callLabel, sampleMs, timingPlan } from '../../src/components/model-timings/model-timings';
import { parseManifest } from '../../src/lib/runtime/manifest';

const manifest = parseManifest(JSON.parse(readFileSync('public/weights/manifest.json', 'utf8')));

describe('timingPlan on the shipped manifest', () => {
  const plan = timingPlan(manifest.models);
  const row = (id: string) => plan.find((r) => r.id === id)!;

  it('has a row for every model', () => {
    expect(plan.map((r) => r.id)).toEqual(Object.keys(manifest.models));
  });
  it('runs guided samplers at batch 2 and counts their steps', () => {
    expect(row('sd_unet')).toEqual({ id: 'sd_unet', batch: 2, steps: 25 });
    expect(row('mnist_ddpm')).toEqual({ id: 'mnist_ddpm', batch: 2, steps: 50 });
  });
  it('runs the upsampler without guidance (recommended guidance 1) at batch 1', () => {
    expect(row('cascade_sr')).toEqual({ id: 'cascade_sr', batch: 1, steps: 25 });
  });
  it('calls encoders, judges and timing twins once', () => {
    for (const id of ['clip_text', 'vae_decoder', 'emoji_judge', 'sd_unet_timing_twin']) {
      expect(row(id)).toEqual({ id, batch: 1, steps: null });
      expect(callLabel(row(id))).toBe('one call');
      expect(sampleMs(row(id), 3)).toBeNull();
    }
  });
  it('prices a sample as steps times the median call', () => {
    expect(sampleMs(row('dit'), 10)).toBe(250);
    expect(callLabel(row('dit'))).toBe('25 steps, guidance (batch 2)');
  });
});
