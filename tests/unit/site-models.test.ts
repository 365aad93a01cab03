import { describe, expect, it } from 'vitest';
import { readManifest, recommendedSampling } from '../../src/lib/site/models';

describe('recommendedSampling', () => {
  const manifest = readManifest();
  it('reads the recipe’s steps, guidance and noise level under the figures’ names', () => {
    const rec = manifest.models.sd_unet.recommended_sampling as { steps: number; guidance_scale: number };
    expect(recommendedSampling('sd_unet', manifest)).toEqual({ steps: rec.steps, guidanceScale: rec.guidance_scale });
    const sr = manifest.models.cascade_sr.recommended_sampling as { noise_level: number };
    expect(recommendedSampling('cascade_sr', manifest).noiseLevel).toBe(sr.noise_level);
  });
  it('fails the build for a model without a recommendation, instead of inventing defaults', () => {
    expect(() => recommendedSampling('clip_text', manifest)).toThrow(/clip_text has no recommended_sampling/);
    expect(() => recommendedSampling('no_such_model', manifest)).toThrow(/no_such_model/);
  });
});
