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
  [key: string]: unknown;
}

export interface Manifest {
  version: number;
  models: Record<string, ModelEntry>;
  [key: string]: unknown;
}

/** Checks the parts of a manifest the runtime relies on, so a bad file fails with a clear message. */
export function parseManifest(json: unknown): Manifest {
  const m = json as Manifest;
  if (!m || typeof m !== 'object' || typeof m.models !== 'object' || m.models === null) {
    throw new Error('manifest.json has no "models" object');
  }
  for (const [id, entry] of Object.entries(m.models)) {
    if (typeof entry.file !== 'string' || typeof entry.sha256 !== 'string' || typeof entry.bytes !== 'number') {
      throw new Error(`manifest entry "${id}" needs file, bytes and sha256`);
    }
  }
  return m;
}
