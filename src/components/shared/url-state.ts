/**
 * Figure settings in the page URL, so that a link reproduces what the reader set up. A figure's
 * settings are read from `?<figure>.<name>=` when the page opens (checked and clamped by
 * src/lib/site/url-state.ts, with a notice under the figure when a value had to change) and written
 * back with history.replaceState whenever the reader changes them. Values equal to their default stay
 * out of the URL. Uploaded files and results are not settings and never travel.
 *
 * What counts as a setting:
 * - every named control in the figure's `form.controls`;
 * - any input or select elsewhere in the figure marked `data-url-state` (its value, if any, names the
 *   parameter in place of the control's `name`, which radio groups must keep unique on the page); a
 *   radio's `data-url-value` is how the link spells its value;
 * - state that is no form control (a picked token, a painted mask), which the figure registers with
 *   `bindValueToUrl` and reports with `syncUrl` when it changes.
 *
 * A control marked `data-url-restore="after-run"` only means something once the figure has run (a
 * scrubber over the recorded steps, a choice among the tokens of the prompt): the link's value waits
 * until the figure calls `restoreAfterRun`, and is then clamped to what that run recorded. Links never
 * start a run themselves (that would download weights unasked): the reader presses the figure's button.
 */
import { paramName, restoreValue, type ControlSpec } from '../../lib/site/url-state';

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/** A figure's own state for the link: how to read it, set it and check a link's value for it. */
export interface FigureValue {
  /** `spec.name` is the parameter's name after the figure's. */
  spec: ControlSpec;
  get(): string;
  /** Applies a value from a link (already checked against `spec`) and redraws. */
  set(value: string): void;
}

/** One setting as the binding sees it, a group of controls or a registered value alike. */
interface Binding {
  name: string;
  spec(): ControlSpec | null;
  /** null when there is nothing a link could carry (an upload in place of the sample pictures). */
  get(): string | null;
  fallback(): string;
  set(value: string): void;
  afterRun: boolean;
}

interface FigureState {
  /** Registered values, each with its value at registration: its default. */
  values: (FigureValue & { fallback: string })[];
  /** Set once the page has bound the figure. */
  bound?: {
    key: string;
    /** The link's parameters for this figure not applied yet: they stay in the URL as they are. */
    pending: Map<string, string>;
  };
}

const figures = new WeakMap<HTMLElement, FigureState>();

function stateOf(figure: HTMLElement): FigureState {
  let state = figures.get(figure);
  if (!state) figures.set(figure, (state = { values: [] }));
  return state;
}

/** How a link spells a radio's value: short and independent of where the site is served. */
const linkValue = (c: HTMLInputElement) => c.dataset.urlValue ?? c.value;

function specOf(name: string, controls: Control[]): ControlSpec | null {
  const first = controls[0];
  if (first instanceof HTMLSelectElement)
    return { name, kind: 'choice', options: [...first.options].map((o) => o.value) };
  if (first instanceof HTMLTextAreaElement)
    return { name, kind: 'text', maxLength: first.maxLength > 0 ? first.maxLength : undefined };
  switch (first.type) {
    case 'number':
    case 'range': {
      const num = (v: string) => (v === '' || v === 'any' ? undefined : Number(v));
      return { name, kind: 'number', min: num(first.min), max: num(first.max), step: num(first.step) };
    }
    case 'radio':
      return { name, kind: 'choice', options: (controls as HTMLInputElement[]).map(linkValue) };
    case 'checkbox':
      return controls.length === 1
        ? { name, kind: 'checkbox' }
        : { name, kind: 'set', options: controls.map((c) => c.value) };
    case 'text':
    case 'search':
      return { name, kind: 'text', maxLength: first.maxLength > 0 ? first.maxLength : undefined };
    default:
      return null; // files, buttons, hidden fields: not settings a link can carry
  }
}

const isGroup = (first: Control) =>
  first instanceof HTMLInputElement && (first.type === 'radio' || first.type === 'checkbox');

/** The group's value now or, with `atDefault`, as the page (or, for a scrubber, the figure's last run) set it. */
function valueOf(controls: Control[], atDefault: boolean): string | null {
  const first = controls[0];
  if (first instanceof HTMLSelectElement) {
    if (!atDefault) return first.value;
    return [...first.options].find((o) => o.defaultSelected)?.value ?? first.options[0]?.value ?? '';
  }
  if (!isGroup(first)) return atDefault ? first.defaultValue : first.value;
  const on = (controls as HTMLInputElement[]).filter((c) => (atDefault ? c.defaultChecked : c.checked));
  if ((first as HTMLInputElement).type === 'radio') return on[0] ? linkValue(on[0]) : null;
  if (controls.length === 1) return on.length ? '1' : '0';
  return on.map((c) => c.value).join(',');
}

function assign(controls: Control[], value: string) {
  const first = controls[0];
  if (first instanceof HTMLInputElement && first.type === 'radio') {
    for (const c of controls as HTMLInputElement[]) c.checked = linkValue(c) === value;
  } else if (first instanceof HTMLInputElement && first.type === 'checkbox') {
    const on = controls.length === 1 ? [value === '1'] : controls.map((c) => value.split(',').includes(c.value));
    (controls as HTMLInputElement[]).forEach((c, i) => (c.checked = on[i]));
  } else {
    first.value = value;
  }
  // Figures redraw on their controls' own events; a group announces through its checked member.
  const targets = isGroup(first) ? (controls as HTMLInputElement[]).filter((c) => c.checked) : [first];
  for (const target of targets.length ? targets : [first]) {
    target.dispatchEvent(new Event('input', { bubbles: true }));
    target.dispatchEvent(new Event('change', { bubbles: true }));
  }
}

/** The figure's settings as bindings, looked up afresh each time: a run can add controls (a prompt's tokens). */
function bindingsOf(figure: HTMLElement): Binding[] {
  const groups = new Map<string, Control[]>();
  const add = (el: Element) => {
    if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement))
      return;
    const name = (el as HTMLElement).dataset.urlState || el.name;
    if (!name) return;
    const group = groups.get(name) ?? [];
    if (!group.includes(el)) groups.set(name, [...group, el]);
  };
  const form = figure.querySelector<HTMLFormElement>('form.controls');
  if (form) for (const el of form.elements) add(el);
  figure.querySelectorAll('[data-url-state]').forEach(add);
  const controls = [...groups].map(([name, group]): Binding => ({
    name,
    spec: () => specOf(name, group),
    get: () => valueOf(group, false),
    fallback: () => valueOf(group, true) ?? '',
    set: (value) => assign(group, value),
    afterRun: group[0].dataset.urlRestore === 'after-run',
  }));
  const values = stateOf(figure).values.map((v): Binding => ({
    name: v.spec.name,
    spec: () => v.spec,
    get: v.get,
    fallback: () => v.fallback,
    set: v.set,
    afterRun: false,
  }));
  return [...controls, ...values];
}

/** Applies link values to bindings; returns the notices for the reader. */
function apply(bindings: Binding[], raws: Map<string, string>): string[] {
  const notices: string[] = [];
  for (const b of bindings) {
    const raw = raws.get(b.name);
    const spec = b.spec();
    if (raw === undefined || !spec) continue;
    raws.delete(b.name);
    const restored = restoreValue(spec, raw);
    if (restored.notice) notices.push(restored.notice);
    if (restored.value !== null) b.set(restored.value);
  }
  return notices;
}

/** Says under the figure's controls what a link asked for that could not be used as it was. */
function notify(figure: HTMLElement, notices: string[]) {
  if (!notices.length) return;
  let note = figure.querySelector<HTMLElement>('.url-notice');
  if (note) {
    note.textContent = `${note.textContent} ${notices.join(' ')}`;
    return;
  }
  note = document.createElement('p');
  note.className = 'url-notice notice';
  note.setAttribute('role', 'status');
  note.textContent = notices.join(' ');
  const anchor = figure.querySelector('form.controls') ?? figure.querySelector('.controls');
  if (anchor) anchor.after(note);
  else figure.prepend(note);
}

/** Brings the URL up to date with the figure's settings. Call it when a setting changed without an input event. */
export function syncUrl(figure: HTMLElement) {
  const bound = figures.get(figure)?.bound;
  if (!bound) return;
  const url = new URL(location.href);
  for (const b of bindingsOf(figure)) {
    if (bound.pending.has(b.name)) continue;
    const param = paramName(bound.key, b.name);
    const value = b.get();
    if (value === null || value === b.fallback()) url.searchParams.delete(param);
    else url.searchParams.set(param, value);
  }
  if (url.href !== location.href) history.replaceState(history.state, '', url);
}

/**
 * Puts state that is no form control in the link, as `<figure>.<spec.name>`; its value now is its
 * default. Call from the figure's connectedCallback, and call `syncUrl` whenever the reader changes it.
 */
export function bindValueToUrl(figure: HTMLElement, value: FigureValue) {
  stateOf(figure).values.push({ ...value, fallback: value.get() });
}

/**
 * Call when a run has finished and the figure has set its run-dependent controls (scrubbers to where
 * a run leaves them, which should also be their `defaultValue`): the first time, the link's values for
 * `data-url-restore="after-run"` controls are applied, clamped to this run; every time, the URL follows.
 */
export function restoreAfterRun(figure: HTMLElement) {
  const bound = figures.get(figure)?.bound;
  if (!bound) return;
  const waiting = bindingsOf(figure).filter((b) => b.afterRun);
  notify(figure, apply(waiting, bound.pending));
  syncUrl(figure);
}

/** Binds every figure on the page to the URL. */
export function bindFiguresToUrl(root: ParentNode = document) {
  const seen = new Map<string, number>();
  const params = new URLSearchParams(location.search);
  for (const figure of root.querySelectorAll<HTMLElement>('.figure')) {
    const tag = figure.localName;
    const n = (seen.get(tag) ?? 0) + 1;
    seen.set(tag, n);
    const key = n === 1 ? tag : `${tag}-${n}`;
    const restore = () => {
      const pending = new Map<string, string>();
      const prefix = `${key}.`;
      for (const [param, raw] of params) if (param.startsWith(prefix)) pending.set(param.slice(prefix.length), raw);
      stateOf(figure).bound = { key, pending };
      const now = bindingsOf(figure).filter((b) => !b.afterRun);
      notify(figure, apply(now, pending));
    };
    // After the figure's own script has wired its listeners, so that its readouts follow the restored values.
    if (tag.includes('-')) void customElements.whenDefined(tag).then(restore);
    else restore();
    const write = () => syncUrl(figure);
    figure.addEventListener('input', write);
    figure.addEventListener('change', write);
  }
}
