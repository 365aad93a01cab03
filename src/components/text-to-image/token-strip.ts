/**
 * The prompt as the text encoder receives it: the fixed-length row of token ids (BOS, words,
 * EOS, padding), with unknown words marked and words beyond the context listed as cut off.
 */
import type { Encoding, Token, WordTokenizer } from '../../lib/pipelines/tokenizer';

const KIND_NOTE: Record<Token['kind'], string> = {
  bos: 'start of text',
  word: '',
  unknown: 'unknown word, read as the unknown token',
  eos: 'end of text',
  pad: 'padding',
};

/**
 * A token chip's element: `.token` of its kind, holding the token's text and, under it, a small
 * figure (its id here; figures with selectable tokens show something else, such as a share).
 */
export function tokenElement<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  kind: Token['kind'],
  text: string,
  small: string,
): { element: HTMLElementTagNameMap[K]; text: HTMLSpanElement; small: HTMLSpanElement } {
  const element = document.createElement(tag);
  element.className = 'token';
  element.dataset.kind = kind;
  const span = (className: string, content: string) => {
    const el = document.createElement('span');
    el.className = className;
    el.textContent = content;
    return el;
  };
  return { element, text: span('token-text', text), small: span('token-id', small) };
}

function chip(token: Token): HTMLLIElement {
  const { element: li, text, small } = tokenElement('li', token.kind, token.text, String(token.id));
  li.append(text, small);
  const note = KIND_NOTE[token.kind];
  li.title = note ? `${token.text}: ${note}, id ${token.id}` : `${token.text}: id ${token.id}`;
  if (token.kind === 'unknown') {
    const hidden = document.createElement('span');
    hidden.className = 'visually-hidden';
    hidden.textContent = ` (${note})`;
    li.append(hidden);
  }
  return li;
}

const quoteList = (words: string[]) => words.map((w) => `“${w}”`).join(', ');

/** What to tell the reader about a prompt, in words; empty when there is nothing to say. */
export function encodingNotes(encoding: Encoding, contextLength: number): string[] {
  const notes: string[] = [];
  if (!encoding.tokens.some((t) => t.kind === 'word' || t.kind === 'unknown')) {
    notes.push(
      'The prompt has no words, so it is the unconditional prompt: the image follows no text (guidance has nothing to push towards).',
    );
  }
  if (encoding.ignored.length) {
    const unique = [...new Set(encoding.ignored)];
    notes.push(
      `${quoteList(unique)} ${unique.length === 1 ? 'is' : 'are'} not made of the letters a–z and digits the tokenizer reads, so ${unique.length === 1 ? 'it is' : 'they are'} skipped; describe ${unique.length === 1 ? 'it' : 'them'} in words instead.`,
    );
  }
  if (encoding.unknown.length) {
    const unique = [...new Set(encoding.unknown)];
    notes.push(
      `${quoteList(unique)} ${unique.length === 1 ? 'is' : 'are'} not in the vocabulary: the encoder sees the unknown token in ${unique.length === 1 ? 'its' : 'their'} place.`,
    );
  }
  if (encoding.dropped.length) {
    notes.push(
      `Only ${contextLength - 2} words fit between BOS and EOS; ${quoteList(encoding.dropped)} ${encoding.dropped.length === 1 ? 'was' : 'were'} cut off and never reach the encoder.`,
    );
  }
  return notes;
}

/** Fills `host` with the token row, the cut-off words and the notes. */
export function renderTokenStrip(host: HTMLElement, encoding: Encoding, contextLength: number) {
  const list = document.createElement('ol');
  list.className = 'token-list';
  list.setAttribute('aria-label', `The ${contextLength} tokens the text encoder sees`);
  list.append(...encoding.tokens.map(chip));
  const parts: HTMLElement[] = [list];
  if (encoding.dropped.length) {
    const cut = document.createElement('ol');
    cut.className = 'token-list cut';
    cut.setAttribute('aria-label', 'Words cut off beyond the context');
    cut.append(
      ...encoding.dropped.map((word) => {
        const li = document.createElement('li');
        li.className = 'token';
        li.dataset.kind = 'dropped';
        li.innerHTML = '<span class="token-text"></span><span class="token-id">cut</span>';
        li.querySelector('.token-text')!.textContent = word;
        li.title = `${word}: beyond the ${contextLength}-token context, dropped`;
        return li;
      }),
    );
    parts.push(cut);
  }
  const notes = encodingNotes(encoding, contextLength);
  const note = document.createElement('p');
  note.className = 'token-note';
  note.textContent = notes.length
    ? notes.join(' ')
    : `${encoding.tokens.filter((t) => t.kind === 'word').length} known words, padded to ${contextLength} tokens.`;
  parts.push(note);
  host.replaceChildren(...parts);
}

/**
 * Keeps a token strip in step with a prompt box: loads the tokenizer when the figure comes near
 * the screen (or the reader types), then re-encodes on every keystroke. `refresh` re-renders now.
 */
export function bindTokenStrip(
  figure: HTMLElement,
  input: HTMLInputElement,
  host: HTMLElement,
  load: () => Promise<WordTokenizer>,
): { refresh: () => void } {
  let tokenizer: WordTokenizer | null = null;
  const render = () => {
    if (tokenizer) renderTokenStrip(host, tokenizer.encode(input.value), tokenizer.contextLength);
  };
  const refresh = () => {
    if (tokenizer) return render();
    load().then(
      (loaded) => {
        tokenizer = loaded;
        render();
      },
      (error: unknown) => {
        const note = document.createElement('p');
        note.className = 'token-note';
        note.textContent = `The tokenizer did not load (${error instanceof Error ? error.message : String(error)}); the tokens will show when a run loads it.`;
        host.replaceChildren(note);
      },
    );
  };
  const observer = new IntersectionObserver(
    (entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      observer.disconnect();
      refresh();
    },
    { rootMargin: '400px' },
  );
  observer.observe(figure);
  input.addEventListener('input', refresh);
  return { refresh };
}
