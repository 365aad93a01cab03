/** Colours and choices for the cross-attention figure; no DOM. */
import type { Rgb } from '../../lib/image/index';
import type { Encoding } from '../../lib/pipelines/tokenizer';

/**
 * Matplotlib's magma, sampled at nine evenly spaced points: a perceptually uniform sequential scale
 * from black through purple and orange to pale yellow, whose lightness rises steadily, so that
 * "brighter" reads as "more" at a glance and in greyscale.
 */
const MAGMA: Rgb[] = [
  [0, 0, 4],
  [28, 16, 68],
  [79, 18, 123],
  [129, 37, 129],
  [181, 54, 122],
  [229, 80, 100],
  [251, 135, 97],
  [254, 194, 135],
  [252, 253, 191],
];

/** Colour of v in [0, 1] on the scale, linearly between its stops. */
export function heatColor(v: number): Rgb {
  const x = Math.max(0, Math.min(1, v)) * (MAGMA.length - 1);
  const i = Math.min(MAGMA.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => MAGMA[i][c] + (MAGMA[i + 1][c] - MAGMA[i][c]) * f) as Rgb;
}

/** A CSS gradient of the scale, for a legend. */
export function heatGradient(): string {
  return `linear-gradient(to right, ${MAGMA.map((c) => `rgb(${c.join(' ')})`).join(', ')})`;
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
 * A map stretched to [0, 1] from its own minimum to its own maximum. Attention is spread almost
 * evenly (a token's map may span only 4% to 7% of each position's attention), so on a shared
 * 0..100% scale every map would be one flat colour; stretched, where a token is used more or less
 * shows at once. A flat map is all 0.
 */
export function normaliseMap(map: Float32Array): Float32Array {
  const { min, max } = mapRange(map);
  const span = max - min;
  return map.map((v) => (span > 0 ? (v - min) / span : 0));
}

/** An attention map as opaque RGBA on the magma scale, stretched from its minimum (black) to its maximum (pale yellow). */
export function attentionRgba(map: Float32Array): Uint8ClampedArray<ArrayBuffer> {
  const rgba = new Uint8ClampedArray(map.length * 4);
  normaliseMap(map).forEach((x, i) => rgba.set([...heatColor(x), 255], 4 * i));
  return rgba;
}

/** A picture's pixel is part of the object when it is clearly not the white background (max channel distance). */
const FOREGROUND_DISTANCE = 48;

/**
 * The outline of a picture's object (its non-white pixels), `zoom` times larger, for drawing over
 * a heatmap: a thin light line just inside the edge and a dark one just outside, faint enough that
 * the map's colours stay readable and visible on both ends of the scale. Transparent elsewhere.
 * In: [pictureHeight * pictureWidth * 4] RGBA; out: RGBA of (width * zoom) x (height * zoom).
 */
export function silhouetteRgba(
  picture: Uint8ClampedArray,
  width: number,
  height: number,
  zoom: number,
): Uint8ClampedArray<ArrayBuffer> {
  const inside = new Uint8Array(width * height);
  for (let i = 0; i < inside.length; i++) {
    const distance = Math.max(255 - picture[4 * i], 255 - picture[4 * i + 1], 255 - picture[4 * i + 2]);
    inside[i] = distance > FOREGROUND_DISTANCE ? 1 : 0;
  }
  const [w, h] = [width * zoom, height * zoom];
  const isInside = (x: number, y: number) => inside[Math.floor(y / zoom) * width + Math.floor(x / zoom)];
  // Beyond the frame counts as the pixel itself: the picture's border is no outline.
  const differs = (x: number, y: number, here: number) => x >= 0 && y >= 0 && x < w && y < h && isInside(x, y) !== here;
  const out = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const here = isInside(x, y);
      if (differs(x - 1, y, here) || differs(x + 1, y, here) || differs(x, y - 1, here) || differs(x, y + 1, here)) {
        out.set(here ? [255, 255, 255, 150] : [0, 0, 0, 110], 4 * (y * w + x));
      }
    }
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

/** The first word of the prompt (else the first choice): where a fresh run's pick starts. */
export function firstWord(choices: readonly TokenChoice[]): number {
  return Math.max(
    0,
    choices.findIndex((c) => c.kind === 'word' || c.kind === 'unknown'),
  );
}

/** The percentage shown on a token: its share of all the attention, one decimal below 10%. */
export function shareText(shares: readonly number[], choice: TokenChoice): string {
  const value = choice.positions.reduce((sum, p) => sum + shares[p], 0);
  return `${(value * 100).toFixed(value < 0.1 ? 1 : 0)}%`;
}
