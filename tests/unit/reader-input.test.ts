/** What the figures tell a reader about their input: prompts the tokenizer cannot fully read, pictures that are not square. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ignoredText, WordTokenizer } from '../../src/lib/pipelines/tokenizer';
import { encodingNotes } from '../../src/components/text-to-image/token-strip';
import { decodeSize, LARGE_UPLOAD_BYTES, uploadNotes } from '../../src/components/shared/load-image';

// The shipped tokenizer: the one readers' prompts go through.
const tokenizer = new WordTokenizer(JSON.parse(readFileSync('public/weights/tokenizer.json', 'utf8')));
const notes = (prompt: string) => encodingNotes(tokenizer.encode(prompt), tokenizer.contextLength).join(' ');

describe('prompt notes', () => {
  it('an empty prompt (or only spaces and punctuation) is named as the unconditional prompt', () => {
    for (const prompt of ['', '   ', '?!, .']) {
      const encoding = tokenizer.encode(prompt);
      expect(encoding.ids).toEqual(tokenizer.encode('').ids);
      expect(notes(prompt)).toMatch(/no words, so it is the unconditional prompt/);
    }
    expect(notes('red heart')).toBe('');
  });

  it('emoji and other scripts are listed as skipped, as typed', () => {
    expect(ignoredText('red ❤️ heart!')).toEqual(['❤️']);
    expect(ignoredText('👨‍👩‍👧 family, 猫 and 한국')).toEqual(['👨‍👩‍👧', '猫', '한국']);
    expect(ignoredText('café Ωmega 3€')).toEqual(['Ω', '€']);
    expect(notes('🔥🔥')).toMatch(/“🔥🔥” is not made of the letters a–z .* skipped/);
    expect(notes('🔥🔥')).toMatch(/unconditional/);
  });

  it('markup is read as words and symbols, never as anything else', () => {
    const encoding = tokenizer.encode('<img src=x onerror=alert(1)>');
    expect(encoding.tokens.filter((t) => t.kind === 'word' || t.kind === 'unknown').map((t) => t.text)).toEqual([
      'img',
      'src',
      'x',
      'onerror',
      'alert',
      '1',
    ]);
    expect(encoding.ignored).toEqual([]);
  });

  it('a prompt of unknown words names each once, and a long one names the words cut off', () => {
    const unknown = tokenizer.encode('zxq zxq blorp');
    expect(unknown.unknown).toEqual(['zxq', 'zxq', 'blorp']);
    expect(notes('zxq zxq blorp')).toMatch(/^“zxq”, “blorp” are not in the vocabulary/);

    const words = Array.from({ length: tokenizer.contextLength + 3 }, (_, i) => `w${i}`);
    const long = tokenizer.encode(words.join(' '));
    expect(long.dropped).toEqual(words.slice(tokenizer.contextLength - 2));
    expect(long.ids).toHaveLength(tokenizer.contextLength);
    expect(notes(words.join(' '))).toContain(
      `Only ${tokenizer.contextLength - 2} words fit between BOS and EOS; ${long.dropped.map((w) => `“${w}”`).join(', ')} were cut off`,
    );
  });
});

describe('upload notes', () => {
  it('says how a picture that is not square is cropped', () => {
    expect(uploadNotes(800, 200, 64, false)).toEqual([
      'Your picture is 800 × 200, not square: the figure uses its centre 200 × 200 square (the left and right edges are cropped off), scaled to 64 × 64.',
    ]);
    expect(uploadNotes(300, 4000, 32, false)[0]).toMatch(
      /centre 300 × 300 square \(the top and bottom are cropped off\)/,
    );
  });

  it('says a square picture is scaled, and transparency becomes white', () => {
    expect(uploadNotes(8000, 8000, 64, false)).toEqual(['Your 8000 × 8000 picture is scaled to 64 × 64.']);
    expect(uploadNotes(64, 64, 64, false)).toEqual([]);
    expect(uploadNotes(64, 64, 64, true)).toEqual([
      'Its transparent parts are shown on white, the background the models were trained on.',
    ]);
  });

  it('says a large file was scaled down while decoding', () => {
    expect(uploadNotes(4096, 4096, 64, false, 48 * 1048576)).toEqual([
      'Your 4096 × 4096 picture is scaled to 64 × 64.',
      'It is a large file (48 MB), so it was scaled down while it was decoded instead of opened at full size.',
    ]);
    expect(uploadNotes(4096, 4096, 64, false, LARGE_UPLOAD_BYTES - 1)).toHaveLength(1);
  });

  it('decodes huge pictures small, keeping their shape, and small ones as they are', () => {
    expect(decodeSize(8000, 8000, 64)).toEqual({ width: 256, height: 256 });
    expect(decodeSize(8000, 2000, 32)).toEqual({ width: 1024, height: 256 });
    expect(decodeSize(3000, 4000, 128)).toEqual({ width: 512, height: 683 });
    expect(decodeSize(72, 72, 64)).toEqual({ width: 72, height: 72 });
  });
});
