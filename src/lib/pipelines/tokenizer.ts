/**
 * The word-level tokenizer of our tiny CLIP text encoder (public/weights/tokenizer.json), laid out
 * like CLIP's: [BOS, words..., EOS, PAD...] at a fixed context length, pooled at EOS. It also says
 * what the encoder will *not* see (unknown words, words cut off by the context length), so a figure
 * can show it.
 */

export interface TokenizerConfig {
  context_length: number;
  special_token_ids: { pad: number; bos: number; eos: number; unk: number };
  special_tokens?: { pad: string; bos: string; eos: string; unk: string };
  vocab: Record<string, number>;
}

export type TokenKind = 'bos' | 'word' | 'unknown' | 'eos' | 'pad';

export interface Token {
  id: number;
  /** The word as normalised, or the special token's name. */
  text: string;
  kind: TokenKind;
}

export interface Encoding {
  /** Exactly context_length ids. */
  ids: number[];
  tokens: Token[];
  /** Words that map to the unknown token. */
  unknown: string[];
  /** Words beyond the context length, dropped before encoding. */
  dropped: string[];
  /**
   * Stretches of the prompt that hold no [a-z0-9] word and so never become tokens: emoji, other
   * scripts, non-ASCII symbols. Spaces and ASCII punctuation are not listed: they only separate words.
   */
  ignored: string[];
}

/** What normalizeWords skips, other than spaces and punctuation, as the reader typed it. */
export function ignoredText(text: string): string[] {
  return text
    .normalize('NFC')
    .split(/[\s\p{P}]+/u)
    .flatMap((piece) =>
      piece
        .normalize('NFKD')
        .replace(/[\u0300-\u036f]/g, '')
        .split(/[a-z0-9]+/i),
    )
    .filter((rest) => /[\u0080-\uffff]/.test(rest))
    .map((rest) => rest.normalize('NFC'));
}

/** NFKD, drop combining marks, lowercase, words = runs of [a-z0-9]: the rule in tokenizer.json. */
export function normalizeWords(text: string): string[] {
  const folded = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
  return folded.match(/[a-z0-9]+/g) ?? [];
}

export class WordTokenizer {
  readonly contextLength: number;
  private readonly words: Map<number, string>;

  constructor(readonly config: TokenizerConfig) {
    this.contextLength = config.context_length;
    this.words = new Map(Object.entries(config.vocab).map(([word, id]) => [id, word]));
  }

  /** Words the tokenizer knows (no special tokens), for prompt suggestions. */
  vocabulary(): string[] {
    const specials = new Set(Object.values(this.config.special_token_ids));
    return Object.entries(this.config.vocab)
      .filter(([, id]) => !specials.has(id))
      .sort((a, b) => a[1] - b[1])
      .map(([word]) => word);
  }

  encode(text: string): Encoding {
    const { pad, bos, eos, unk } = this.config.special_token_ids;
    const all = normalizeWords(text);
    const kept = all.slice(0, this.contextLength - 2);
    const tokens: Token[] = [{ id: bos, text: 'BOS', kind: 'bos' }];
    const unknown: string[] = [];
    for (const word of kept) {
      const id = this.config.vocab[word];
      if (id === undefined) {
        unknown.push(word);
        tokens.push({ id: unk, text: word, kind: 'unknown' });
      } else {
        tokens.push({ id, text: word, kind: 'word' });
      }
    }
    tokens.push({ id: eos, text: 'EOS', kind: 'eos' });
    while (tokens.length < this.contextLength) tokens.push({ id: pad, text: 'PAD', kind: 'pad' });
    return {
      ids: tokens.map((t) => t.id),
      tokens,
      unknown,
      dropped: all.slice(kept.length),
      ignored: ignoredText(text),
    };
  }

  decode(ids: readonly number[]): string {
    return ids.map((id) => this.words.get(id) ?? '?').join(' ');
  }
}
