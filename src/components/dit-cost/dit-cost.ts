/**
 * The DiT chapter's step-cost figure: one step of the mini SD UNet and one of the mini DiT, timed on
 * the reader's device with the latent-diffusion chapter's step-cost code.
 */
import { costRow, type StepTiming } from '../../lib/pipelines/step-cost';
import { showChart } from '../shared/chart';
import { ModelFigure, type RunContext } from '../shared/model-figure';
import { timeModelSteps } from '../shared/step-timing';
import { BATCH, costChart, formatMs, formatRate } from '../latent-cost/latent-cost';
import { DIT_COST_LABELS, DIT_COST_MODELS } from './models';

/** Times one step of the mini SD UNet and of the mini DiT. */
export class DitCost extends ModelFigure<number> {
  protected readonly modelIds = DIT_COST_MODELS;
  result: { timings: Record<string, StepTiming>; provider: string } | null = null;

  /** Timed runs per model. */
  protected readSettings(): number {
    return this.integer('runs', 1, 99, 5);
  }

  protected async sample(runs: number, run: RunContext<never>): Promise<string> {
    const timings = await timeModelSteps(run.models, DIT_COST_LABELS, run, { runs, batch: BATCH });
    for (const id of DIT_COST_MODELS) {
      const row = costRow(timings[id], Number(run.models[id].entry.flops_per_sample), BATCH);
      this.querySelector(`[data-cell="${id}-ms"]`)!.textContent = formatMs(row.stepMs);
      this.querySelector(`[data-cell="${id}-gflops"]`)!.textContent = formatRate(row.gflopsPerSecond);
    }
    const medians = DIT_COST_MODELS.map((id) => ({ model: DIT_COST_LABELS[id], ms: timings[id].medianMs }));
    const each = DIT_COST_MODELS.flatMap((id) => timings[id].runsMs.map((ms) => ({ model: DIT_COST_LABELS[id], ms })));
    const host = this.querySelector<HTMLElement>('.chart')!;
    const style = getComputedStyle(this);
    const colors = { fg: style.color, bar: style.getPropertyValue('--series-1').trim(), tick: style.color };
    showChart(host, costChart(medians, each, Math.max(280, host.clientWidth), colors));
    const summary = medians.map((m) => `${m.model} ${formatMs(m.ms)}`).join(', ');
    host.setAttribute('aria-label', `Median milliseconds per step: ${summary}`);
    this.result = { timings, provider: this.provider };
    return `${runs} timed runs per model after a warm-up: ${summary} per step`;
  }
}

customElements.define('dit-cost', DitCost);
