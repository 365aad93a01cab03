/**
 * How open each adaLN-Zero gate of our trained DiT is for a timestep and class: one DiT pass,
 * `adaln_gates` (mean |α| of the attention and MLP branch per block) drawn with Plot.
 */
import * as Plot from '@observablehq/plot';
import { ditGates } from '../../lib/pipelines/dit';
import { showChart } from '../shared/chart';
import { ModelFigure, type RunContext } from '../shared/model-figure';

interface Settings {
  timestep: number;
  classLabel: number;
  /** The category's name, for the chart's text alternative. */
  category: string;
}

interface GateRow {
  block: number;
  branch: string;
  gate: number;
}

/** Bars of the gates per block, one facet per branch; the series colours come from the page's theme. */
function gateChart(rows: GateRow[], width: number, style: CSSStyleDeclaration) {
  return Plot.plot({
    width,
    height: 220,
    style: { background: 'transparent', color: style.color },
    x: { label: 'block', tickFormat: (d: number) => String(d) },
    fx: { label: null, domain: ['attention', 'MLP'] },
    y: { label: 'mean |gate|', grid: true, zero: true },
    color: {
      domain: ['attention', 'MLP'],
      range: [style.getPropertyValue('--series-1').trim(), style.getPropertyValue('--series-2').trim()],
      legend: true,
    },
    marks: [
      Plot.barY(rows, { x: 'block', y: 'gate', fill: 'branch', fx: 'branch' }),
      Plot.ruleY([0]),
      Plot.tip(
        rows,
        Plot.pointerX({
          x: 'block',
          y: 'gate',
          fx: 'branch',
          title: (d: GateRow) => `block ${d.block}, ${d.branch}: ${d.gate.toFixed(3)}`,
        }),
      ),
    ],
  });
}

/** Reads and plots the per-block adaLN-Zero gates for the reader's timestep and class. */
export class DitGates extends ModelFigure<Settings> {
  protected readonly modelIds = ['dit'];
  result: { attention: number[]; mlp: number[] } | null = null;
  private rows: GateRow[] = [];

  protected setup() {
    // Once the model has run, the chart follows the slider and the category.
    const live = () => this.result && this.rerun();
    this.querySelector('input[name="timestep"]')!.addEventListener('input', live);
    this.querySelector('select[name="category"]')!.addEventListener('change', live);
    new ResizeObserver(() => this.rows.length && this.draw()).observe(this.chart);
  }

  private get chart() {
    return this.querySelector<HTMLElement>('.chart')!;
  }

  private draw() {
    showChart(this.chart, gateChart(this.rows, Math.max(300, this.chart.clientWidth), getComputedStyle(this)));
  }

  protected readSettings(): Settings {
    const select = this.querySelector<HTMLSelectElement>('select[name="category"]')!;
    return {
      timestep: this.integer('timestep', 0, 999, 500),
      classLabel: Number(select.value),
      category: select.selectedOptions[0]?.text ?? select.value,
    };
  }

  protected async sample({ timestep, classLabel, category }: Settings, run: RunContext<never>): Promise<string> {
    const shape = this.dataset.latentShape!.split(',').map(Number) as [number, number, number];
    const start = performance.now();
    const gates = await ditGates(run.models.dit, timestep, classLabel, shape, run.signal);
    const ms = performance.now() - start;
    this.result = gates;
    this.rows = [
      ...gates.attention.map((gate, i) => ({ block: i + 1, branch: 'attention', gate })),
      ...gates.mlp.map((gate, i) => ({ block: i + 1, branch: 'MLP', gate })),
    ];
    this.draw();
    const list = (xs: number[]) => xs.map((g) => g.toFixed(2)).join(', ');
    this.chart.setAttribute(
      'aria-label',
      `Mean gate magnitude per block at t = ${timestep}, ${category}: attention ${list(gates.attention)}; MLP ${list(gates.mlp)}`,
    );
    return `one DiT pass at t = ${timestep} in ${ms.toFixed(1)} ms`;
  }
}

customElements.define('dit-gates', DitGates);
