/** Build-time view of public/samples/emoji-validation.json: the held-out emoji a figure can offer. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface EmojiList {
  captions: string[];
  columns: number;
  rows: number;
}

export function readEmojiList(): EmojiList {
  const index = JSON.parse(readFileSync(join(process.cwd(), 'public', 'samples', 'emoji-validation.json'), 'utf8'));
  const captions = (index.emoji as { caption: string }[]).map((e) => e.caption);
  return { captions, columns: index.columns, rows: Math.ceil(captions.length / index.columns) };
}

/** Index of a caption, or `fallback` when the set no longer has it. */
export function emojiIndex(list: EmojiList, caption: string, fallback = 0): number {
  const i = list.captions.indexOf(caption);
  return i < 0 ? Math.min(fallback, list.captions.length - 1) : i;
}
