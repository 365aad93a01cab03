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

function runOf(t: Record<string, unknown> | undefined): TrainingRun | null {
  if (typeof t?.steps !== 'number') return null;
  const wall = t.wall_time_s;
  const fineTune = runOf(t.fine_tune as Record<string, unknown> | undefined);
  return {
    ...(fineTune ? { fineTune } : {}),
    steps: t.steps,
    batchSize: typeof t.batch_size === 'number' ? t.batch_size : undefined,
    minutes: typeof wall === 'number' ? Math.max(1, Math.round(wall / 60)) : undefined,
    where: whereTrained(t.device as string | undefined, t.hardware as Hardware | undefined),
    inProgress: t.in_progress === true,
  };
}

/** "10 minutes" / "1 minute" / "61 minutes". */
export const minutesInWords = (minutes: number) => `${minutes} minute${minutes === 1 ? '' : 's'}`;

/** "7,523 steps of batch 128 in 10 minutes on one NVIDIA H100 80GB HBM3 GPU" for model `id`. */
export function trainedFor(id: string, manifest: Manifest = readManifest()): string {
  const run = trainingRun(manifest.models[id]);
  if (!run) throw new Error(`manifest.json: ${id} records no training run`);
  const batch = run.batchSize ? ` of batch ${run.batchSize.toLocaleString('en')}` : '';
  const time = run.minutes ? ` in ${minutesInWords(run.minutes)}` : '';
  return `${run.steps.toLocaleString('en')} steps${batch}${time} on ${run.where}`;
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
    `${r.steps.toLocaleString('en')} steps, ${r.minutes ? `${r.minutes} min ` : ''}on ${r.where}`;
  return run.fineTune ? `${short(run)}; then ${short(run.fineTune)} (fine-tune)` : short(run);
}
