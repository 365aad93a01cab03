import { describe, expect, it } from 'vitest';
import { CHAPTER_MODEL_BUDGET, chapterModelBytes, readChapterModels } from '../../src/lib/site/chapter-models';
import { readManifest } from '../../src/lib/site/models';

/** Issue 8's download budget: the models a chapter lists in its frontmatter, summed from the manifest. */
const manifest = readManifest();
const chapters = readChapterModels();

describe('chapter model bytes', () => {
  it('finds the chapters, in reading order', () => {
    expect(chapters.length).toBeGreaterThanOrEqual(8);
    expect(chapters[0].id).toBe('ddpm');
  });
  it.each(chapters)('$id lists only shipped models and stays under 8 MB', (chapter) => {
    for (const id of chapter.models) expect(manifest.models[id], id).toBeDefined();
    expect(chapterModelBytes(chapter, manifest)).toBeLessThan(CHAPTER_MODEL_BUDGET);
  });
  it('a model the manifest lacks is an error, not zero bytes', () => {
    expect(() => chapterModelBytes({ id: 'x', order: 0, models: ['no_such_model'] }, manifest)).toThrow(
      /no_such_model/,
    );
  });
});
