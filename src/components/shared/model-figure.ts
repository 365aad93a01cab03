/**
 * The figure kit: one base class for every figure that runs models. A figure supplies its models,
 * how it reads its settings, `sample(settings, run)` and, if it records steps, `drawStep`. The base
 * owns the rest, so that no figure wires it again (and no copy of it goes stale):
 *
 * - the ModelStatus strip (loading, progress, errors with Retry, which engine runs it);
 * - Run and Stop (one AbortController a run), `data-state` for tests and the benchmark;
 * - the range sliders' printed values;
 * - the recorded steps: live preview while sampling (at most ten repaints a second), the step
 *   scrubber afterwards, its readout, and Play;
 * - Download, which saves the figure's generated pictures (canvases marked `data-download`) as one PNG.
 */
import { downloadCanvases } from './download';
import { clampInteger, clampNumber, MAX_SEED } from './form';
import { ModelStatusController, type LoadedModels } from './model-status';
import { openScrubber, StepPlayer } from './scrubber';

/** How often a running sample repaints its step panels (ms): every repaint competes with the model for the cores. */
const PAINT_INTERVAL_MS = 100;

/** What `sample` gets for one run. */
export interface RunContext<Step> {
  models: LoadedModels;
  signal: AbortSignal;
  /** Keeps a step for the scrubber (and the live preview). */
  record(step: Step): void;
  /** Shows a progress line ("Sampling: 3 of 25 steps…"). */
  running(text: string): void;
}

export abstract class ModelFigure<Settings, Step = never> extends HTMLElement {
  /** The manifest ids of the models the figure runs, loaded together on the first run. */
  protected abstract readonly modelIds: readonly string[];
  /** Reads the figure's controls, clamped to what it accepts. */
  protected abstract readSettings(): Settings;
  /** One run: returns the status line to show (what ran, how long it took). */
  protected abstract sample(settings: Settings, run: RunContext<Step>): Promise<string>;

  /** Draws recorded step `index` of `count`; figures that record no steps leave it alone. */
  protected drawStep(_step: Step, _index: number, _count: number): void {}
  /** The scrubber's readout for a step. */
  protected stepLabel(step: Step, index: number, count: number): string {
    const t = (step as { timestep?: number }).timestep;
    return t === undefined ? `${index + 1} of ${count}` : `${index + 1} of ${count}, t = ${Math.round(t)}`;
  }
  /** Where the scrubber rests when a run ends (the last step: the finished picture). */
  protected restingStep(count: number): number {
    return count - 1;
  }
  /** Extra wiring, called once after the kit's. */
  protected setup(): void {}
  /** Download lays the pictures out in rows of this many (a figure's grid stays a grid); one row when unset. */
  protected readonly downloadColumns?: number;
  /** What a range slider's `<output>` prints ("0.40", "80.0%"): its value, unless the figure says otherwise. */
  protected sliderText(input: HTMLInputElement): string {
    return input.value;
  }

  protected status!: ModelStatusController;
  protected form!: HTMLFormElement;
  /** The steps of the last run, finished or stopped. */
  protected steps: Step[] = [];
  private controller: AbortController | null = null;
  /** The run in progress (or a resolved promise): a new run starts when it has ended. */
  private tail: Promise<void> = Promise.resolve();
  private generation = 0;
  private player: StepPlayer | null = null;
  /** A rerun asked for while a run was in progress (see rerun). */
  private queued = false;

  connectedCallback() {
    this.form = this.querySelector('form')!;
    this.status = new ModelStatusController(this.querySelector('.model-status')!, [...this.modelIds], () => this.run());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.run();
    });
    this.button('stop')?.addEventListener('click', () => this.controller?.abort());
    this.button('download')?.addEventListener('click', () => this.download());
    for (const output of this.querySelectorAll<HTMLOutputElement>('.range-row output[for]')) {
      const input = this.querySelector<HTMLInputElement>(`#${CSS.escape(output.htmlFor.value)}`);
      if (!input || input.name === 'step') continue;
      const show = () => (output.value = this.sliderText(input));
      input.addEventListener('input', show);
      input.addEventListener('change', show);
    }
    const slider = this.stepSlider;
    if (slider) {
      slider.addEventListener('input', () => this.showStep(slider.valueAsNumber));
      const play = this.button('play');
      if (play) this.player = new StepPlayer(this, slider, play, (i) => this.showStep(i));
    }
    this.setup();
  }

  /** The step scrubber (StepScrubber.astro), when the figure has one. */
  protected get stepSlider(): HTMLInputElement | null {
    return this.querySelector<HTMLInputElement>('input[name="step"]');
  }

  protected button(name: string): HTMLButtonElement | null {
    return this.querySelector<HTMLButtonElement>(`button.${name}`);
  }

  /** The form control called `name` (the first, for a radio group). */
  protected control<T extends HTMLElement = HTMLInputElement>(name: string): T {
    return this.form.querySelector<T>(`[name="${CSS.escape(name)}"]`)!;
  }

  /** The value of the form control called `name` (a radio group gives the checked value). */
  protected value(name: string): string {
    const control = this.form.elements.namedItem(name) as HTMLInputElement | RadioNodeList | null;
    return control?.value ?? '';
  }

  protected integer(name: string, lo: number, hi: number, fallback: number): number {
    return clampInteger(this.value(name), lo, hi, fallback);
  }

  protected number(name: string, lo: number, hi: number, fallback: number): number {
    return clampNumber(this.value(name), lo, hi, fallback);
  }

  /** The seed field, or 0. */
  protected seed(name = 'seed'): number {
    return clampInteger(this.value(name), 0, MAX_SEED, 0);
  }

  /** The engine the last load chose ('wasm' before any). */
  protected get provider(): string {
    return this.status.provider ?? 'wasm';
  }

  /** Draws recorded step i and updates the readout. */
  protected showStep(i: number) {
    const step = this.steps[i];
    if (step === undefined) return;
    this.drawStep(step, i, this.steps.length);
    const readout = this.querySelector('.step-readout');
    if (readout) readout.textContent = this.stepLabel(step, i, this.steps.length);
  }

  /**
   * Runs the figure again with the settings now in its form: at once when it is idle, else once the run
   * in progress ends. For controls that rerun the figure as they move: their events come faster than runs end.
   */
  protected rerun(): void {
    if (this.dataset.state === 'running') this.queued = true;
    else void this.run();
  }

  /**
   * Runs the figure with the settings now in its form. Public: Retry and the benchmark call it. A run in
   * progress is stopped first and allowed to finish writing its status, so that its "Stopped." never
   * lands on top of the new run; of several calls made meanwhile, only the newest runs.
   */
  run(): Promise<void> {
    this.controller?.abort();
    const generation = ++this.generation;
    const next = this.tail.then(() => (generation === this.generation ? this.runOnce() : undefined));
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async runOnce(): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    // This run reads the newest settings: a rerun asked for until now is answered by it.
    this.queued = false;
    const settings = this.readSettings();
    const stop = this.button('stop');
    const slider = this.stepSlider;
    this.player?.pause();
    if (stop) stop.hidden = false;
    if (slider) slider.disabled = true;
    this.player?.disable();
    const recorded: Step[] = [];
    let pending: number | null = null;
    let lastPaint = 0;
    await this.status.run(
      this,
      this.button('run')!,
      async (models) => {
        this.steps = recorded;
        try {
          return await this.sample(settings, {
            models,
            signal: controller.signal,
            running: (text) => this.status.running(text),
            record: (step) => {
              recorded.push(step);
              if (pending !== null || performance.now() - lastPaint < PAINT_INTERVAL_MS) return;
              pending = requestAnimationFrame(() => {
                pending = null;
                lastPaint = performance.now();
                if (this.steps === recorded) this.showStep(recorded.length - 1);
              });
            },
          });
        } finally {
          // A repaint still queued must not draw over the result.
          if (pending !== null) cancelAnimationFrame(pending);
        }
      },
      controller.signal,
    );
    if (this.controller === controller) this.controller = null;
    if (stop) stop.hidden = true;
    const download = this.button('download');
    if (download) download.disabled = this.dataset.state !== 'done';
    // Whatever was recorded, finished or stopped, can be replayed.
    if (slider && recorded.length && this.steps === recorded) {
      const at = this.restingStep(recorded.length);
      openScrubber(this, slider, recorded.length, at, () => this.showStep(slider.valueAsNumber));
      this.player?.enable();
    }
    // A rerun asked for during this run (not one that Stop ended, nor one a newer run replaced).
    if (this.queued && this.controller === null) {
      this.queued = false;
      if (!controller.signal.aborted) void this.run();
    }
  }

  /** Saves the generated pictures: canvases marked `data-download`, side by side in one PNG. */
  protected download() {
    const canvases = [...this.querySelectorAll<HTMLCanvasElement>('canvas[data-download]')];
    const seed = this.form.elements.namedItem('seed') ? `-seed${this.seed()}` : '';
    void downloadCanvases(canvases, `${this.localName}${seed}.png`, this.downloadColumns);
  }
}
