/**
 * Build-time facts about our mini DiT (`dit`), read from public/weights/manifest.json so that prose,
 * tables and figure defaults quote the shipped model. Every field may be missing while the model is
 * still training; callers show a dash, never a made-up number.
 */
import { ditMacs, ditSizeConfigFromManifest, type DitSizeConfig } from '../diffusion/dit-flops';
import type { Manifest } from '../runtime/manifest';
import { readManifest } from './models';

export interface PaperConfigRow {
  name: string;
  layers: number;
  hidden_size: number;
  heads: number;
  /** As the paper counts them: one multiply-add = one flop. Null for a model not measured yet. */
  gflops: number | null;
  patch_size: number;
  image_size: number;
  latent_size: number;
  tokens: number;
}

export interface DitFacts {
  /** Sizes that decide the cost; null when the manifest has no (complete) dit entry. */
  size: DitSizeConfig | null;
  numHeads?: number;
  parameters?: number;
  /** Graph-counted, 2 FLOPs per multiply-add (training/flops.py). */
  flopsPerSample?: number;
  categoryNames: string[];
  nullClassLabel?: number;
  paperConfigs: PaperConfigRow[];
  recommendedGuidance?: number;
  recommendedSteps?: number;
  /** Share of samples the emoji judge puts in the asked category, keyed by guidance scale. */
  judgeAgreement: Record<number, number>;
  /** The judge's accuracy on real training emoji: what a model that reproduced its data would score. */
  judgeOnTraining?: number;
  /** How the DiT was trained: steps, batch, minutes and where. */
  training?: TrainingFacts;
  /** The class-conditional UNet trained on the same data and budget (training/recipes/class_unet.py). */
  unetBaseline?: { parameters?: number; judgeAgreement: Record<number, number>; training?: TrainingFacts };
  inProgress: boolean;
}

export interface TrainingFacts {
  steps: number;
  batchSize?: number;
  minutes?: number;
  /** 'GPU' or 'CPU'. */
  hardware: string;
}

// Metrics are free-form JSON that each training recipe defines; these modules read them defensively.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped manifest JSON, read with optional chaining
type Loose = Record<string, any>;

/** Judge agreement per guidance scale from a metrics block ({ guidance_2: { judge_agreement } }). */
function agreement(metrics: Loose | undefined): Record<number, number> {
  return Object.fromEntries(
    Object.entries(metrics ?? {})
      .filter(([key, value]) => key.startsWith('guidance_') && typeof value?.judge_agreement === 'number')
      .map(([key, value]) => [Number(key.slice('guidance_'.length)), value.judge_agreement as number]),
  );
}

function trainingFacts(t: Loose | undefined): TrainingFacts | undefined {
  if (typeof t?.steps !== 'number') return undefined;
  return {
    steps: t.steps,
    batchSize: t.batch_size,
    minutes: typeof t.wall_time_s === 'number' ? t.wall_time_s / 60 : undefined,
    hardware: t.device === 'cuda' ? 'GPU' : 'CPU',
  };
}

export function ditFacts(manifest: Manifest = readManifest()): DitFacts {
  const entry = (manifest.models as Record<string, Loose>).dit;
  const config = entry?.config as Loose | undefined;
  return {
    size: ditSizeConfigFromManifest(config),
    numHeads: typeof config?.num_heads === 'number' ? config.num_heads : undefined,
    parameters: typeof entry?.parameters === 'number' ? entry.parameters : undefined,
    flopsPerSample: typeof entry?.flops_per_sample === 'number' ? entry.flops_per_sample : undefined,
    categoryNames: Array.isArray(entry?.category_names) ? entry.category_names : [],
    nullClassLabel: typeof entry?.null_class_label === 'number' ? entry.null_class_label : undefined,
    paperConfigs: Array.isArray(entry?.paper_configs) ? entry.paper_configs : [],
    recommendedGuidance: manifest.models.dit?.recommended_sampling?.guidance_scale,
    recommendedSteps: manifest.models.dit?.recommended_sampling?.steps,
    judgeAgreement: agreement(entry?.metrics),
    judgeOnTraining: entry?.metrics?.judge_on_training_images?.accuracy,
    training: trainingFacts(entry?.training),
    unetBaseline: entry?.metrics?.unet_baseline
      ? {
          parameters: entry.metrics.unet_baseline.parameters,
          judgeAgreement: agreement(entry.metrics.unet_baseline),
          training: trainingFacts(entry.metrics.unet_baseline.training),
        }
      : undefined,
    inProgress: Boolean(entry?.training?.in_progress),
  };
}

/** GFLOPs (paper convention) of a DiT config at another patch size, or null when it does not divide the latent. */
export function gflopsAtPatch(size: DitSizeConfig, patchSize: number): number | null {
  if (size.inputSize % patchSize !== 0) return null;
  return ditMacs({ ...size, patchSize }).total / 1e9;
}
