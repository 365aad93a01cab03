import { describe, expect, it } from 'vitest';
import { tokenAfterKey } from '../../src/components/dit-sampler/token-grid';

describe('tokenAfterKey (the DiT sampler query-token picker, 4 x 4 grid)', () => {
  it('moves by one cell and wraps within the row or the column', () => {
    expect(tokenAfterKey('ArrowRight', 5, 4)).toBe(6);
    expect(tokenAfterKey('ArrowRight', 7, 4)).toBe(4);
    expect(tokenAfterKey('ArrowLeft', 4, 4)).toBe(7);
    expect(tokenAfterKey('ArrowDown', 5, 4)).toBe(9);
    expect(tokenAfterKey('ArrowDown', 13, 4)).toBe(1);
    expect(tokenAfterKey('ArrowUp', 1, 4)).toBe(13);
  });

  it('Home and End go to the first and last token; other keys are not the picker’s', () => {
    expect(tokenAfterKey('Home', 10, 4)).toBe(0);
    expect(tokenAfterKey('End', 0, 4)).toBe(15);
    expect(tokenAfterKey('Enter', 3, 4)).toBeNull();
  });
});
