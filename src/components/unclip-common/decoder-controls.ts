/** Reading the decoder controls the variation and interpolation figures share. */
import { clampInteger, MAX_SEED } from '../shared/form';

/** Variation k (and interpolation point k) is drawn from seed + k, so the seed stops short of MAX_SEED. */
export const DECODER_SEED_MAX = MAX_SEED - 16;

export interface DecoderSettings {
  guidanceScale: number;
  numInferenceSteps: number;
  seed: number;
}

export function decoderSettings(form: HTMLFormElement, fallbackSteps: number): DecoderSettings {
  const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;
  return {
    guidanceScale: Number(value('guidance')),
    numInferenceSteps: clampInteger(value('steps'), 1, 100, fallbackSteps),
    seed: clampInteger(value('seed'), 0, DECODER_SEED_MAX, 0),
  };
}

/** Keeps each range's <output> showing its value. */
export function linkRangeOutputs(root: HTMLElement) {
  for (const row of root.querySelectorAll('.range-row')) {
    const input = row.querySelector('input')!;
    const out = row.querySelector('output')!;
    input.addEventListener('input', () => (out.value = input.value));
  }
}
