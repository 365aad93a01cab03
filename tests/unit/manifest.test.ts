/** The manifest's figure-facing fields: typed once, checked when the manifest is read, never guessed. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  parseManifest,
  recommendedSamplingOf,
  type Manifest,
  type RecommendedSampling,
  type TokenizerFile,
} from '../../src/lib/runtime/manifest';
import { baseSampling, dynamicThresholding, upsamplerNoiseLevel } from '../../src/components/cascade-shared/defaults';

/** A fresh copy of the shipped manifest, to break. */
const shipped = (): Manifest => JSON.parse(readFileSync('public/weights/manifest.json', 'utf8'));

describe('parseManifest', () => {
  it('accepts the shipped manifest, where every model with a trained schedule says how to sample it', () => {
    const { models } = parseManifest(shipped());
    const diffusion = Object.entries(models).filter(([, entry]) => entry.scheduler);
    expect(diffusion.length).toBeGreaterThan(5);
    for (const [id, entry] of diffusion) expect(recommendedSamplingOf(id, entry).steps).toBeGreaterThan(0);
  });

  it('refuses a recommended_sampling or a tokenizer without the fields figures read, naming both', () => {
    const noSteps = shipped();
    delete (noSteps.models.cascade_sr.recommended_sampling as Partial<RecommendedSampling>).steps;
    expect(() => parseManifest(noSteps)).toThrow('manifest entry "cascade_sr": recommended_sampling needs steps');
    const noHash = shipped();
    delete (noHash.models.clip_text.tokenizer as Partial<TokenizerFile>).sha256;
    expect(() => parseManifest(noHash)).toThrow('manifest entry "clip_text": tokenizer needs sha256');
    const notAnObject = shipped();
    (notAnObject.models.dit as Record<string, unknown>).recommended_sampling = 25;
    expect(() => parseManifest(notAnObject)).toThrow(
      /"dit": recommended_sampling needs scheduler, steps, guidance_scale/,
    );
  });

  it('says which model has no recommended sampling when code asks for it', () => {
    const { models } = parseManifest(shipped());
    expect(() => recommendedSamplingOf('clip_text', models.clip_text)).toThrow(
      /gives clip_text no recommended_sampling/,
    );
  });
});

describe('the cascade figures’ defaults', () => {
  it('are the recipes’ numbers', () => {
    const m = shipped();
    const base = m.models.cascade_base.recommended_sampling!;
    expect(baseSampling(m)).toEqual({ steps: base.steps, guidanceScale: base.guidance_scale });
    expect(upsamplerNoiseLevel(m)).toBe(m.models.cascade_sr.recommended_sampling!.noise_level);
    const evaluated = (m.models.cascade_base.metrics as { sampling: Record<string, number> }).sampling;
    expect(dynamicThresholding(m)).toEqual({
      ratio: evaluated.dynamic_thresholding_ratio,
      maxValue: evaluated.sample_max_value,
    });
  });

  it('fail the build, instead of inventing a number, when the manifest lacks one', () => {
    const noLevel = shipped();
    delete noLevel.models.cascade_sr.recommended_sampling!.noise_level;
    expect(() => upsamplerNoiseLevel(noLevel)).toThrow(/cascade_sr has no recommended_sampling.noise_level/);
    const noBase = shipped();
    delete noBase.models.cascade_base.recommended_sampling;
    expect(() => baseSampling(noBase)).toThrow(/cascade_base has no recommended_sampling/);
    const noDynamic = shipped();
    delete (noDynamic.models.cascade_base.metrics as { sampling: Record<string, number> }).sampling.sample_max_value;
    expect(() => dynamicThresholding(noDynamic)).toThrow(/sample_max_value/);
  });
});
