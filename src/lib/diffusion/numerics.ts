/**
 * The few numpy/torch primitives whose exact rounding the schedulers depend on.
 *
 * diffusers keeps its schedule tables in float32 tensors and does its scalar maths on float32
 * 0-dim tensors; JavaScript numbers are float64. Rounding with `f32` after each operation
 * reproduces torch's float32 results bit for bit for +, -, *, / and sqrt (float64 has more than
 * twice float32's precision, so rounding twice equals rounding once). Where it matters: a term
 * such as `1 - alpha_t / alpha_prev` loses up to 1e-4 of relative accuracy to float32
 * cancellation in diffusers, and we want the same numbers, not better ones.
 */

/** Rounds to the nearest float32, the precision of torch's default dtype. */
export const f32 = Math.fround;

/**
 * `torch.linspace(start, end, steps, dtype=torch.float32)` on CPU: the step is a float32, the first
 * half counts up from `start` and the second half down from `end`, each value rounded once
 * (torch's kernel uses a fused multiply-add).
 */
export function linspaceFloat32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const s = f32(start);
  const e = f32(end);
  const step = f32((e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    out[i] = i < halfway ? s + step * i : e - step * (steps - 1 - i);
  }
  return out;
}

/** `np.linspace(start, stop, num)` in float64 (endpoint included, last value exactly `stop`). */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  out[num - 1] = stop;
  return out;
}

/**
 * `np.arange(start, stop, step)` for float steps: numpy sizes the result as
 * ceil((stop - start) / step) and fills it as start + i * ((start + step) - start).
 */
export function arange(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  if (length === 0) return [];
  const delta = start + step - start;
  return Array.from({ length }, (_, i) => (i === 1 ? start + step : start + i * delta));
}

/** `np.round`: round half to even (numpy's rule), unlike `Math.round` which rounds half up. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * `np.interp(x, xp, fp)` for increasing `xp`, computed in float64 as numpy does:
 * slope * (x - xp[j]) + fp[j], with exact grid points returned unchanged.
 */
export function interp(x: number, xp: ArrayLike<number>, fp: ArrayLike<number>): number {
  const n = xp.length;
  if (x <= xp[0]) return fp[0];
  if (x >= xp[n - 1]) return fp[n - 1];
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xp[mid] <= x) lo = mid;
    else hi = mid;
  }
  if (xp[lo] === x) return fp[lo];
  const slope = (fp[lo + 1] - fp[lo]) / (xp[lo + 1] - xp[lo]);
  return slope * (x - xp[lo]) + fp[lo];
}

/** `torch.cumprod` of a float32 vector on CPU: accumulated in float64, each output rounded to float32. */
export function cumprod(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  let product = 1;
  for (let i = 0; i < values.length; i++) {
    product *= values[i];
    out[i] = product;
  }
  return out;
}

/**
 * `torch.quantile(values, q)` with the default linear interpolation, in float32: the rank
 * q * (n - 1) and the interpolation weight are float32, and the blend follows `torch.lerp`.
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float32Array.from(values).sort();
  const rank = f32(f32(q) * (sorted.length - 1));
  const below = Math.floor(rank);
  const above = Math.ceil(rank);
  const weight = f32(rank - below);
  const start = sorted[below];
  const end = sorted[above];
  // torch.lerp switches formula at 0.5 so that both endpoints are reproduced exactly.
  return weight < 0.5
    ? f32(start + f32(weight * f32(end - start)))
    : f32(end - f32(f32(end - start) * f32(1 - weight)));
}
