/** Sentences about which chapters exist, made from the chapter collection so that they cannot go stale. */

/** The name before a chapter title's colon: "DDPM: noise, step by step" -> "DDPM". */
export function shortTitle(title: string): string {
  return title.split(':')[0].trim();
}

/** "a, b and c" (English list, no serial comma, as the guide's prose writes it). */
export function listInWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/**
 * What the home page says exists: every published chapter by short name, in reading order, and how
 * many drafts are still being written (drafts are never linked).
 */
export function describeChapters(published: readonly string[], drafts = 0): string {
  if (published.length === 0) return 'No chapter is published yet.';
  const names = listInWords(published.map(shortTitle));
  const count = published.length === 1 ? 'One chapter is' : `All ${published.length} chapters are`;
  const more = drafts > 0 ? ` ${drafts === 1 ? 'One more is' : `${drafts} more are`} being written.` : '';
  return `${count} below, in reading order: ${names}.${more}`;
}
