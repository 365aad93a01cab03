/** Browser side of the step-cost figure: formatting and the bar chart of measured step times. */
import * as Plot from '@observablehq/plot';
import type { StepTiming } from '../../lib/pipelines/step-cost';
import { chartColors, figurePlot, showChart } from '../shared/chart';

export const MODELS = ['sd_unet', 'sd_unet_pixel_twin'] as const;
export type CostModel = (typeof MODELS)[number];
export const LABELS: Record<CostModel, string> = { sd_unet: 'latent step', sd_unet_pixel_twin: 'pixel step' };
/** CFG runs the unconditional and the text-conditioned copy of the sample as one batch. */
export const BATCH = 2;
export const SAMPLE_STEPS = 25;

/** 107062272 -> "107 MFLOP", 3251411712 -> "3.25 GFLOP". */
export function formatFlops(flops: number): string {
  if (!Number.isFinite(flops)) return '—';
  return flops >= 1e9 ? `${(flops / 1e9).toFixed(2)} GFLOP` : `${(flops / 1e6).toFixed(0)} MFLOP`;
}

/** Milliseconds with the precision a reader can use: 0.84 ms, 12.3 ms, 412 ms, 10.3 s, 31.1 min. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms.toFixed(ms < 10 ? 2 : ms < 100 ? 1 : 0)} ms`;
}

/** Two significant digits, so that a software GPU's 0.043 GFLOP/s does not read as 0.0. */
export function formatRate(gflopsPerSecond: number): string {
  if (!Number.isFinite(gflopsPerSecond)) return '—';
  return gflopsPerSecond >= 10 ? gflopsPerSecond.toFixed(0) : gflopsPerSecond.toPrecision(2);
}

export interface RunPoint {
  model: string;
  ms: number;
}

/** One bar per model (the median) with every timed run as a tick, on a shared linear axis. */
export function costChart(
  medians: RunPoint[],
  runs: RunPoint[],
  width: number,
  colors: { fg: string; bar: string; tick: string },
): SVGSVGElement | HTMLElement {
  // Seconds on the axis once steps take seconds (software GPUs), milliseconds otherwise.
  const seconds = Math.max(...runs.map((r) => r.ms), ...medians.map((m) => m.ms)) >= 5000;
  const x = (ms: number) => (seconds ? ms / 1000 : ms);
  return figurePlot(colors.fg, {
    width,
    height: 120,
    marginLeft: 86,
    marginRight: 96,
    x: { label: `${seconds ? 'seconds' : 'milliseconds'} per step (batch 2) →`, grid: true, nice: true, zero: true },
    y: { label: null, domain: medians.map((m) => m.model) },
    marks: [
      Plot.barX(medians, { x: (d: RunPoint) => x(d.ms), y: 'model', fill: colors.bar, fillOpacity: 0.85 }),
      Plot.tickX(runs, { x: (d: RunPoint) => x(d.ms), y: 'model', stroke: colors.tick, strokeWidth: 1.5 }),
      // The label sits past the slowest run so that it never covers a tick.
      Plot.text(medians, {
        x: (d: RunPoint) => x(Math.max(d.ms, ...runs.filter((r) => r.model === d.model).map((r) => r.ms))),
        y: 'model',
        text: (d: RunPoint) => `median ${formatMs(d.ms)}`,
        textAnchor: 'start',
        dx: 6,
        fill: colors.fg,
      }),
    ],
  });
}

/**
 * Table rows (ReadoutTable) that a timing run fills in: one per [label, cell], with a "–" cell per
 * model marked `data-cell="<id>-<cell>"` for the figure's script.
 */
export function measuredRows(ids: readonly string[], rows: readonly (readonly [string, string])[]) {
  return rows.map(([label, cell]) => ({
    cells: [label, ...ids.map((id) => ({ text: '–', attrs: { 'data-cell': `${id}-${cell}` } }))],
  }));
}

/**
 * Draws measured step times into the chart `host` (a bar per model at its median, a tick per run) in
 * `figure`'s colours, with the text alternative; returns the medians as words ("latent step 1.2 ms, …").
 */
export function showCostChart(
  figure: Element,
  host: HTMLElement,
  timings: Record<string, StepTiming>,
  labels: Readonly<Record<string, string>>,
): string {
  const ids = Object.keys(labels);
  const medians = ids.map((id) => ({ model: labels[id], ms: timings[id].medianMs }));
  const runs = ids.flatMap((id) => timings[id].runsMs.map((ms) => ({ model: labels[id], ms })));
  const { fg, series } = chartColors(figure);
  showChart(host, costChart(medians, runs, Math.max(280, host.clientWidth), { fg, bar: series[0], tick: fg }));
  const summary = medians.map((m) => `${m.model} ${formatMs(m.ms)}`).join(', ');
  host.setAttribute('aria-label', `Median milliseconds per step: ${summary}`);
  return summary;
}
