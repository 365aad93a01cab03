/**
 * What the DDPM chapter's schedule charts (schedule explorer, posterior) share: their size and look,
 * the theme's series colours, and the dashed cursor at the chosen timestep that the slider moves
 * without redrawing the chart.
 */
import type * as Plot from '@observablehq/plot';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The options every timestep chart starts from: as wide as its host, 220 px tall, transparent. */
export function chartFrame(host: HTMLElement, color: string) {
  return {
    width: Math.max(240, host.clientWidth || 300),
    height: 220,
    marginLeft: 52,
    style: { background: 'transparent', color, fontSize: '11px' },
  };
}

/** The theme's `--series-n` colour (Plot's colour range needs the value, not the variable). */
export function seriesColor(el: Element, n: number): string {
  return getComputedStyle(el).getPropertyValue(`--series-${n}`).trim() || 'currentColor';
}

/** A drawn chart with its scales and the group its cursor is drawn in. */
export interface CursorChart {
  svg: SVGSVGElement;
  x: Plot.Scale;
  y: Plot.Scale;
  /** `g.cursor`: the dashed line, and whatever a figure adds (dots on its curves). */
  cursor: SVGGElement;
}

/** Gives a chart made by Plot.plot its cursor group. */
export function withCursor(plot: Element): CursorChart {
  const svg = plot as SVGSVGElement & Plot.Plot;
  const cursor = document.createElementNS(SVG_NS, 'g');
  cursor.setAttribute('class', 'cursor');
  svg.append(cursor);
  return { svg, x: svg.scale('x')!, y: svg.scale('y')!, cursor };
}

/** Redraws the cursor at timestep t: a dashed line across the chart's height, then `extras`. */
export function moveCursor(chart: CursorChart, t: number, extras: SVGElement[] = []): number {
  const x = chart.x.apply(t) as number;
  const [y0, y1] = chart.y.range as [number, number];
  const line = svgElement('line', { x1: x, x2: x, y1: y0, y2: y1, stroke: 'currentColor', 'stroke-dasharray': '3 3' });
  chart.cursor.replaceChildren(line, ...extras);
  return x;
}

export function svgElement(name: string, attributes: Record<string, string | number>): SVGElement {
  const el = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, String(value));
  return el;
}
