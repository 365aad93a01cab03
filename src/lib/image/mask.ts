/**
 * Inpainting masks for 16 x 16 pictures, and the box filter that made the cascade's training data.
 * A mask here is the reader's *hole*: one byte per pixel, row-major, 1 where the model should paint
 * and 0 where the picture is known. Pipelines take the opposite, a keep mask (`keepMask`).
 * Pure: no DOM.
 */
import type { Tensor } from '../diffusion/index';

/** One byte per pixel, row-major: 1 = fill this pixel from the prompt, 0 = keep the picture's pixel. */
export interface HoleMask {
  data: Uint8Array;
  size: number;
}

export const MASK_PRESETS = ['left', 'top', 'centre', 'none'] as const;
export type MaskPreset = (typeof MASK_PRESETS)[number];

/** Reader-facing names of the presets (the buttons' labels). */
export const MASK_PRESET_LABELS: Record<MaskPreset, string> = {
  left: 'Left half',
  top: 'Top half',
  centre: 'Centre square',
  none: 'Clear',
};

export function emptyHole(size: number): HoleMask {
  return { data: new Uint8Array(size * size), size };
}

/** The preset holes: a half of the picture, or a centred square of half its side. */
export function presetHole(preset: MaskPreset, size: number): HoleMask {
  const hole = emptyHole(size);
  const half = size / 2;
  const quarter = size / 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside =
        preset === 'left'
          ? x < half
          : preset === 'top'
            ? y < half
            : preset === 'centre'
              ? x >= quarter && x < size - quarter && y >= quarter && y < size - quarter
              : false;
      hole.data[y * size + x] = inside ? 1 : 0;
    }
  }
  return hole;
}

/**
 * A hole as text for a link: the preset's name when it is one, else its rows in hex, each row
 * ceil(size / 4) digits with the leftmost pixel in the highest bit (64 digits for 16 x 16: "ff00" is a
 * row whose left half is masked). Short enough for a URL, and readable row by row.
 */
export function holeToText(hole: HoleMask): string {
  const preset = MASK_PRESETS.find((p) => presetHole(p, hole.size).data.every((v, i) => v === hole.data[i]));
  if (preset) return preset;
  const digits = Math.ceil(hole.size / 4);
  const bit = (x: number, y: number) => (x < hole.size ? hole.data[y * hole.size + x] : 0);
  let text = '';
  for (let y = 0; y < hole.size; y++) {
    for (let d = 0; d < digits; d++) {
      const x = 4 * d;
      text += ((bit(x, y) << 3) | (bit(x + 1, y) << 2) | (bit(x + 2, y) << 1) | bit(x + 3, y)).toString(16);
    }
  }
  return text;
}

/** What `holeFromText` accepts for a size x size hole: a preset's name, or exactly the hex digits of its rows. */
export function holeTextPattern(size: number): RegExp {
  return new RegExp(`^(?:${MASK_PRESETS.join('|')}|[0-9a-f]{${size * Math.ceil(size / 4)}})$`);
}

/** The hole a link's text describes (see holeToText), or null when the text is not one. */
export function holeFromText(text: string, size: number): HoleMask | null {
  if (!holeTextPattern(size).test(text)) return null;
  if ((MASK_PRESETS as readonly string[]).includes(text)) return presetHole(text as MaskPreset, size);
  const digits = Math.ceil(size / 4);
  const hole = emptyHole(size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const nibble = parseInt(text[y * digits + (x >> 2)], 16);
      hole.data[y * size + x] = (nibble >> (3 - (x & 3))) & 1;
    }
  }
  return hole;
}

/** Sets every pixel within `radius` (Euclidean, pixel centres) of (x, y) to `value`; a new mask. */
export function paintHole(hole: HoleMask, x: number, y: number, radius: number, value: 0 | 1): HoleMask {
  const data = hole.data.slice();
  const { size } = hole;
  const r = Math.ceil(radius);
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      const px = x + dx;
      const py = y + dy;
      if (px < 0 || py < 0 || px >= size || py >= size || dx * dx + dy * dy > radius * radius) continue;
      data[py * size + px] = value;
    }
  }
  return { data, size };
}

/** How many pixels the model will fill. */
export function holeArea(hole: HoleMask): number {
  let n = 0;
  for (const v of hole.data) n += v;
  return n;
}

/** The pipeline's mask: 1 where the known picture is kept, 0 where the model fills (float, H * W). */
export function keepMask(hole: HoleMask): Float32Array {
  return Float32Array.from(hole.data, (v) => 1 - v);
}

/**
 * Area-average downsampling by an integer factor, [N, C, H, W] -> [N, C, H / f, W / f]: the
 * `F.avg_pool2d(x, f)` that turned the 32 px emoji into the cascade's 16 px training pictures.
 */
export function boxDownsample(image: Tensor, factor: number): Tensor {
  const [n, c, h, w] = image.shape;
  if (h % factor || w % factor) throw new Error(`boxDownsample: ${h} x ${w} is not divisible by ${factor}`);
  const oh = h / factor;
  const ow = w / factor;
  const data = new Float32Array(n * c * oh * ow);
  const area = factor * factor;
  for (let plane = 0; plane < n * c; plane++) {
    const src = plane * h * w;
    const dst = plane * oh * ow;
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        let sum = 0;
        for (let dy = 0; dy < factor; dy++) {
          for (let dx = 0; dx < factor; dx++) sum += image.data[src + (y * factor + dy) * w + x * factor + dx];
        }
        data[dst + y * ow + x] = sum / area;
      }
    }
  }
  return { data, shape: [n, c, oh, ow] };
}

/** Largest |a - b| over the pixels a mask selects (all channels), e.g. how far the known pixels moved. */
export function maxAbsDiffWhere(a: Tensor, b: Tensor, where: ArrayLike<number>): number {
  const plane = where.length;
  const channels = a.data.length / plane;
  let m = 0;
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < plane; i++) {
      if (where[i]) m = Math.max(m, Math.abs(a.data[c * plane + i] - b.data[c * plane + i]));
    }
  }
  return m;
}

/** Moves a keyboard cursor by (dx, dy) inside a size x size grid, stopping at the edges. */
export function moveCursor(cursor: { x: number; y: number }, dx: number, dy: number, size: number) {
  return {
    x: Math.max(0, Math.min(size - 1, cursor.x + dx)),
    y: Math.max(0, Math.min(size - 1, cursor.y + dy)),
  };
}
