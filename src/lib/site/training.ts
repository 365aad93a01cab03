/**
 * Every training claim the prose makes ("7,523 steps of batch 128 in 10 minutes on one NVIDIA H100"),
 * written from public/weights/manifest.json in one place, so that a chapter and the Models page can
 * never disagree. tests/unit/training-claims.test.ts fails if prose types such a claim by hand.
 */
import type { Manifest, ModelEntry } from '../runtime/manifest';
import { readManifest } from './models';

export interface TrainingRun {
  steps: number;
  batchSize?: number;
  /** Wall time of the run, rounded to whole minutes (at least 1). */
  minutes?: number;
  /** "one NVIDIA H100 80GB HBM3 GPU", "a 2-thread CPU (AMD EPYC)". */
  where: string;
  /** The manifest records a run that has not finished. */
  inProgress: boolean;
  /** A second run from these weights with part of the model frozen (the VAE's decoder fine-tune). */
  fineTune?: TrainingRun;
  /** Set when the run moved between machines (resumed elsewhere): each machine's share, in order. */
  parts?: TrainingPart[];
}

/** The steps and minutes of a run that one machine did. */
export interface TrainingPart {
  steps: number;
  /** Rounded to whole minutes (at least 1). */
  minutes: number;
  where: string;
}

interface Segment {
  from_step?: number;
  from_elapsed_s?: number;
  device?: string;
  hardware?: Hardware;
}

interface Hardware {
  gpu?: string;
  cpu?: string;
  threads?: number;
}

/** Where a run trained, in words, from the manifest's `training.device` and `training.hardware`. */
export function whereTrained(device: string | undefined, hardware: Hardware | undefined): string {
  if (device === 'cuda') return hardware?.gpu ? `one ${hardware.gpu} GPU` : 'one GPU';
  const threads = hardware?.threads ? `${hardware.threads}-thread ` : '';
  return `a ${threads}CPU${hardware?.cpu ? ` (${hardware.cpu})` : ''}`;
}

/** The training run of a manifest entry, or null for a model that was never trained (timing twins). */
export function trainingRun(entry: ModelEntry | undefined): TrainingRun | null {
  return runOf(entry?.training as Record<string, unknown> | undefined);
}

/** A training block as the manifest writes it (an entry's `training`, or a baseline's), or null without steps. */
export function runOf(t: Record<string, unknown> | undefined): TrainingRun | null {
  if (typeof t?.steps !== 'number') return null;
  const wall = t.wall_time_s;
  const fineTune = runOf(t.fine_tune as Record<string, unknown> | undefined);
  const parts = typeof wall === 'number' ? partsOf(t.segments, t.steps, wall) : [];
  return {
    ...(fineTune ? { fineTune } : {}),
    ...(parts.length > 1 ? { parts } : {}),
    steps: t.steps,
    batchSize: typeof t.batch_size === 'number' ? t.batch_size : undefined,
    minutes: typeof wall === 'number' ? wholeMinutes(wall) : undefined,
    where:
      parts.length > 1
        ? parts.map((p) => p.where).join(', then ')
        : whereTrained(t.device as string | undefined, t.hardware as Hardware | undefined),
    inProgress: t.in_progress === true,
  };
}

const wholeMinutes = (seconds: number) => Math.max(1, Math.round(seconds / 60));

/**
 * Each machine's share of a run from its segments (one per (re)start), merging consecutive restarts on
 * the same machine. Empty unless every segment records where and when it began (older manifests do not).
 */
function partsOf(segments: unknown, steps: number, wallS: number): TrainingPart[] {
  if (!Array.isArray(segments) || segments.length < 2) return [];
  const segs = segments as Segment[];
  if (!segs.every((s) => typeof s.from_step === 'number' && typeof s.from_elapsed_s === 'number' && s.hardware))
    return [];
  const starts: { step: number; s: number; where: string }[] = [];
  for (const seg of segs) {
    const where = whereTrained(seg.device, seg.hardware);
    if (starts.at(-1)?.where !== where) starts.push({ step: seg.from_step!, s: seg.from_elapsed_s!, where });
  }
  return starts.map((start, i) => {
    const next = starts[i + 1] ?? { step: steps, s: wallS };
    return { steps: next.step - start.step, minutes: wholeMinutes(next.s - start.s), where: start.where };
  });
}

/** "10 minutes" / "1 minute" / "61 minutes". */
export const minutesInWords = (minutes: number) => `${minutes} minute${minutes === 1 ? '' : 's'}`;

/** "7,523 steps of batch 128 in 10 minutes on one NVIDIA H100 80GB HBM3 GPU" for model `id`. */
export function trainedFor(id: string, manifest: Manifest = readManifest()): string {
  const run = trainingRun(manifest.models[id]);
  if (!run) throw new Error(`manifest.json: ${id} records no training run`);
  return runInWords(run);
}

/**
 * A run in words; one that moved between machines says each share:
 * "44,000 steps of batch 128 in 85 minutes: the first 13,954 (10 minutes) on one GPU, then 30,046 (75 minutes) on a CPU".
 */
export function runInWords(run: TrainingRun): string {
  const batch = run.batchSize ? ` of batch ${run.batchSize.toLocaleString('en')}` : '';
  const time = run.minutes ? ` in ${minutesInWords(run.minutes)}` : '';
  const steps = `${run.steps.toLocaleString('en')} steps${batch}${time}`;
  if (!run.parts) return `${steps} on ${run.where}`;
  const shares = run.parts.map(
    (p, i) =>
      `${i === 0 ? 'the first' : 'then'} ${p.steps.toLocaleString('en')} (${minutesInWords(p.minutes)}) on ${p.where}`,
  );
  return `${steps}: ${shares.join(', ')}`;
}

/** How long model `id` trained ("10 minutes"), for prose that only needs the time. */
export function trainingTime(id: string, manifest: Manifest = readManifest()): string {
  const minutes = trainingRun(manifest.models[id])?.minutes;
  if (!minutes) throw new Error(`manifest.json: ${id} records no training wall time`);
  return minutesInWords(minutes);
}

/** The Models page's short form: "7,523 steps, 10 min on one NVIDIA H100 80GB HBM3 GPU". */
export function trainingSummary(entry: ModelEntry): string {
  const run = trainingRun(entry);
  if (!run) return '—';
  const short = (r: TrainingRun) =>
    r.parts
      ? `${r.steps.toLocaleString('en')} steps, ${r.minutes} min: ` +
        r.parts.map((p) => `${p.steps.toLocaleString('en')} (${p.minutes} min) on ${p.where}`).join(', then ')
      : `${r.steps.toLocaleString('en')} steps, ${r.minutes ? `${r.minutes} min ` : ''}on ${r.where}`;
  return run.fineTune ? `${short(run)}; then ${short(run.fineTune)} (fine-tune)` : short(run);
}
