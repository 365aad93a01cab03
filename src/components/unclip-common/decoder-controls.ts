/** What the decoder figures (variations, interpolation) and the prior figure read from their controls. */
import { MAX_SEED } from '../shared/form';

/** Variation k (and interpolation point k) is drawn from seed + k, so the seed stops short of MAX_SEED. */
export const DECODER_SEED_MAX = MAX_SEED - 16;

/**
 * The value a number field or slider was rendered with: the recipe's recommendation, which is
 * the fallback when the field is cleared (so that no figure writes a default of its own).
 */
export function renderedDefault(root: HTMLElement, name: string): number {
  return Number(root.querySelector<HTMLInputElement>(`input[name="${name}"]`)!.defaultValue);
}
