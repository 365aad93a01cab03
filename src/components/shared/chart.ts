/**
 * Puts an Observable Plot chart into its `role="img"` host, whose aria-label is the chart's text
 * alternative. Plot labels each mark's group ("line", "dot", "tip"); on groups without text that is
 * invalid ARIA and only noise, so the drawing itself is hidden from assistive technology.
 */
export function showChart(host: HTMLElement, chart: Element) {
  chart.setAttribute('aria-hidden', 'true');
  host.replaceChildren(chart);
}
