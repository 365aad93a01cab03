/** The thresholding figure's chart: how far each mode's raw x0 prediction reaches at each step. */
import * as Plot from '@observablehq/plot';
import { showChart } from '../shared/chart';
import { MODES, type ReachPoint } from './model';

/**
 * Draws `points` (one line per mode, the p-th percentile of |x0| per step) into `host`, with the edge
 * of the data range (1) and the largest s dynamic thresholding may divide by, and says it in words.
 */
export function drawReachChart(host: HTMLElement, points: ReachPoint[], percentile: number, maxValue: number) {
  const style = getComputedStyle(host);
  const series = [1, 2, 3].map((i) => style.getPropertyValue(`--series-${i}`).trim() || 'currentColor');
  const p = percentile.toFixed(1);
  const note = (y: number, label: string, x: number, textAnchor: 'start' | 'end', dy: number) =>
    Plot.text([{ y, label }], { x, y: 'y', text: 'label', textAnchor, dy, fontSize: 10 });
  showChart(
    host,
    Plot.plot({
      width: Math.max(280, host.clientWidth),
      height: 220,
      style: { background: 'transparent', color: style.color },
      x: { label: 'step →', tickFormat: (d: number) => String(d) },
      y: { label: `${p}th percentile of |x̂₀|`, grid: true, zero: true },
      color: { domain: MODES.map((m) => m.label), range: series, legend: true },
      marks: [
        Plot.ruleY([1], { strokeDasharray: '4 3' }),
        Plot.ruleY([maxValue], { strokeDasharray: '1 3' }),
        note(1, 'edge of the data range', 1, 'start', 8),
        note(maxValue, `largest s = ${maxValue}`, points.at(-1)?.step ?? 1, 'end', -6),
        Plot.line(points, { x: 'step', y: 'reach', stroke: 'mode', strokeWidth: 2 }),
        Plot.tip(
          points,
          Plot.pointerX({
            x: 'step',
            y: 'reach',
            title: (d: ReachPoint) => `${d.mode}, step ${d.step}: ${d.reach.toFixed(2)}`,
          }),
        ),
      ],
    }),
  );
  const first = (mode: string) => points.find((point) => point.mode === mode)?.reach ?? 0;
  host.setAttribute(
    'aria-label',
    `Chart: the ${p}th percentile of |x̂₀| per step; at the first step ` +
      MODES.map((m) => `${m.label.toLowerCase()} ${first(m.label).toFixed(2)}`).join(', '),
  );
}
