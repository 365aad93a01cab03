/** The plan of the models page's timing figure: what one call of each shipped model is, and how many make a sample. */
import type { ModelEntry } from '../../lib/runtime/manifest';

export interface TimingPlanRow {
  id: string;
  /** Batch of one call: 2 when the model samples with classifier-free guidance (both halves in one call). */
  batch: number;
  /** Denoising steps of the recommended sampler, or null for a model called once (encoders, judges, twins). */
  steps: number | null;
}

/** One row per model in manifest order, read from each entry's `recommended_sampling`. */
export function timingPlan(models: Record<string, ModelEntry>): TimingPlanRow[] {
  return Object.entries(models).map(([id, entry]) => {
    const sampling = entry.recommended_sampling;
    const steps = sampling?.steps ?? null;
    const guided = sampling !== undefined && sampling.guidance_scale > 1;
    return { id, batch: guided ? 2 : 1, steps };
  });
}

/** What a whole sample costs in calls of this model alone (no text encoder, no decoder), or null. */
export function sampleMs(row: TimingPlanRow, medianMs: number): number | null {
  return row.steps === null ? null : row.steps * medianMs;
}

/** "25 steps, guidance (batch 2)", "25 steps (batch 1)" or "one call". */
export function callLabel(row: TimingPlanRow): string {
  if (row.steps === null) return 'one call';
  return row.batch === 2 ? `${row.steps} steps, guidance (batch 2)` : `${row.steps} steps (batch 1)`;
}
