/**
 * Figure settings in the page URL: the pure half. A figure's control `seed` in `<dit-sampler>` is the
 * parameter `dit-sampler.seed`; a value read back from a link is checked against the control's own
 * limits (min, max, step, the options of a menu) and clamped or dropped with a sentence for the reader.
 */

/** What the page knows about one control. */
export interface ControlSpec {
  name: string;
  /** `set` is a group of checkboxes: any of `options`, written comma-separated in the link. */
  kind: 'number' | 'text' | 'choice' | 'checkbox' | 'set';
  min?: number;
  max?: number;
  step?: number;
  /** For `choice` (a menu or a radio group) and `set`: the values it offers. */
  options?: string[];
  /** For `text`: the longest value kept. */
  maxLength?: number;
  /**
   * For `text` that a figure decodes itself (a painted mask): the whole value must match, else it is
   * dropped with a notice rather than handed to a decoder that would have to guess.
   */
  pattern?: RegExp;
}

export interface Restored {
  /** The value to set, or null to leave the control as it is. */
  value: string | null;
  /** Set when the link's value could not be used as it was. */
  notice?: string;
}

/** The URL parameter of one control of one figure. */
export function paramName(figureKey: string, control: string): string {
  return `${figureKey}.${control}`;
}

/** Snaps to the step grid from `min` (as an <input type=number> would accept) and clamps to [min, max]. */
function clampNumber(x: number, spec: ControlSpec): number {
  const { min = -Infinity, max = Infinity, step } = spec;
  let v = Math.min(max, Math.max(min, x));
  if (step && step > 0) {
    const base = Number.isFinite(min) ? min : 0;
    v = base + Math.round((v - base) / step) * step;
    if (v > max) v -= step;
    const decimals = (String(step).split('.')[1] ?? '').length;
    v = Number(v.toFixed(decimals));
  }
  return v;
}

/** Reads a control's value from a link: the value to set, clamped, or nothing, each with a notice when changed. */
export function restoreValue(spec: ControlSpec, raw: string): Restored {
  const label = `“${spec.name}”`;
  if (spec.kind === 'number') {
    const x = Number(raw.trim());
    if (raw.trim() === '' || !Number.isFinite(x)) {
      return { value: null, notice: `The link's ${label} (${raw.slice(0, 40)}) is not a number; kept the default.` };
    }
    const v = clampNumber(x, spec);
    if (v !== x)
      return { value: String(v), notice: `The link's ${label} ${x} is outside what this figure takes; used ${v}.` };
    return { value: String(v) };
  }
  if (spec.kind === 'choice') {
    if (spec.options?.includes(raw)) return { value: raw };
    return {
      value: null,
      notice: `The link's ${label} “${raw.slice(0, 40)}” is not one of the choices; kept the default.`,
    };
  }
  if (spec.kind === 'set') {
    const options = spec.options ?? [];
    const asked = raw.split(',').filter((v) => v !== '');
    const unknown = asked.filter((v) => !options.includes(v));
    // In the figure's own order, so that one choice has one spelling in a link.
    const value = options.filter((v) => asked.includes(v)).join(',');
    if (unknown.length === 0) return { value };
    const names = unknown.map((v) => `“${v.slice(0, 40)}”`).join(', ');
    return { value, notice: `The link's ${label} names ${names}, which this figure does not offer; left out.` };
  }
  if (spec.kind === 'checkbox') {
    if (raw === '1' || raw === '0') return { value: raw };
    return { value: null, notice: `The link's ${label} should be 0 or 1; kept the default.` };
  }
  const max = spec.maxLength ?? 500;
  if (spec.pattern && !spec.pattern.test(raw))
    return { value: null, notice: `The link's ${label} is not in a form this figure reads; kept the default.` };
  if (raw.length > max)
    return { value: raw.slice(0, max), notice: `The link's ${label} was cut to ${max} characters.` };
  return { value: raw };
}
