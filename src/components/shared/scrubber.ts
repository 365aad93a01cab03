/** Opening a figure's step scrubber (StepScrubber.astro) once a run has recorded its steps. */
import { restoreAfterRun } from './url-state';

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
