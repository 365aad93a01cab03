/**
 * What the GLIDE figures add to the shared cascade wiring (../cascade-shared/models.ts): GLIDE's
 * treatment of x0, and a sentence about words the tokenizer could not use.
 */
import type { Thresholding } from '../../lib/pipelines/cascade';
import type { Encoding } from '../../lib/pipelines/tokenizer';

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
