import { describe, expect, it } from 'vitest';
import {
  boxDownsample,
  holeArea,
  holeFromText,
  holeTextPattern,
  holeToText,
  keepMask,
  maxAbsDiffWhere,
  moveCursor,
  paintHole,
  presetHole,
} from '../../src/lib/image/mask';

/** A hole as text rows, '#' = fill, '.' = keep: easy to read in a failing test. */
const rows = (hole: { data: Uint8Array; size: number }) =>
  Array.from({ length: hole.size }, (_, y) =>
    [...hole.data.subarray(y * hole.size, (y + 1) * hole.size)].map((v) => (v ? '#' : '.')).join(''),
  );

describe('inpainting masks', () => {
  it('draws the presets on a 16 px grid', () => {
    expect(holeArea(presetHole('left', 16))).toBe(128);
    expect(holeArea(presetHole('top', 16))).toBe(128);
    expect(holeArea(presetHole('centre', 16))).toBe(64);
    expect(holeArea(presetHole('none', 16))).toBe(0);
    expect(rows(presetHole('left', 4))).toEqual(['##..', '##..', '##..', '##..']);
    expect(rows(presetHole('top', 4))).toEqual(['####', '####', '....', '....']);
    expect(rows(presetHole('centre', 4))).toEqual(['....', '.##.', '.##.', '....']);
  });

  it('paints a disc of pixel centres, clipped at the edges, without changing its input', () => {
    const empty = presetHole('none', 5);
    const dot = paintHole(empty, 0, 0, 0, 1);
    expect(rows(dot)).toEqual(['#....', '.....', '.....', '.....', '.....']);
    expect(holeArea(empty)).toBe(0);
    expect(rows(paintHole(empty, 2, 2, 1, 1))).toEqual(['.....', '..#..', '.###.', '..#..', '.....']);
    expect(holeArea(paintHole(paintHole(empty, 2, 2, 1, 1), 2, 2, 0, 0))).toBe(4);
  });

  it('turns the hole into the pipeline keep mask (1 = known pixel)', () => {
    expect([...keepMask(presetHole('left', 2))]).toEqual([0, 1, 0, 1]);
  });

  it('moves the keyboard cursor and stops at the edges', () => {
    expect(moveCursor({ x: 0, y: 0 }, -1, 0, 16)).toEqual({ x: 0, y: 0 });
    expect(moveCursor({ x: 15, y: 3 }, 1, 1, 16)).toEqual({ x: 15, y: 4 });
  });
});

describe('box filter and masked differences', () => {
  it('averages each 2 x 2 block per channel, like F.avg_pool2d(x, 2)', () => {
    // [1, 2, 2, 4]: channel 0 = 0..7, channel 1 = 10 x that.
    const data = Float32Array.from({ length: 16 }, (_, i) => (i < 8 ? i : 10 * (i - 8)));
    const out = boxDownsample({ data, shape: [1, 2, 2, 4] }, 2);
    expect(out.shape).toEqual([1, 2, 1, 2]);
    // Block means: (0 + 1 + 4 + 5) / 4 = 2.5 and (2 + 3 + 6 + 7) / 4 = 4.5.
    expect([...out.data]).toEqual([2.5, 4.5, 25, 45]);
    expect(() => boxDownsample({ data: new Float32Array(9), shape: [1, 1, 3, 3] }, 2)).toThrow(/not divisible/);
  });

  it('measures differences only where the mask says so', () => {
    const a = { data: new Float32Array([0, 0, 0, 0, 0, 0]), shape: [1, 3, 1, 2] };
    const b = { data: new Float32Array([0.5, 0, -0.25, 3, 0, 0]), shape: [1, 3, 1, 2] };
    expect(maxAbsDiffWhere(a, b, [1, 0])).toBe(0.5);
    expect(maxAbsDiffWhere(a, b, [0, 1])).toBe(3);
  });

  it('writes a hole for a link as a preset name, or as hex rows that read back to the same hole', () => {
    expect(holeToText(presetHole('centre', 16))).toBe('centre');
    expect(holeToText(presetHole('none', 16))).toBe('none');
    expect(holeFromText('left', 16)).toEqual(presetHole('left', 16));
    // The top half with the top-left pixel unmasked: 64 hex digits, 4 per row, leftmost pixel highest.
    const edited = paintHole(presetHole('top', 16), 0, 0, 0, 0);
    const text = holeToText(edited);
    expect(text).toBe('7fff' + 'ffff'.repeat(7) + '0000'.repeat(8));
    expect(holeTextPattern(16).test(text)).toBe(true);
    expect(holeFromText(text, 16)).toEqual(edited);
    // Sides that are no multiple of 4 pad each row with zero bits.
    const odd = paintHole(presetHole('none', 5), 4, 1, 0, 1);
    expect(holeToText(odd)).toBe('00' + '08' + '00' + '00' + '00');
    expect(holeFromText(holeToText(odd), 5)).toEqual(odd);
  });

  it('round-trips random holes, and refuses text that is not a hole of that size', () => {
    let state = 12345;
    const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) >> 16) & 1;
    for (let n = 0; n < 20; n++) {
      const hole = presetHole('none', 16);
      hole.data.forEach((_, i) => (hole.data[i] = random()));
      expect(holeFromText(holeToText(hole), 16)).toEqual(hole);
    }
    for (const bad of ['', 'middle', 'f'.repeat(63), 'f'.repeat(65), 'F'.repeat(64), 'g'.repeat(64)]) {
      expect(holeFromText(bad, 16)).toBeNull();
    }
  });
});
