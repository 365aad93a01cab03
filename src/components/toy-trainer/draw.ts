/** Drawing the in-page trainer: its loss curve (Observable Plot) and its two planes. */
import * as Plot from '@observablehq/plot';
import { showChart } from '../shared/chart';
import { drawPlane, type PlaneLayers } from '../toy2d-shared/plane';
import { DENSITY_SIZE, GRID, lossDomain, smoothed, type Fields } from './model';

/** The loss per step (a 25-step moving average) over the exact field's loss, dashed. */
export function drawLossChart(host: HTMLElement, losses: number[], floor: number, fg: string) {
  const rows = losses.map((loss, i) => ({ step: i + 1, loss }));
  const chart = Plot.plot({
    width: Math.max(260, host.clientWidth || 600),
    height: 160,
    marginLeft: 48,
    clip: true,
    style: { background: 'transparent', color: fg, fontSize: '11px' },
    x: { label: 'training step', domain: [0, Math.max(100, rows.length)] },
    y: { label: 'loss (MSE)', grid: true, domain: lossDomain(losses, floor) },
    marks: [
      Plot.lineY(rows, Plot.windowY({ k: 25, anchor: 'end' }, { x: 'step', y: 'loss', stroke: 'var(--series-1)' })),
      Number.isFinite(floor) ? Plot.ruleY([floor], { strokeDasharray: '4 3', stroke: fg }) : null,
    ],
  });
  showChart(host, chart);
  host.setAttribute(
    'aria-label',
    rows.length
      ? `Training loss over ${rows.length} steps, now ${smoothed(losses).toFixed(3)}; the exact field's loss is ${floor.toFixed(3)}`
      : 'Training loss: no training yet',
  );
}

/** Both planes at one noise level: the same shading; exact arrows and samples, and the network's. */
export function drawFields(
  learnedCanvas: HTMLCanvasElement,
  exactCanvas: HTMLCanvasElement,
  fields: Fields,
  samples: { exact: Float32Array | null; learned: Float32Array | null },
  marks: PlaneLayers['marks'],
) {
  const { density, exact, learned, scale } = fields;
  const shading = { logDensity: density, densitySize: DENSITY_SIZE };
  drawPlane(exactCanvas, {
    ...shading,
    arrows: [{ points: GRID, vectors: exact, color: 'var(--fg-muted)', scale }],
    particles: samples.exact ? [{ points: samples.exact, color: 'var(--series-1)', radius: 1.3 }] : [],
    marks,
  });
  drawPlane(learnedCanvas, {
    ...shading,
    arrows: learned ? [{ points: GRID, vectors: learned, color: 'var(--series-4)', scale }] : [],
    particles: samples.learned ? [{ points: samples.learned, color: 'var(--series-4)', radius: 1.3 }] : [],
    marks,
  });
}
