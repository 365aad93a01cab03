/** The step scrubber (StepScrubber.astro): opening it once a run has recorded its steps, and Play. */
import { restoreAfterRun, syncUrl } from './url-state';

/**
 * Spans the slider over `count` recorded steps and rests it at `at`, which becomes its default: a
 * link carries the step only when the reader moved it. Then draws that step, and applies a step the
 * page link asked for (checked against this run's length, with a notice if it had to be clamped).
 */
export function openScrubber(
  figure: HTMLElement,
  slider: HTMLInputElement,
  count: number,
  at: number,
  show?: () => void,
) {
  slider.max = String(count - 1);
  slider.value = slider.defaultValue = String(at);
  slider.disabled = false;
  show?.();
  restoreAfterRun(figure);
}

/** Seconds Play takes to sweep a run from its first step to its last, whatever the number of steps. */
const PLAY_SECONDS = 3;

/**
 * Play / Pause on a step slider: replays the recorded steps from the first (or from where the slider
 * rests, if not at the end) to the last. Readers who asked for less motion get the last step at once.
 */
export class StepPlayer {
  private frame = 0;

  constructor(
    private figure: HTMLElement,
    private slider: HTMLInputElement,
    private button: HTMLButtonElement,
    private show: (index: number) => void,
    /** How long a sweep from the first step to the last takes. */
    private seconds = PLAY_SECONDS,
  ) {
    button.addEventListener('click', () => (this.frame ? this.pause() : this.play()));
    slider.addEventListener('input', () => this.pause());
  }

  enable() {
    this.button.disabled = false;
  }

  disable() {
    this.pause();
    this.button.disabled = true;
  }

  play() {
    const last = Number(this.slider.max);
    if (last <= 0) return;
    if (matchMedia('(prefers-reduced-motion: reduce)').matches) {
      this.slider.value = String(last);
      this.show(last);
      syncUrl(this.figure);
      return;
    }
    const start = this.slider.valueAsNumber >= last ? 0 : this.slider.valueAsNumber;
    const t0 = performance.now() - (start / last) * this.seconds * 1000;
    this.button.textContent = 'Pause';
    this.button.setAttribute('aria-pressed', 'true');
    let shown = -1;
    const tick = (now: number) => {
      const i = Math.min(last, Math.floor(((now - t0) / (this.seconds * 1000)) * last));
      if (i !== shown) {
        shown = i;
        this.slider.value = String(i);
        this.show(i);
      }
      if (i >= last) this.pause();
      else this.frame = requestAnimationFrame(tick);
    };
    this.frame = requestAnimationFrame(tick);
  }

  pause() {
    if (!this.frame && this.button.getAttribute('aria-pressed') !== 'true') return;
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.button.textContent = 'Play';
    this.button.setAttribute('aria-pressed', 'false');
    // Play moves the slider without input events; the link takes the step it stopped at.
    syncUrl(this.figure);
  }
}
