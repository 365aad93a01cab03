/**
 * Build-time defaults of the pixel-cascade figures, from the recipes that trained the models
 * (public/weights/manifest.json). A setting the manifest lacks fails the build with a sentence that
 * says which: a figure never starts from a number nobody measured.
 */
import type { Manifest } from '../../lib/runtime/manifest';
import { cascadeFacts } from '../../lib/site/cascade';
import { readManifest, recommendedSampling, type SamplingDefaults } from '../../lib/site/models';

/** The base model's steps and guidance scale (`cascade_base.recommended_sampling`). */
export const baseSampling = (manifest: Manifest = readManifest()): SamplingDefaults =>
  recommendedSampling('cascade_base', manifest);

/** The upsampler's noise-augmentation level for base samples (`cascade_sr.recommended_sampling.noise_level`). */
export function upsamplerNoiseLevel(manifest: Manifest = readManifest()): number {
  const { noiseLevel } = recommendedSampling('cascade_sr', manifest);
  if (noiseLevel === undefined) throw new Error('manifest.json: cascade_sr has no recommended_sampling.noise_level');
  return noiseLevel;
}

/**
 * The dynamic thresholding the chapter evaluated (`cascade_base.metrics.sampling`): the percentile of
 * |x0| (`dynamic_thresholding_ratio`) and the largest s (`sample_max_value`).
 */
export function dynamicThresholding(manifest: Manifest = readManifest()): { ratio: number; maxValue: number } {
  const { dynamicRatio: ratio, dynamicMaxValue: maxValue } = cascadeFacts(manifest).base;
  if (ratio === undefined || maxValue === undefined) {
    throw new Error(
      'manifest.json: cascade_base.metrics.sampling needs dynamic_thresholding_ratio and sample_max_value',
    );
  }
  return { ratio, maxValue };
}
