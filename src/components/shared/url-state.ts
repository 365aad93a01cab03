/**
 * Figure settings in the page URL, so that a link reproduces what the reader set up: every named
 * control in a figure's `form.controls` is read from `?<figure>.<name>=` when the page opens (checked
 * and clamped by src/lib/site/url-state.ts, with a notice under the figure when a value had to change)
 * and written back with history.replaceState whenever the reader changes it. Values equal to the
 * control's default stay out of the URL. Uploaded files and results are not settings and never travel.
 */
import { paramName, restoreValue, type ControlSpec } from '../../lib/site/url-state';

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

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
      return { name, kind: 'choice', options: controls.map((c) => c.value) };
    case 'checkbox':
      return controls.length === 1 ? { name, kind: 'checkbox' } : null;
    case 'text':
    case 'search':
      return { name, kind: 'text', maxLength: first.maxLength > 0 ? first.maxLength : undefined };
    default:
      return null; // files, buttons, hidden fields: not settings a link can carry
  }
}

function current(controls: Control[]): string {
  const first = controls[0];
  if (first instanceof HTMLInputElement && first.type === 'radio')
    return (controls as HTMLInputElement[]).find((c) => c.checked)?.value ?? '';
  if (first instanceof HTMLInputElement && first.type === 'checkbox') return first.checked ? '1' : '0';
  return first.value;
}

function initial(controls: Control[]): string {
  const first = controls[0];
  if (first instanceof HTMLSelectElement)
    return [...first.options].find((o) => o.defaultSelected)?.value ?? first.options[0]?.value ?? '';
  if (first instanceof HTMLInputElement && first.type === 'radio')
    return (controls as HTMLInputElement[]).find((c) => c.defaultChecked)?.value ?? '';
  if (first instanceof HTMLInputElement && first.type === 'checkbox') return first.defaultChecked ? '1' : '0';
  return first.defaultValue;
}

function assign(controls: Control[], value: string) {
  const first = controls[0];
  if (first instanceof HTMLInputElement && first.type === 'radio') {
    for (const c of controls as HTMLInputElement[]) c.checked = c.value === value;
  } else if (first instanceof HTMLInputElement && first.type === 'checkbox') {
    first.checked = value === '1';
  } else {
    first.value = value;
  }
  const target = (controls as HTMLInputElement[]).find((c) => !('checked' in c) || c.checked) ?? first;
  target.dispatchEvent(new Event('input', { bubbles: true }));
  target.dispatchEvent(new Event('change', { bubbles: true }));
}

/** Binds every figure form on the page to the URL. */
export function bindFiguresToUrl(root: ParentNode = document) {
  const seen = new Map<string, number>();
  const params = new URLSearchParams(location.search);
  for (const form of root.querySelectorAll<HTMLFormElement>('form.controls')) {
    const figure = form.closest<HTMLElement>('[data-state]') ?? form.parentElement;
    if (!figure) continue;
    const tag = figure.localName;
    const n = (seen.get(tag) ?? 0) + 1;
    seen.set(tag, n);
    const key = n === 1 ? tag : `${tag}-${n}`;
    const groups = new Map<string, Control[]>();
    for (const el of form.elements) {
      if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement))
        continue;
      if (!el.name) continue;
      groups.set(el.name, [...(groups.get(el.name) ?? []), el]);
    }
    const bound = [...groups].flatMap(([name, controls]) => {
      const spec = specOf(name, controls);
      return spec ? [{ name, controls, spec, fallback: initial(controls) }] : [];
    });
    const restore = () => {
      const notices: string[] = [];
      for (const b of bound) {
        const raw = params.get(paramName(key, b.name));
        if (raw === null) continue;
        const restored = restoreValue(b.spec, raw);
        if (restored.notice) notices.push(restored.notice);
        if (restored.value !== null) assign(b.controls, restored.value);
      }
      if (notices.length) {
        const note = document.createElement('p');
        note.className = 'url-notice notice';
        note.setAttribute('role', 'status');
        note.textContent = notices.join(' ');
        form.after(note);
      }
    };
    // After the figure's own script has wired its listeners, so that its readouts follow the restored values.
    if (tag.includes('-')) void customElements.whenDefined(tag).then(restore);
    else restore();
    const write = () => {
      const url = new URL(location.href);
      for (const b of bound) {
        const value = current(b.controls);
        if (value === b.fallback) url.searchParams.delete(paramName(key, b.name));
        else url.searchParams.set(paramName(key, b.name), value);
      }
      history.replaceState(history.state, '', url);
    };
    form.addEventListener('input', write);
    form.addEventListener('change', write);
  }
}
