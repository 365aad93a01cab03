import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Issue 8's download budget: the models a chapter lists in its frontmatter, summed from the manifest. */
const CHAPTER_MODEL_BUDGET = 8e6;

const manifest = JSON.parse(readFileSync('public/weights/manifest.json', 'utf8')) as {
  models: Record<string, { bytes: number }>;
};
const dir = 'src/content/chapters';
const chapters = readdirSync(dir)
  .filter((f) => f.endsWith('.mdx'))
  .map((f) => {
    const front = readFileSync(join(dir, f), 'utf8').split('---')[1] ?? '';
    const ids = [...(/^models:\s*\[(.*)\]/m.exec(front)?.[1] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]);
    return { name: f.replace('.mdx', ''), ids };
  });

describe('chapter model bytes', () => {
  it('finds the chapters', () => {
    expect(chapters.length).toBeGreaterThanOrEqual(8);
  });
  it.each(chapters)('$name lists only shipped models and stays under 8 MB', ({ ids }) => {
    for (const id of ids) expect(manifest.models[id], id).toBeDefined();
    const bytes = ids.reduce((n, id) => n + manifest.models[id].bytes, 0);
    expect(bytes).toBeLessThan(CHAPTER_MODEL_BUDGET);
  });
});
