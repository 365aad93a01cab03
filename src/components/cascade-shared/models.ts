/**
 * What the pixel-cascade figures share (Imagen, GLIDE): the tiny CLIP text encoder, the 16 px base
 * model and the 16 -> 32 px upsampler, wired into `CascadeModels`, plus a per-page cache of encoded
 * prompts so that re-running a figure never re-encodes the same words.
 */
import type { Thresholding } from '../../lib/pipelines/cascade';
import type { CascadeModels, PromptStates } from '../../lib/pipelines/cascade';
import { encodePrompt } from '../../lib/pipelines/cascade';
import type { ModelEntry, TrainedSchedulerConfig } from '../../lib/runtime/index';
import type { LoadedModels } from '../shared/model-status';
import { loadTokenizer } from '../text-to-image/models';

/** The base stage alone: text encoder and 16 px UNet. */
export const CASCADE_BASE_MODEL_IDS = ['clip_text', 'cascade_base'];
/** Both stages. */
export const CASCADE_MODEL_IDS = [...CASCADE_BASE_MODEL_IDS, 'cascade_sr'];

/** The pipeline's inputs from loaded models and their manifest entries (the upsampler when loaded). */
export async function cascadeModels(loaded: LoadedModels): Promise<CascadeModels> {
  const stage = (id: string) => ({ unet: loaded[id], scheduler: loaded[id].entry.scheduler as TrainedSchedulerConfig });
  return {
    tokenizer: await loadTokenizer(),
    textEncoder: loaded.clip_text,
    base: stage('cascade_base'),
    superRes: loaded.cascade_sr ? stage('cascade_sr') : undefined,
  };
}

const promptCache = new WeakMap<CascadeModels['textEncoder'], Map<string, Promise<PromptStates>>>();

/** The text encoder's states for a prompt, computed once per page and text encoder. */
export function promptStates(models: CascadeModels, text: string, signal?: AbortSignal): Promise<PromptStates> {
  let cache = promptCache.get(models.textEncoder);
  if (!cache) promptCache.set(models.textEncoder, (cache = new Map()));
  let states = cache.get(text);
  if (!states) {
    states = encodePrompt(models, text, signal);
    // A failed or stopped encoding is not remembered: the next run tries again.
    states.catch(() => cache.delete(text));
    cache.set(text, states);
  }
  return states;
}

/** A prompt's states and the empty prompt's (guidance's unconditional half), both from the cache. */
export function promptAndEmptyStates(
  models: CascadeModels,
  text: string,
  signal?: AbortSignal,
): Promise<[PromptStates, PromptStates]> {
  return Promise.all([promptStates(models, text, signal), promptStates(models, '', signal)]);
}

interface RecommendedSampling {
  steps?: number;
  guidance_scale?: number;
  thresholding?: boolean;
  dynamic_thresholding_ratio?: number;
  sample_max_value?: number;
  noise_level?: number;
}

/** The base model's recommended settings (manifest `recommended_sampling`), with the recipe's defaults. */
export function baseDefaults(entry: ModelEntry | undefined) {
  const r = (entry?.recommended_sampling ?? {}) as RecommendedSampling;
  const thresholding: Thresholding = r.thresholding
    ? { kind: 'dynamic', ratio: r.dynamic_thresholding_ratio ?? 0.995, maxValue: r.sample_max_value ?? 1.5 }
    : { kind: 'static' };
  return { steps: r.steps ?? 25, guidanceScale: r.guidance_scale ?? 5, thresholding };
}

/** The upsampler's recommended settings (manifest `recommended_sampling`). */
export function superResDefaults(entry: ModelEntry | undefined) {
  const r = (entry?.recommended_sampling ?? {}) as RecommendedSampling;
  return { steps: r.steps ?? 25, noiseLevel: r.noise_level ?? 0.1 };
}
