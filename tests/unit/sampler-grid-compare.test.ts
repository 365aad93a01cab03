/** The sampler grid's sentence about its run: differences measured as the pictures are drawn. */
import { describe, expect, it } from 'vitest';
import { greyLevelDifference, spreadSentence, stepCountSpread } from '../../src/components/sampler-grid/compare';

const picture = (values: number[]) => ({ data: Float32Array.from(values), shape: [1, 1, 1, values.length] });

describe('sampler grid comparison', () => {
  it('measures in grey levels of the drawn picture: black to white is 255, values beyond [-1, 1] are clamped', () => {
    expect(greyLevelDifference(picture([-1, -1]), picture([1, 1]))).toBeCloseTo(255, 6);
    expect(greyLevelDifference(picture([-3, 0]), picture([-1, 0]))).toBe(0);
    expect(greyLevelDifference(picture([0, 0.5]), picture([0, 0]))).toBeCloseTo(0.25 * 127.5, 6);
    expect(() => greyLevelDifference(picture([0]), picture([0, 0]))).toThrow();
  });

  it('a row that repeats one picture has no spread; otherwise the mean over every pair', () => {
    const a = picture([-1, 0]);
    expect(stepCountSpread([a, a, a])).toBe(0);
    const b = picture([1, 0]);
    // Pairs (a, a), (a, b), (a, b): 0, 127.5 and 127.5.
    expect(stepCountSpread([a, a, b])).toBeCloseTo((2 * greyLevelDifference(a, b)) / 3, 6);
  });

  it('names the digit and gives each row its rounded spread, in order', () => {
    const a = picture([-1, 0]);
    const b = picture([1, 0]);
    const text = spreadSentence(5, [
      { label: 'DDPM', pictures: [a, b, a] },
      { label: 'DDIM', pictures: [a, a, a] },
    ]);
    expect(text).toContain("row's 5");
    expect(text).toMatch(new RegExp(`DDPM ${Math.round(stepCountSpread([a, b, a]))}, DDIM 0\\.$`));
  });
});
