/** The cross-attention figure's colouring: each map on its own full colour scale, the picture as a faint outline. */
import { describe, expect, it } from 'vitest';
import { attentionRgba, heatColor, normaliseMap, silhouetteRgba } from '../../src/components/cross-attention/model';

const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;

describe('attention map colours', () => {
  // A token's map as the shipped UNet gives it: 8 x 8 positions, 4% to 7% of each position's attention.
  const map = Float32Array.from({ length: 64 }, (_, i) => 0.04 + (0.03 * ((i * 37) % 64)) / 63);

  it('stretches a narrow map over the whole scale: its least is 0, its most 1', () => {
    const x = normaliseMap(map);
    expect(Math.min(...x)).toBe(0);
    expect(Math.max(...x)).toBeCloseTo(1, 6);
    // Order is kept: the stretch is a linear map of the values.
    const i = map.indexOf(Math.max(...map));
    expect(x[i]).toBeCloseTo(1, 6);
  });

  it('draws it opaque, spanning more than half of the lightness range', () => {
    const rgba = attentionRgba(map);
    const lights: number[] = [];
    for (let i = 0; i < rgba.length; i += 4) {
      expect(rgba[i + 3]).toBe(255);
      lights.push(luma(rgba[i], rgba[i + 1], rgba[i + 2]));
    }
    expect((Math.max(...lights) - Math.min(...lights)) / 255).toBeGreaterThan(0.5);
  });

  it('is a sequential scale: lightness rises with the value', () => {
    const steps = Array.from({ length: 21 }, (_, i) => luma(...heatColor(i / 20)));
    for (let i = 1; i < steps.length; i++) expect(steps[i]).toBeGreaterThan(steps[i - 1]);
  });

  it('draws a flat map as one colour, without NaN', () => {
    const rgba = attentionRgba(new Float32Array(16).fill(0.25));
    expect(new Set(rgba).has(NaN)).toBe(false);
    expect([...rgba.slice(0, 4)]).toEqual([...rgba.slice(60, 64)]);
  });
});

describe('silhouette outline', () => {
  // A 4 x 4 white picture with a 2 x 2 red square in the middle, enlarged 3 times.
  const picture = new Uint8ClampedArray(4 * 4 * 4).fill(255);
  for (const [x, y] of [
    [1, 1],
    [2, 1],
    [1, 2],
    [2, 2],
  ])
    picture.set([220, 30, 30, 255], 4 * (y * 4 + x));
  const out = silhouetteRgba(picture, 4, 4, 3);
  const alpha = (x: number, y: number) => out[4 * (y * 12 + x) + 3];

  it('marks only the edge of the object, light inside and dark outside, and leaves the rest transparent', () => {
    expect(out.length).toBe(12 * 12 * 4);
    // The square spans pixels 3..8; its edge is at 3 and 8 inside, 2 and 9 outside.
    expect(alpha(3, 5)).toBeGreaterThan(0);
    expect(out[4 * (5 * 12 + 3)]).toBe(255);
    expect(alpha(2, 5)).toBeGreaterThan(0);
    expect(out[4 * (5 * 12 + 2)]).toBe(0);
    expect(alpha(5, 5)).toBe(0); // inside the object
    expect(alpha(0, 0)).toBe(0); // background, and the frame is no edge
    // Faint: never opaque, so the map under it stays readable.
    for (let i = 3; i < out.length; i += 4) expect(out[i]).toBeLessThan(255);
  });
});
