/**
 * The DiT sampler figure: class-conditional sampling with our mini DiT, the model's guess of the clean
 * picture (x̂₀) at every recorded step, and the attention of a token the reader picks, per block and head.
 */
import { scale, type Tensor } from '../../lib/diffusion/index';
import { attentionRow, sampleDit, type DitStepRecord } from '../../lib/pipelines/dit';
import { decode } from '../../lib/pipelines/vae';
import type { ModelRunner, TrainedSchedulerConfig } from '../../lib/runtime/index';
import { median, paintTensor } from '../shared/canvas';
import { ModelFigure, type RunContext } from '../shared/model-figure';
import { bindValueToUrl, syncUrl } from '../shared/url-state';
import { paintMatrix, sequentialColor } from '../dit-common/heatmap';
import { tokenAfterKey } from './token-grid';

interface Settings {
  classLabel: number;
  /** The category's name, for the sample's label. */
  category: string;
  guidanceScale: number;
  numInferenceSteps: number;
  seed: number;
}

/** What the scrubber keeps of a step; `x0Image` is filled the first time the step is shown. */
interface DitStep extends Pick<DitStepRecord, 'timestep' | 'attentionProbs' | 'predOriginalSample'> {
  /** predOriginalSample decoded by the VAE, [1, 3, 32, 32] in [-1, 1]. */
  x0Image?: Promise<Tensor>;
}

/** Samples a category with the DiT, shows x̂₀ at each step and the attention of a picked token. */
export class DitSampler extends ModelFigure<Settings, DitStep> {
  protected readonly modelIds = ['dit', 'vae_decoder'];
  /** The last result, for tests and the benchmark (not drawn from). */
  result: { image: Tensor; stepMs: number[]; totalMs: number; provider: string } | null = null;
  private token = 5;
  private decoder: ModelRunner | null = null;
  private scalingFactor = 1;
  /** The step whose x̂₀ the picture should show, and whether a decode is under way. */
  private wantedX0: { step: DitStep; label: string } | null = null;
  private decodingX0 = false;

  private get grid(): number {
    return Number(getComputedStyle(this).getPropertyValue('--grid')) || 4;
  }

  protected setup() {
    this.querySelector('select[name="block"]')!.addEventListener('change', () => this.redraw());
    const buttons = [...this.querySelectorAll<HTMLButtonElement>('.token-grid button')];
    buttons.forEach((b) => b.addEventListener('click', () => this.pick(Number(b.dataset.token))));
    this.querySelector('.token-grid')!.addEventListener('keydown', (event) => {
      const next = tokenAfterKey((event as KeyboardEvent).key, this.token, this.grid);
      if (next === null) return;
      event.preventDefault();
      this.pick(next);
      buttons[next].focus();
    });
    this.pick(this.token);
    bindValueToUrl(this, {
      spec: { name: 'token', kind: 'number', min: 0, max: buttons.length - 1, step: 1 },
      get: () => String(this.token),
      set: (value) => this.pick(Number(value)),
    });
  }

  private pick(token: number) {
    this.token = token;
    const grid = this.grid;
    this.querySelectorAll<HTMLButtonElement>('.token-grid button').forEach((b) => {
      const on = Number(b.dataset.token) === token;
      b.setAttribute('aria-checked', String(on));
      b.tabIndex = on ? 0 : -1;
    });
    this.style.setProperty('--qx', String(token % grid));
    this.style.setProperty('--qy', String(Math.floor(token / grid)));
    this.redraw();
    syncUrl(this);
  }

  /** Redraws the step on the scrubber (after the block or the token changed). */
  private redraw() {
    const slider = this.stepSlider;
    if (slider && this.steps.length) this.showStep(slider.valueAsNumber);
  }

  protected readSettings(): Settings {
    const select = this.querySelector<HTMLSelectElement>('select[name="category"]')!;
    return {
      classLabel: Number(select.value),
      category: select.selectedOptions[0]?.text ?? select.value,
      guidanceScale: Number(this.value('guidance')),
      numInferenceSteps: this.integer('steps', 1, 200, 25),
      seed: this.seed(),
    };
  }

  protected drawStep(step: DitStep, i: number, count: number) {
    // x̂₀ waits for the run to end: a decode costs about a guided DiT step, and live ones (one per
    // preview repaint) made a 25-step run half as slow again on WebAssembly.
    if (this.dataset.state !== 'running') {
      this.showX0(step, `Predicted clean picture x̂₀ at step ${i + 1} of ${count}, t = ${Math.round(step.timestep)}`);
    }
    const block = Number(this.querySelector<HTMLSelectElement>('select[name="block"]')!.value);
    const [, , heads, tokens] = step.attentionProbs.shape; // [1, depth, heads, T, T]
    const grid = Math.round(Math.sqrt(tokens));
    for (let h = 0; h < heads; h++) {
      const canvas = this.querySelector<HTMLCanvasElement>(`canvas[data-head="${h}"]`);
      if (!canvas) continue;
      const row = attentionRow(step.attentionProbs, block, h, this.token); // [T]
      const max = Math.max(...row);
      paintMatrix(canvas, row, grid, grid, (v) => sequentialColor(v, max));
      canvas.setAttribute(
        'aria-label',
        `Head ${h + 1}, block ${block + 1}: token ${this.token + 1} attends most to token ${row.indexOf(max) + 1} (${(max * 100).toFixed(0)}%), weight on itself ${(row[this.token] * 100).toFixed(0)}%`,
      );
    }
  }

  /**
   * Paints a step's x̂₀, which the VAE decodes the first time the step is shown (one batch-1 call), so
   * sampling pays for none of them and the scrubber and Play decode each step once. One decode at a
   * time: the latest step asked for wins.
   */
  private async showX0(step: DitStep, label: string) {
    this.wantedX0 = { step, label };
    if (this.decodingX0) return;
    this.decodingX0 = true;
    const canvas = this.querySelector<HTMLCanvasElement>('canvas[data-panel="x0"]')!;
    try {
      while (this.wantedX0) {
        const wanted = this.wantedX0;
        this.wantedX0 = null;
        const decoder = this.decoder!;
        wanted.step.x0Image ??= decode(decoder, scale(wanted.step.predOriginalSample, 1 / this.scalingFactor));
        const image = await wanted.step.x0Image;
        // A newer step is wanted, or a new run has started (its x̂₀ waits for it to end).
        if (this.wantedX0 || this.dataset.state === 'running') continue;
        paintTensor(canvas, image);
        canvas.setAttribute('aria-label', wanted.label);
      }
    } catch (error) {
      this.status.fail(error);
    } finally {
      this.decodingX0 = false;
    }
  }

  protected async sample(settings: Settings, run: RunContext<DitStep>): Promise<string> {
    const { dit, vae_decoder: decoder } = run.models;
    this.decoder = decoder;
    this.scalingFactor = Number(this.dataset.scalingFactor || decoder.entry.scaling_factor);
    const x0 = this.querySelector<HTMLCanvasElement>('canvas[data-panel="x0"]')!;
    this.wantedX0 = null;
    x0.getContext('2d')!.clearRect(0, 0, x0.width, x0.height);
    x0.setAttribute('aria-label', 'Predicted clean picture x̂₀: shown when sampling ends');
    const stepMs: number[] = [];
    run.running(`Sampling: 0 of ${settings.numInferenceSteps} steps…`);
    const result = await sampleDit(dit, decoder, dit.entry.scheduler as TrainedSchedulerConfig, {
      ...settings,
      nullClassLabel: Number(this.dataset.nullClass),
      latentShape: this.dataset.latentShape!.split(',').map(Number) as [number, number, number],
      scalingFactor: this.scalingFactor,
      signal: run.signal,
      onStep: (step) => {
        stepMs.push(step.ms);
        const { timestep, attentionProbs, predOriginalSample } = step;
        run.record({ timestep, attentionProbs, predOriginalSample });
        run.running(`Sampling: ${step.index + 1} of ${settings.numInferenceSteps} steps…`);
      },
    });
    const canvas = this.querySelector<HTMLCanvasElement>('.final canvas')!;
    paintTensor(canvas, result.image);
    canvas.setAttribute(
      'aria-label',
      `Generated emoji of the category ${settings.category}, guidance ${settings.guidanceScale}, ${settings.numInferenceSteps} steps, seed ${settings.seed}`,
    );
    this.result = { image: result.image, stepMs, totalMs: result.totalMs, provider: this.provider };
    return `${settings.numInferenceSteps} steps in ${(result.totalMs / 1000).toFixed(2)} s (median ${median(stepMs).toFixed(1)} ms per step) + decode ${result.decodeMs.toFixed(1)} ms`;
  }
}

customElements.define('dit-sampler', DitSampler);
