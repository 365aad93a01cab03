/** Build-time view of public/weights/manifest.json for the Models page. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, type Manifest, type ModelEntry } from '../runtime/manifest';

/** The shipped manifest, checked as the browser checks it: a malformed one fails the build, not a reader's figure. */
export function readManifest(): Manifest {
  return parseManifest(JSON.parse(readFileSync(join(process.cwd(), 'public', 'weights', 'manifest.json'), 'utf8')));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped manifest JSON, read with optional chaining
type Metrics = Record<string, any>;

const pct = (v: unknown) => (typeof v === 'number' ? `${(v * 100).toFixed(1)}%` : '—');
const num = (v: unknown, digits = 1) => (typeof v === 'number' ? v.toFixed(digits) : '—');

/** The one quality figure that matters most for each model, in words. */
export function headlineMetric(id: string, entry: ModelEntry): string {
  const m = (entry.metrics ?? {}) as Metrics;
  if (id === 'mnist_judge') return `test accuracy ${pct(m.test_accuracy)}`;
  if (id === 'mnist_ddpm') {
    const g2 = m.sampling?.guidance_2 ?? {};
    return `${pct(m.class_accuracy_guidance_2 ?? g2.class_accuracy)} of samples are the digit asked for (guidance 2, 50 DDIM steps, judged by mnist_judge); MNIST-FID ${num(g2.mnist_fid, 2)}`;
  }
  if (id.startsWith('vae_'))
    return `validation PSNR ${num(m.validation_psnr_db)} dB, SSIM ${num(m.validation_ssim, 3)}`;
  if (id.startsWith('clip_')) {
    return `image→text retrieval among ${m.validation_captions ?? '?'} held-out captions: top-1 ${pct(m.image_to_text_top1)}, top-5 ${pct(m.image_to_text_top5)} (chance ${pct(m.chance_top5)})`;
  }
  if (id === 'sd_unet') {
    const held = m.held_out ?? {};
    return `images for ${held.real?.prompts ?? '?'} held-out captions: the tiny CLIP ranks the right caption top-5 for ${pct(held.guidance_5?.top5)} at guidance 5 (real emoji: ${pct(held.real?.top5)})`;
  }
  if (entry.timing_only) return 'timing twin: constant weights, never trained or evaluated';
  if (id === 'emoji_judge')
    return `category accuracy ${pct(m.validation_accuracy)} on held-out emoji (scores the DiT's samples)`;
  if (id === 'dit') {
    const best = Object.entries<Metrics>(m)
      .filter(([k]) => k.startsWith('guidance_'))
      .map(([k, v]) => `${pct(v.judge_agreement)} at guidance ${k.slice('guidance_'.length)}`);
    const unet = m.unet_baseline?.guidance_4?.judge_agreement;
    const unetSteps = m.unet_baseline?.training?.steps;
    const baseline =
      typeof unet === 'number'
        ? `; a UNet on the same data and loss${typeof unetSteps === 'number' ? ` (${unetSteps.toLocaleString('en')} steps)` : ''}: ${pct(unet)} at guidance 4`
        : '';
    return `samples in the requested category (emoji judge): ${best.join(', ') || '—'} (chance 10%)${baseline}`;
  }
  if (id === 'unclip_decoder') {
    const held = m.held_out ?? {};
    return `variations of held-out emoji: CLIP similarity to the source ${num(held.guidance_3?.similarity_to_source, 2)} at guidance 3 (random pairs ${num(held.random_pair_similarity, 2)})`;
  }
  if (id === 'unclip_prior') {
    const held = m.held_out ?? {};
    return `held-out captions: sampled image embeddings' CLIP similarity to the true images ${num(held.prior_steps_25_guidance_4?.similarity, 2)} (the text embedding itself: ${num(held.text_embeds?.similarity, 2)}; random pairs ${num(held.random_pair_similarity, 2)})`;
  }
  if (id === 'cascade_base') {
    const held = m.held_out?.static_clipping ?? {};
    return `16 px samples for held-out captions: right caption top-5 for ${pct(held.guidance_5?.top5)} at guidance 5 (real 16 px emoji: ${pct(m.held_out?.real_16px?.top5)})`;
  }
  if (id === 'cascade_sr') {
    const hf = m.high_frequency_energy ?? {};
    return `16 → 32 px on held-out emoji: one sample ${num(m.noise_level_0?.psnr)} dB PSNR, the mean of 4 samples ${num(m.mean_of_4_samples?.psnr)} dB, bicubic ${num(m.bicubic?.psnr)} dB; fine detail (mean squared Laplacian) ${num(hf.super_resolution, 2)} against bicubic's ${num(hf.bicubic, 2)} and the real images' ${num(hf.real_32px, 2)}`;
  }
  return '—';
}

/** The VAE's latent scale factor as the manifest records it, for prose that quotes it. */
export function vaeScalingFactor(): number | null {
  const value = readManifest().models.vae_decoder?.scaling_factor;
  return typeof value === 'number' ? value : null;
}

/** The sampler settings a model's recipe recommends (manifest `recommended_sampling`), under the figures' names. */
export interface SamplingDefaults {
  steps: number;
  guidanceScale: number;
  /** The upsampler's noise-augmentation level, where the recipe sets one. */
  noiseLevel?: number;
}

/** A figure's defaults come from the recipe that trained its model; a model without them fails the build. */
export function recommendedSampling(id: string, manifest: Manifest = readManifest()): SamplingDefaults {
  const entry = manifest.models[id];
  if (!entry) throw new Error(`manifest.json has no model ${id}`);
  const rec = entry.recommended_sampling;
  if (!rec) throw new Error(`manifest.json: ${id} has no recommended_sampling`);
  return {
    steps: rec.steps,
    guidanceScale: rec.guidance_scale,
    ...(rec.noise_level !== undefined ? { noiseLevel: rec.noise_level } : {}),
  };
}
