import { describe, expect, it } from 'vitest';
import { describeChapters, listInWords, shortTitle } from '../../src/lib/site/chapter-list';

describe('home page chapter sentence', () => {
  it('names every published chapter by the part of its title before the colon, in the given order', () => {
    const text = describeChapters(['DDPM: noise, step by step', 'DiT: a transformer', 'Imagen: a cascade']);
    expect(text).toBe('All 3 chapters are below, in reading order: DDPM, DiT and Imagen.');
  });

  it('counts drafts without naming them, and handles one or no chapter', () => {
    expect(describeChapters(['DDPM: x'], 2)).toBe(
      'One chapter is below, in reading order: DDPM. 2 more are being written.',
    );
    expect(describeChapters(['DDPM: x', 'SDXL: y'], 1)).toMatch(/DDPM and SDXL\. One more is being written\.$/);
    expect(describeChapters([])).toBe('No chapter is published yet.');
  });

  it('lists in words', () => {
    expect(listInWords(['a'])).toBe('a');
    expect(listInWords(['a', 'b', 'c'])).toBe('a, b and c');
    expect(shortTitle('Why it works: diffusion in two dimensions')).toBe('Why it works');
  });
});
