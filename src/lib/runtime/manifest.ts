/** Types for public/weights/manifest.json, written by `python -m training build all`. */

export interface TensorSpec {
  name: string;
  /** Symbolic dimensions are strings ("batch"). */
  shape: (number | string)[];
  dtype: 'float32' | 'int64';
}

/** diffusers' scheduler config keys, as the model was trained. */
export interface TrainedSchedulerConfig {
  num_train_timesteps: number;
  beta_schedule: 'linear' | 'scaled_linear' | 'squaredcos_cap_v2' | 'sigmoid';
  beta_start: number;
  beta_end: number;
  prediction_type: 'epsilon' | 'sample' | 'v_prediction';
  [key: string]: unknown;
}

/**
 * How a model's recipe samples it (manifest `recommended_sampling`, written by its recipe in `training/`):
 * diffusers' scheduler settings (`DDIMScheduler.from_config(config, **these)`) and the pipeline settings
 * that figures start from. `scheduler`, `steps` and `guidance_scale` are always there (parseManifest
 * refuses an entry without them); the rest where the recipe sets them.
 */
export interface RecommendedSampling {
  /** diffusers' scheduler class without the suffix: 'DDIM', 'FlowMatchEuler'. */
  scheduler: string;
  steps: number;
  /** 1 for a model sampled without guidance (the upsampler). */
  guidance_scale: number;
  timestep_spacing?: 'leading' | 'linspace' | 'trailing';
  steps_offset?: number;
  set_alpha_to_one?: boolean;
  clip_sample?: boolean;
  clip_sample_range?: number;
  eta?: number;
  use_clipped_model_output?: boolean;
  /** Set where sampling predicts something else than training's default (the prior predicts x0). */
  prediction_type?: TrainedSchedulerConfig['prediction_type'];
  /** Imagen's dynamic thresholding (diffusers `thresholding`), its percentile and its largest s. */
  thresholding?: boolean;
  dynamic_thresholding_ratio?: number;
  sample_max_value?: number;
  /** The upsampler's noise conditioning augmentation level, in [0, 1]. */
  noise_level?: number;
  /** Flow matching's timestep shift. */
  shift?: number;
  /** Notes for people reading the manifest: the guidance formula, how to decode, what runs next. */
  guidance?: string;
  decode?: string;
  then?: string;
  note?: string;
}

/** The word-level tokenizer a text encoder was trained with (manifest `tokenizer`): downloaded and verified like weights. */
export interface TokenizerFile {
  /** Relative to the weights folder. */
  file: string;
  bytes: number;
  sha256: string;
  vocab_size: number;
  /** Tokens per prompt, BOS and EOS included. */
  context_length: number;
}

export interface ModelEntry {
  file: string;
  bytes: number;
  sha256: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  parameters?: number;
  description?: string;
  scheduler?: TrainedSchedulerConfig;
  /** VAE latents are multiplied by this before diffusion (CompVis `scale_by_std`). */
  scaling_factor?: number;
  /** Every diffusion model has one; encoders, decoders and judges do not. */
  recommended_sampling?: RecommendedSampling;
  /** Text encoders only. */
  tokenizer?: TokenizerFile;
  [key: string]: unknown;
}

export interface Manifest {
  version: number;
  models: Record<string, ModelEntry>;
  [key: string]: unknown;
}

/** The keys (and their types) that parseManifest requires of the typed fields an entry may carry. */
const REQUIRED: Record<'recommended_sampling' | 'tokenizer', Record<string, 'string' | 'number'>> = {
  recommended_sampling: { scheduler: 'string', steps: 'number', guidance_scale: 'number' },
  tokenizer: { file: 'string', bytes: 'number', sha256: 'string', vocab_size: 'number', context_length: 'number' },
};

/**
 * Checks the parts of a manifest that the runtime and the figures rely on, so that a bad file fails
 * with a clear message (at build time too: the site reads the manifest through this).
 */
export function parseManifest(json: unknown): Manifest {
  const m = json as Manifest;
  if (!m || typeof m !== 'object' || typeof m.models !== 'object' || m.models === null) {
    throw new Error('manifest.json has no "models" object');
  }
  for (const [id, entry] of Object.entries(m.models)) {
    if (typeof entry.file !== 'string' || typeof entry.sha256 !== 'string' || typeof entry.bytes !== 'number') {
      throw new Error(`manifest entry "${id}" needs file, bytes and sha256`);
    }
    for (const [field, keys] of Object.entries(REQUIRED)) {
      const value = entry[field];
      if (value === undefined) continue;
      const record = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
      const lacks = Object.keys(keys).filter((key) => typeof record[key] !== keys[key]);
      if (lacks.length) throw new Error(`manifest entry "${id}": ${field} needs ${lacks.join(', ')}`);
    }
  }
  return m;
}

/**
 * A model's `recommended_sampling`, for code that needs it: an error that names the model when the
 * manifest has none (a figure must not guess how a model is sampled).
 */
export function recommendedSamplingOf(id: string, entry: ModelEntry): RecommendedSampling {
  if (!entry.recommended_sampling) {
    throw new Error(`manifest.json gives ${id} no recommended_sampling (how its recipe samples it)`);
  }
  return entry.recommended_sampling;
}
