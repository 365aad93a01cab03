import { describe, expect, it } from 'vitest';
import { flowFacts } from '../../src/lib/site/flow';
import { readManifest } from '../../src/lib/site/models';
import type { Manifest } from '../../src/lib/runtime/manifest';

describe('flowFacts', () => {
  const manifest = readManifest();
  it('reads the shipped retrieval scores for every compared step count, in order', () => {
    const facts = flowFacts(manifest)!;
    const raw = (manifest.models as any).sd_flow.metrics.retrieval_by_steps;
    expect(facts.retrieval.map((r) => r.steps)).toEqual([1, 2, 4, 8, 25]);
    for (const row of facts.retrieval) {
      expect(row.flow).toEqual(raw.flow[row.steps]);
      expect(row.diffusion).toEqual(raw.sd_unet[row.steps]);
    }
    expect(facts.prompts).toBe(raw.prompts);
  });
  it('gives both models the same step and batch budget', () => {
    const facts = flowFacts(manifest)!;
    expect(facts.flow.steps).toBeGreaterThan(0);
    expect(facts.flow.steps).toBe(facts.diffusion.steps);
    expect(facts.flow.batchSize).toBe(facts.diffusion.batchSize);
  });
  it('skips step counts one model lacks, and a missing model is null', () => {
    const partial = {
      models: { sd_flow: { metrics: { retrieval_by_steps: { flow: { 1: { top1: 0.1, top5: 0.2 } }, sd_unet: {} } } } },
    } as unknown as Manifest;
    expect(flowFacts(partial)!.retrieval).toEqual([]);
    expect(flowFacts({ models: {} } as unknown as Manifest)).toBeNull();
  });
});
