import { getCollection, type CollectionEntry } from 'astro:content';

export type Chapter = CollectionEntry<'chapters'>;

/** Chapters a reader sees, in reading order; drafts never appear in lists or links. */
export async function publishedChapters(): Promise<Chapter[]> {
  const all = await getCollection('chapters', ({ data }) => !data.draft);
  return all.sort((a, b) => a.data.order - b.data.order);
}

/** URL of a chapter page, relative to the site's base. */
export function chapterHref(chapter: Chapter): string {
  return `${import.meta.env.BASE_URL}chapters/${chapter.id}/`;
}
