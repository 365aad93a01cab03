/**
 * Build-time facts about our mini DiT (`dit`), read from public/weights/manifest.json so that prose,
 * tables and figure defaults quote the shipped model. Every field may be missing while the model is
 * still training; callers show a dash, never a made-up number.
 */
import { ditMacs, ditSizeConfigFromManifest, type DitSizeConfig } from '../diffusion/dit-flops';
import type { Manifest } from '../runtime/manifest';
import { readManifest } from './models';
import { runOf, type TrainingRun } from './training';

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
  /** The same per category name, keyed by guidance scale. */
  judgePerCategory: Record<number, Record<string, number>>;
  /** The judge's accuracy on real training emoji: what a model that reproduced its data would score. */
  judgeOnTraining?: number;
  /** How the DiT was trained: steps, batch, minutes and where. */
  training?: TrainingRun;
  /** The class-conditional UNet trained on the same data, loss and batch (training/recipes/class_unet.py). */
  unetBaseline?: { parameters?: number; judgeAgreement: Record<number, number>; training?: TrainingRun };
  inProgress: boolean;
}

// Metrics are free-form JSON that each training recipe defines; these modules read them defensively.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped manifest JSON, read with optional chaining
type Loose = Record<string, any>;

/** One field of every `guidance_<w>` block of a metrics block, keyed by w (blocks without it are skipped). */
function byGuidance<T>(metrics: Loose | undefined, pick: (block: Loose) => T | undefined): Record<number, T> {
  const out: Record<number, T> = {};
  for (const [key, block] of Object.entries(metrics ?? {})) {
    const value = key.startsWith('guidance_') ? pick(block ?? {}) : undefined;
    if (value !== undefined) out[Number(key.slice('guidance_'.length))] = value;
  }
  return out;
}

/** Judge agreement per guidance scale ({ guidance_2: { judge_agreement } }). */
const agreement = (metrics: Loose | undefined) =>
  byGuidance(metrics, (b) => (typeof b.judge_agreement === 'number' ? (b.judge_agreement as number) : undefined));

/** Per-category judge agreement per guidance scale ({ guidance_4: { per_category: { Flags: 1 } } }). */
const perCategory = (metrics: Loose | undefined) =>
  byGuidance(metrics, (b) => b.per_category as Record<string, number> | undefined);

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
    judgePerCategory: perCategory(entry?.metrics),
    judgeOnTraining: entry?.metrics?.judge_on_training_images?.accuracy,
    training: runOf(entry?.training) ?? undefined,
    unetBaseline: entry?.metrics?.unet_baseline
      ? {
          parameters: entry.metrics.unet_baseline.parameters,
          judgeAgreement: agreement(entry.metrics.unet_baseline),
          training: runOf(entry.metrics.unet_baseline.training) ?? undefined,
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

/** How the DiT stands against its UNet baseline, for the chapter's comparison. */
export interface DitVsUnet {
  /** The largest guidance scale both were judged at (the comparison's scale). */
  guidance: number;
  /** DiT steps over UNet steps. */
  stepRatio: number;
  /** Both trained for the same wall time, as the recipes set them (rather than the DiT for longer). */
  sameBudget: boolean;
  /** The DiT's judge agreement at `guidance` is at least the UNet's. */
  caughtUp: boolean;
  /** The UNet's agreement at `guidance` minus the DiT's (negative when the DiT is ahead). */
  gap: number;
}

/** The comparison, or null when either model lacks its steps, wall time or judge scores. */
export function ditVsUnet(facts: DitFacts): DitVsUnet | null {
  const unet = facts.unetBaseline;
  const [dit, base] = [facts.training, unet?.training];
  if (!unet || !dit?.minutes || !base?.minutes) return null;
  const common = Object.keys(facts.judgeAgreement)
    .map(Number)
    .filter((g) => g in unet.judgeAgreement);
  if (common.length === 0) return null;
  const guidance = Math.max(...common);
  return {
    guidance,
    stepRatio: dit.steps / base.steps,
    sameBudget: dit.minutes === base.minutes,
    caughtUp: facts.judgeAgreement[guidance] >= unet.judgeAgreement[guidance],
    gap: unet.judgeAgreement[guidance] - facts.judgeAgreement[guidance],
  };
}

/** The `n` categories the judge least often recognised at `guidance`, weakest first. */
export function weakestCategories(facts: DitFacts, guidance: number, n: number): string[] {
  return Object.entries(facts.judgePerCategory[guidance] ?? {})
    .sort(([, a], [, b]) => a - b)
    .slice(0, n)
    .map(([name]) => name);
}

/**
 * Unicode's "Component" group holds skin-tone swatches and hair parts, never shown alone: a flat square
 * is easy to hit and shows nothing about conditioning, so the sampler never opens on it.
 */
const NOT_STANDALONE = new Set(['Component']);

/**
 * Index of the category the judge recognised most often at `guidance`, ties broken at guidance 1 (the
 * sampler's first pick); 0 when the manifest has no per-category scores.
 */
export function bestCategory(facts: DitFacts, guidance: number): number {
  const score = (name: string, g: number) => facts.judgePerCategory[g]?.[name] ?? -1;
  const ranked = facts.categoryNames
    .map((name, index) => ({ name, index }))
    .filter(({ name }) => !NOT_STANDALONE.has(name) && name in (facts.judgePerCategory[guidance] ?? {}))
    .sort(
      (a, b) =>
        score(b.name, guidance) - score(a.name, guidance) || score(b.name, 1) - score(a.name, 1) || a.index - b.index,
    );
  return ranked[0]?.index ?? 0;
}
