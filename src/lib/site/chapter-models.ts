/**
 * Which models each chapter's figures run, read from the chapters' frontmatter on disk: for the
 * download budget (a unit test) and the benchmark, which run outside Astro's content layer.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../runtime/manifest';

/** Issue 8's budget for the models one chapter downloads. */
export const CHAPTER_MODEL_BUDGET = 8e6;

export interface ChapterModels {
  id: string;
  order: number;
  /** The frontmatter's `models`: manifest ids the chapter's figures load. */
  models: string[];
}

/** Every chapter in reading order, with its `order` and `models` from the frontmatter. */
export function readChapterModels(dir = join(process.cwd(), 'src', 'content', 'chapters')): ChapterModels[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.mdx'))
    .map((f) => {
      const front = readFileSync(join(dir, f), 'utf8').split('---')[1] ?? '';
      const list = /^models:\s*\[(.*)\]/m.exec(front)?.[1] ?? '';
      return {
        id: f.replace(/\.mdx$/, ''),
        order: Number(/^order:\s*(\d+)/m.exec(front)?.[1] ?? NaN),
        models: [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]),
      };
    })
    .sort((a, b) => a.order - b.order);
}

/** Bytes of a chapter's models in the manifest; an id the manifest lacks counts as missing, not as 0. */
export function chapterModelBytes(chapter: ChapterModels, manifest: Pick<Manifest, 'models'>): number {
  return chapter.models.reduce((n, id) => {
    const entry = manifest.models[id];
    if (!entry) throw new Error(`chapter ${chapter.id} lists ${id}, which manifest.json does not have`);
    return n + entry.bytes;
  }, 0);
}
