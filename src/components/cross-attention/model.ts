/** Colours and choices for the cross-attention figure; no DOM. */
import type { Rgb } from '../../lib/image/index';
import type { Encoding } from '../../lib/pipelines/tokenizer';

/** A dark-to-bright sequential ramp (black, purple, orange, pale yellow), readable over a picture. */
const RAMP: Rgb[] = [
  [0, 0, 4],
  [81, 18, 124],
  [183, 55, 121],
  [252, 137, 97],
  [252, 253, 191],
];

/** Colour of v in [0, 1] on the ramp, linearly between its stops. */
export function heatColor(v: number): Rgb {
  const x = Math.max(0, Math.min(1, v)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => RAMP[i][c] + (RAMP[i + 1][c] - RAMP[i][c]) * f) as Rgb;
}

/** A CSS gradient of the ramp, for a legend. */
export function heatGradient(): string {
  return `linear-gradient(to right, ${RAMP.map((c) => `rgb(${c.join(' ')})`).join(', ')})`;
}

/** Smallest and largest value of a map. */
export function mapRange(map: Float32Array): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of map) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { min, max };
}

/**
 * An attention map as RGBA, stretched from its own minimum (dark) to its own maximum (bright), so
 * that where a token is used more or less shows even when attention is spread almost evenly.
 * With `overlay`, low attention is nearly transparent, for drawing over the picture.
 */
export function attentionRgba(map: Float32Array, overlay: boolean): Uint8ClampedArray<ArrayBuffer> {
  const { min, max } = mapRange(map);
  const span = max - min;
  const rgba = new Uint8ClampedArray(map.length * 4);
  map.forEach((v, i) => {
    const x = span > 0 ? (v - min) / span : 0;
    const [r, g, b] = heatColor(x);
    rgba.set([r, g, b, overlay ? 220 * x : 255], 4 * i);
  });
  return rgba;
}

/**
 * A picture's RGBA bytes as a pale grey (Rec. 601 luma, lifted towards white), so that a heatmap drawn
 * over it is read by its own colours and the picture's outline still shows through.
 */
export function paleGreyRgba(rgba: Uint8ClampedArray<ArrayBuffer>): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(rgba.length);
  for (let i = 0; i < rgba.length; i += 4) {
    const luma = 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2];
    const v = 90 + 0.65 * luma;
    out[i] = out[i + 1] = out[i + 2] = v;
    out[i + 3] = 255;
  }
  return out;
}

/** A token the reader can pick: one position of the context, or all padding positions together. */
export interface TokenChoice {
  label: string;
  kind: 'bos' | 'word' | 'unknown' | 'eos' | 'pad';
  /** Context positions whose attention is summed for this choice. */
  positions: number[];
}

/** BOS, each word, EOS, then every padding position as one choice ("PAD × n"). */
export function tokenChoices(encoding: Encoding): TokenChoice[] {
  const choices: TokenChoice[] = [];
  const pads: number[] = [];
  encoding.tokens.forEach((token, position) => {
    if (token.kind === 'pad') pads.push(position);
    else choices.push({ label: token.text, kind: token.kind, positions: [position] });
  });
  if (pads.length) choices.push({ label: `PAD × ${pads.length}`, kind: 'pad', positions: pads });
  return choices;
}
