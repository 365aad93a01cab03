import * as Plot from '@observablehq/plot';

/**
 * Puts an Observable Plot chart into its `role="img"` host, whose aria-label is the chart's text
 * alternative. Plot labels each mark's group ("line", "dot", "tip"); on groups without text that is
 * invalid ARIA and only noise, so the drawing itself is hidden from assistive technology.
 */
export function showChart(host: HTMLElement, chart: Element) {
  chart.setAttribute('aria-hidden', 'true');
  host.replaceChildren(chart);
}

/** Plot.plot in the figures' frame: no background of its own (the figure's shows through), text in `fg`. */
export function figurePlot(fg: string, options: Plot.PlotOptions): ReturnType<typeof Plot.plot> {
  return Plot.plot({ ...options, style: { background: 'transparent', color: fg } });
}

/** The colours a chart draws with, resolved from the figure's CSS (Plot needs values, not var()). */
export function chartColors(figure: Element): { fg: string; series: [string, string] } {
  const style = getComputedStyle(figure);
  const color = (name: string) => style.getPropertyValue(name).trim();
  return { fg: style.color, series: [color('--series-1'), color('--series-2')] };
}

/**
 * Calls `redraw` when `host` gets wider or narrower by more than a few pixels (a window resized, a
 * phone turned), not for the height a redraw itself changes. Returns the observer, to disconnect.
 */
export function redrawOnResize(host: HTMLElement, redraw: () => void): ResizeObserver {
  let width = host.clientWidth;
  const observer = new ResizeObserver(() => {
    const now = host.clientWidth;
    if (Math.abs(now - width) > 8) redraw();
    width = now;
  });
  observer.observe(host);
  return observer;
}
