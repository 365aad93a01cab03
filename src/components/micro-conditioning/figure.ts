/**
 * The micro-conditioning figure's element (MicroConditioning.astro): the size sweep and the crop
 * sweep, each one batched text-to-image run, and the single image at the reader's own conditions.
 *
 * Both actions go through the kit's run(), so they share its status strip, Stop and `data-state`:
 * "Generate both rows" (mode 'rows') and a slider coming to rest (mode 'custom'). A rows run ends by
 * painting the single image too, with the new prompt, seed and steps: before, it kept the previous
 * prompt's picture until a slider moved (issue 15, item 5). Sliders moved during a run wait for it
 * to end and then render once, so no run is cut short by another.
 */
import { sliceBatch, type Tensor } from '../../lib/diffusion/index';
import { highFrequencyEnergy } from '../../lib/image/sharpness';
import { addTimeIds, textToImage, type TextToImageVariant } from '../../lib/pipelines/text-to-image';
import { paintTensor } from '../shared/canvas';
import { chartColors, redrawOnResize, showChart } from '../shared/chart';
import { ModelFigure, type RunContext } from '../shared/model-figure';
import { restoreAfterRun } from '../shared/url-state';
import {
  CROPS,
  detailChart,
  formatTimeIds,
  MODELS,
  ORIGINAL_SIZES,
  referenceDetail,
  SLIDER_DEBOUNCE_MS,
  microConditioningModels,
  type DetailPoint,
  type MicroConditioningModels,
} from './micro-conditioning';

type Mode = 'rows' | 'custom';
type Conditions = Required<Pick<TextToImageVariant, 'originalSize' | 'cropsCoordsTopLeft'>>;

interface Settings {
  mode: Mode;
  prompt: string;
  numInferenceSteps: number;
  seed: number;
}

interface SweepResult {
  /** [N, 3, 32, 32], one picture per variant. */
  image: Tensor;
  detail: number[];
  /** [N, 6]: (original h, w, crop top, left, target h, w) per picture. */
  timeIds: number[][];
  totalMs: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const sameRow = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

export class MicroConditioning extends ModelFigure<Settings> {
  protected readonly modelIds = MODELS;
  /** Download: the size row, then the crop row and the single image. */
  protected readonly downloadColumns = ORIGINAL_SIZES.length;
  /** The last rows run, for tests (not drawn from). */
  result: { size: SweepResult; crop: SweepResult; provider: string } | null = null;
  private mode: Mode = 'rows';
  private customTimer: ReturnType<typeof setTimeout> | undefined;
  /** SDXL's target size once the models are loaded; (32, 32) is what the shipped decoder produces. */
  private targetSize: [number, number] = [32, 32];
  private reference: DetailPoint[] = [];
  private lastRun: DetailPoint[] = [];
  /** The time_ids row the single image was last painted with. */
  private painted: number[] | null = null;
  private resizeObserver?: ResizeObserver;

  private get customPart() {
    return this.querySelector<HTMLElement>('[data-sweep="custom"]')!;
  }

  protected setup() {
    this.customPart.querySelector('.sliders')!.addEventListener('input', () => this.conditionsChanged());
    this.showCustomConditions();
    const chart = this.querySelector<HTMLElement>('.chart')!;
    this.resizeObserver = redrawOnResize(chart, () => this.lastRun.length && this.drawChart());
  }

  disconnectedCallback() {
    this.resizeObserver?.disconnect();
    clearTimeout(this.customTimer);
  }

  /** "Generate both rows" (and Retry, and the benchmark): both sweeps, then the single image. */
  run(): Promise<void> {
    return this.runMode('rows');
  }

  private async runMode(mode: Mode) {
    clearTimeout(this.customTimer);
    this.mode = mode;
    this.customPart.dataset.state = 'running';
    await super.run();
    this.customPart.dataset.state = this.dataset.state;
    if (this.dataset.state !== 'done') return;
    // Moving a slider renders at once (weights and all), so a link's conditions wait for the reader's
    // Generate; set now, they render the single image as a slider move would.
    if (mode === 'rows') restoreAfterRun(this);
    // A slider moved while this ran: the single image follows it.
    if (!sameRow(this.customRow(), this.painted ?? [])) this.conditionsChanged();
  }

  protected readSettings(): Settings {
    return {
      mode: this.mode,
      prompt: this.value('prompt'),
      numInferenceSteps: this.integer('steps', 1, 100, 25),
      seed: this.seed(),
    };
  }

  protected async sample(settings: Settings, run: RunContext<never>): Promise<string> {
    const models = await microConditioningModels(run.models);
    this.targetSize = models.targetSize;
    if (settings.mode === 'custom') {
      const custom = await this.sampleCustom(models, settings, run);
      return `1 image (original size ${custom.timeIds[0][0]}, crop (${custom.timeIds[0][2]}, ${custom.timeIds[0][3]})) in ${seconds(custom.totalMs)} (${settings.numInferenceSteps} steps, guidance ${models.guidanceScale})`;
    }
    const encoding = models.models.tokenizer.encode(settings.prompt);
    this.showWords(encoding.unknown, encoding.dropped, models.models.tokenizer.contextLength - 2);
    this.reference = referenceDetail(run.models.sd_unet.entry);
    const [, target] = models.targetSize;
    const sizes = ORIGINAL_SIZES.map((s): Conditions => ({ originalSize: [s, s], cropsCoordsTopLeft: [0, 0] }));
    const size = await this.sweep(models, 'Original sizes', sizes, settings, run);
    this.drawRow('size', size, 2 * ORIGINAL_SIZES.length);
    this.lastRun = ORIGINAL_SIZES.map((s, i) => ({ originalSize: s, detail: size.detail[i] }));
    this.drawChart();
    const crops = CROPS.map((c): Conditions => ({ originalSize: [target, target], cropsCoordsTopLeft: c }));
    const crop = await this.sweep(models, 'Crops', crops, settings, run);
    this.drawRow('crop', crop, 2 * CROPS.length);
    this.result = { size, crop, provider: this.provider };
    // The single image from this run's prompt too: one of the rows' pictures when its conditions are
    // among theirs (the default ones are), else one more run.
    const row = this.customRow();
    const from = [size, crop].find((r) => r.timeIds.some((ids) => sameRow(ids, row)));
    const own = from
      ? this.paintCustom(
          from,
          from.timeIds.findIndex((ids) => sameRow(ids, row)),
        )
      : await this.sampleCustom(models, settings, run);
    const extra = from ? '' : `, your conditions in ${seconds(own.totalMs)}`;
    return `${ORIGINAL_SIZES.length} sizes in ${seconds(size.totalMs)}, ${CROPS.length} crops in ${seconds(crop.totalMs)}${extra} (${settings.numInferenceSteps} steps, guidance ${models.guidanceScale})`;
  }

  /** Which words the tiny CLIP will not see, said before the run rather than discovered after. */
  private showWords(unknown: string[], dropped: string[], limit: number) {
    const notice = this.querySelector<HTMLElement>('.notice.words')!;
    const parts = [];
    if (unknown.length)
      parts.push(
        `Not in the tiny CLIP's vocabulary, so read as an unknown token: ${unknown.map((w) => `“${w}”`).join(', ')}.`,
      );
    if (dropped.length) parts.push(`Past the ${limit}-word limit and left out: ${dropped.join(' ')}.`);
    notice.textContent = parts.join(' ');
    notice.hidden = parts.length === 0;
  }

  private drawChart() {
    const host = this.querySelector<HTMLElement>('.chart')!;
    showChart(host, detailChart(this.lastRun, this.reference, Math.max(260, host.clientWidth), chartColors(this)));
    const described = this.lastRun.map((p) => `${p.originalSize}: ${p.detail.toFixed(3)}`).join(', ');
    host.setAttribute('aria-label', `Detail against original size for this prompt (${described})`);
  }

  /** One batched text-to-image run over `variants`, with each picture's detail and time_ids. */
  private async sweep(
    models: MicroConditioningModels,
    label: string,
    variants: Conditions[],
    settings: Settings,
    run: RunContext<never>,
  ): Promise<SweepResult> {
    const result = await textToImage(models.models, {
      ...settings,
      guidanceScale: models.guidanceScale,
      targetSize: models.targetSize,
      variants,
      signal: run.signal,
      onStep: (step) => run.running(`${label}: step ${step.index + 1} of ${settings.numInferenceSteps}…`),
    });
    return {
      image: result.image,
      detail: highFrequencyEnergy(result.image),
      // The very function the pipeline builds its time_ids feed with, on the variants as it ran them.
      timeIds: result.variants.map((v) => addTimeIds(v, models.targetSize)),
      totalMs: result.totalMs,
    };
  }

  private drawRow(kind: 'size' | 'crop', result: SweepResult, batch: number) {
    const canvases = this.querySelectorAll<HTMLCanvasElement>(`[data-sweep="${kind}"] canvas`);
    const details = this.querySelectorAll<HTMLElement>(`[data-sweep="${kind}"] .detail`);
    canvases.forEach((canvas, i) => {
      paint(canvas, sliceBatch(result.image, i));
      const [h, w, top, left] = result.timeIds[i];
      const what = kind === 'size' ? `original size ${h} by ${w}` : `crop top-left (${top}, ${left})`;
      canvas.setAttribute('aria-label', `Generated with ${what}; detail ${result.detail[i].toFixed(3)}`);
      details[i].textContent = `detail ${result.detail[i].toFixed(3)}`;
    });
    this.querySelector(`pre.time-ids[data-sweep="${kind}"]`)!.textContent = formatTimeIds(result.timeIds, batch);
  }

  /** The single image's conditions as the sliders give them. */
  private customConditions(): Conditions {
    const slider = (name: string) => this.customPart.querySelector<HTMLInputElement>(`input[name="${name}"]`)!;
    const s = slider('originalSize').valueAsNumber;
    return {
      originalSize: [s, s],
      cropsCoordsTopLeft: [slider('cropTop').valueAsNumber, slider('cropLeft').valueAsNumber],
    };
  }

  private customRow(): number[] {
    return addTimeIds(this.customConditions() as Required<TextToImageVariant>, this.targetSize);
  }

  private showCustomConditions() {
    this.customPart.querySelector('pre.time-ids')!.textContent = formatTimeIds([this.customRow()], 2);
  }

  /** Readouts follow at once; the render waits for the sliders to rest, and for a run in flight to end. */
  private conditionsChanged() {
    this.showCustomConditions();
    clearTimeout(this.customTimer);
    if (this.dataset.state === 'running') return;
    this.customPart.dataset.state = 'pending';
    this.customTimer = setTimeout(() => void this.runMode('custom'), SLIDER_DEBOUNCE_MS);
  }

  /** One image at the sliders' conditions, from the prompt, seed and steps in the form. */
  private async sampleCustom(models: MicroConditioningModels, settings: Settings, run: RunContext<never>) {
    const result = await this.sweep(models, 'Your conditions', [this.customConditions()], settings, run);
    return this.paintCustom(result, 0);
  }

  /** Paints picture `i` of `result` as the single image, with its detail and time_ids. */
  private paintCustom(result: SweepResult, i: number): SweepResult {
    const part = this.customPart;
    const canvas = part.querySelector('canvas')!;
    paint(canvas, sliceBatch(result.image, i));
    const row = result.timeIds[i];
    const [h, w, top, left] = row;
    const detail = result.detail[i].toFixed(3);
    canvas.setAttribute(
      'aria-label',
      `Your conditions: original size ${h} by ${w}, crop top-left (${top}, ${left}); detail ${detail}`,
    );
    part.querySelector('.detail')!.textContent = `detail ${detail}`;
    part.querySelector('pre.time-ids')!.textContent = formatTimeIds([row], 2);
    this.painted = row;
    return result;
  }
}

/** Paints a generated picture and offers it to Download (a canvas not painted yet is left out). */
function paint(canvas: HTMLCanvasElement, image: Tensor) {
  paintTensor(canvas, image);
  canvas.dataset.download = '';
}
