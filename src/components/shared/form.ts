/** Reading figure controls: typed-in numbers are clamped to what the figure accepts, never trusted. */

/** Seeds are 32-bit unsigned integers (the generator's state is seeded from one). */
export const MAX_SEED = 4294967295;

/** An integer in [lo, hi] from a text field; `fallback` when the field holds no number. */
export function clampInteger(text: string, lo: number, hi: number, fallback: number): number {
  const n = Math.floor(Number(text));
  return Number.isFinite(n) && text.trim() !== '' ? Math.max(lo, Math.min(hi, n)) : fallback;
}

/** A number in [lo, hi] from a text field; `fallback` when the field holds no number. */
export function clampNumber(text: string, lo: number, hi: number, fallback: number): number {
  const n = Number(text);
  return Number.isFinite(n) && text.trim() !== '' ? Math.max(lo, Math.min(hi, n)) : fallback;
}
