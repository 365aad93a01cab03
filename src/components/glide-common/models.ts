/**
 * What the GLIDE figures add to the shared cascade wiring (../cascade-shared/models.ts): GLIDE's
 * treatment of x0, the base run's step panels, and a sentence about words the tokenizer could not use.
 */
import type { Thresholding } from '../../lib/pipelines/cascade';
import type { Encoding } from '../../lib/pipelines/tokenizer';
import { paintTensor } from '../shared/canvas';
import type { KeptStep } from '../cascade-shared/models';

/**
 * GLIDE (like ADM before it) clips the predicted x0 to the data range [-1, 1] at every step; dynamic
 * thresholding is Imagen's later refinement and belongs to its chapter.
 */
export const GLIDE_THRESHOLDING: Thresholding = { kind: 'static' };

/** ' · ' and a note on unknown or cut-off words, or '' when the tokenizer used every word. */
export function promptNote(encoding: Encoding): string {
  const quote = (words: string[]) => words.map((w) => `“${w}”`).join(', ');
  const notes = [];
  if (encoding.unknown.length) notes.push(`${quote(encoding.unknown)} not in the vocabulary (read as unknown)`);
  if (encoding.dropped.length) notes.push(`${quote(encoding.dropped)} cut off beyond the context`);
  return notes.length ? ` · ${notes.join('; ')}` : '';
}

/** Draws base-model step i on the figure's `xt` and `x0` panels, [1, 3, 16, 16] each, and names them. */
export function drawBaseStep(figure: HTMLElement, step: KeptStep, i: number) {
  const t = Math.round(step.timestep);
  const panel = (name: string) => figure.querySelector<HTMLCanvasElement>(`canvas[data-panel="${name}"]`)!;
  paintTensor(panel('xt'), step.sample);
  paintTensor(panel('x0'), step.predOriginalSample);
  panel('xt').setAttribute('aria-label', `xₜ at step ${i + 1}, t = ${t}`);
  panel('x0').setAttribute('aria-label', `predicted x̂₀ at step ${i + 1}, t = ${t}`);
}
