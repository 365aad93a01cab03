/**
 * Drawing the schedule explorer: three Plot charts against the timestep (beta, alpha-bar, log SNR),
 * the cursor's dots on each selected curve, and the readout table's rows. The numbers come from
 * ./model; the figure (ScheduleExplorer.astro) only wires the slider and the checkboxes to these.
 */
import * as Plot from '@observablehq/plot';
import {
  chartFrame,
  moveCursor,
  seriesColor,
  svgElement,
  withCursor,
  type CursorChart,
} from '../ddpm-common/timestep-chart';
import {
  SCHEDULE_PRESETS,
  computeCurves,
  formatValue,
  toRows,
  valuesAt,
  type CurveRow,
  type CursorValues,
  type ScheduleCurves,
} from './model';

export type PanelKey = 'beta' | 'alphaBar' | 'logSnr';

export const PANELS: {
  key: PanelKey;
  label: string;
  type: 'log' | 'linear';
  /** A linear axis's tick spacing; a log axis ticks at the powers of ten. */
  tickStep?: number;
  description: string;
}[] = [
  { key: 'beta', label: 'βₜ (log scale)', type: 'log', description: 'the variance of the noise added at step t' },
  {
    key: 'alphaBar',
    label: 'ᾱₜ',
    type: 'linear',
    tickStep: 0.2,
    description: 'the fraction of the signal variance left at t',
  },
  {
    key: 'logSnr',
    label: 'log SNR(t)',
    type: 'linear',
    tickStep: 5,
    description: 'the log signal-to-noise ratio of x_t',
  },
];

/** The curves never change for a preset, so compute each once per page. */
const curveCache = new Map<string, ScheduleCurves>();
export function curvesFor(id: string): ScheduleCurves {
  let c = curveCache.get(id);
  if (!c) {
    c = computeCurves(SCHEDULE_PRESETS.find((p) => p.id === id)!);
    curveCache.set(id, c);
  }
  return c;
}

/** Each preset's colour, in the order of the legend's swatches. */
export function scheduleColors(el: Element): Map<string, string> {
  return new Map(SCHEDULE_PRESETS.map((p, i) => [p.id, seriesColor(el, i + 1)]));
}

/** The rows every chart plots: log SNR is infinite at an alpha-bar of exactly 0 or 1, and Plot cannot place it. */
export function chartRows(selected: string[]): CurveRow[] {
  return toRows(selected.map(curvesFor)).filter((r) => Number.isFinite(r.logSnr));
}

/** A chart's y axis: its scale type, its domain and, on a linear axis, its ticks. */
export interface YAxis {
  type: 'log' | 'linear';
  domain: [number, number];
  ticks?: number[];
}

/**
 * The y axis of one chart, the same whichever schedules are shown (toggling one does not rescale the
 * others), and running from tick to tick over every preset's values: every curve ends inside the
 * labelled axis. Cosine's log SNR plunges to about −20 at t = 999, the near-pure noise it is designed
 * to end at; the axis reaches down to it rather than cutting the plunge off.
 */
export function yAxis(key: PanelKey): YAxis {
  let axis = axes.get(key);
  if (!axis) axes.set(key, (axis = computeYAxis(key)));
  return axis;
}
const axes = new Map<PanelKey, YAxis>();

function computeYAxis(key: PanelKey): YAxis {
  const { type, tickStep } = PANELS.find((p) => p.key === key)!;
  const values = chartRows(SCHEDULE_PRESETS.map((p) => p.id))
    .map((r) => r[key])
    .filter((v) => Number.isFinite(v) && (type === 'linear' || v > 0));
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  if (type === 'log') return { type, domain: [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi))] };
  const step = tickStep!;
  const [first, last] = [Math.floor(lo / step), Math.ceil(hi / step)];
  // Ticks as multiples of the step, rounded so that 3 × 0.2 prints as 0.6.
  const ticks = Array.from({ length: last - first + 1 }, (_, i) => Number(((first + i) * step).toFixed(10)));
  return { type, domain: [ticks[0], ticks[ticks.length - 1]], ticks };
}

/** One chart, one line per selected schedule, on the axis `yAxis` gives it. */
export function drawChart(
  host: HTMLElement,
  key: PanelKey,
  rows: CurveRow[],
  selected: string[],
  colors: Map<string, string>,
  fg: string,
): CursorChart {
  const spec = PANELS.find((p) => p.key === key)!;
  const plot = Plot.plot({
    ...chartFrame(host, fg),
    x: { label: 'timestep t', domain: [0, 999] },
    y: { label: spec.label, grid: true, ...yAxis(key) },
    color: { domain: [...colors.keys()], range: [...colors.values()] },
    ariaLabel: `${spec.label} against timestep for ${selected.join(', ') || 'no schedule'}`,
    ariaDescription: `Line chart of ${spec.description}, one line per selected schedule.`,
    marks: [
      // The svg's label and description say what the marks show; Plot's own "line" and "rule"
      // labels on text-less groups are noise to a screen reader (and invalid ARIA for axe).
      Plot.ruleY(key === 'logSnr' ? [0] : [], { ariaHidden: 'true' }),
      Plot.lineY(rows, { x: 't', y: (r: CurveRow) => r[key], stroke: 'schedule', strokeWidth: 2, ariaHidden: 'true' }),
    ],
  });
  host.replaceChildren(plot);
  return withCursor(plot);
}

/** The cursor at t on one chart: the dashed line and a dot where it crosses each curve. */
export function drawCursor(
  chart: CursorChart,
  key: PanelKey,
  t: number,
  values: CursorValues[],
  colors: Map<string, string>,
) {
  const x = chart.x.apply(t) as number;
  const dots = values
    // A log axis has no place for beta = 0.
    .filter((v) => Number.isFinite(v[key]) && (key !== 'beta' || v.beta > 0))
    .map((v) =>
      svgElement('circle', {
        cx: x,
        cy: chart.y.apply(v[key]) as number,
        r: 4,
        fill: colors.get(v.id)!,
        stroke: 'var(--bg-raised)',
      }),
    );
  moveCursor(chart, t, dots);
}

/** The readout's rows at t: each schedule's beta, alpha-bar, signal and noise scales, log SNR. */
export function readoutRows(selected: string[], t: number): { values: CursorValues[]; rows: HTMLTableRowElement[] } {
  const values = selected.map((id) => valuesAt(curvesFor(id), t));
  const rows = values.map((v) => {
    const row = document.createElement('tr');
    row.dataset.schedule = v.id;
    const name = document.createElement('th');
    name.scope = 'row';
    name.textContent = SCHEDULE_PRESETS.find((p) => p.id === v.id)!.label;
    row.append(name);
    for (const value of [v.beta, v.alphaBar, v.signal, v.noise, v.logSnr]) {
      const cell = document.createElement('td');
      cell.textContent = formatValue(value);
      row.append(cell);
    }
    return row;
  });
  return { values, rows };
}
