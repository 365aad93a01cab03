/**
 * A dense float32 tensor: `data` is the row-major (C-order) flattening of `shape`, the same layout
 * as a contiguous `torch.Tensor` or an ONNX Runtime tensor, so data passes between them unchanged.
 */
export interface Tensor {
  data: Float32Array;
  shape: number[];
}

/** Number of elements of a tensor with this shape. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Wraps (or copies into float32) `data` as a tensor of `shape`; throws when the sizes disagree. */
export function tensor(data: ArrayLike<number>, shape: readonly number[]): Tensor {
  const size = numel(shape);
  if (data.length !== size) {
    throw new Error(`tensor: ${data.length} values cannot fill shape [${shape.join(', ')}] (${size} elements).`);
  }
  const values = data instanceof Float32Array ? data : Float32Array.from(data);
  return { data: values, shape: [...shape] };
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[]): Tensor {
  return { data: new Float32Array(numel(shape)), shape: [...shape] };
}

/** A tensor filled with one value. */
export function full(shape: readonly number[], value: number): Tensor {
  return { data: new Float32Array(numel(shape)).fill(value), shape: [...shape] };
}

/** A deep copy. */
export function clone(t: Tensor): Tensor {
  return { data: t.data.slice(), shape: [...t.shape] };
}

/** Same data viewed with another shape of equal size (no copy), like `torch.reshape` on a contiguous tensor. */
export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  if (numel(shape) !== t.data.length) {
    throw new Error(`reshape: cannot view [${t.shape.join(', ')}] as [${shape.join(', ')}].`);
  }
  return { data: t.data, shape: [...shape] };
}

/** Throws a readable error unless `a` and `b` have identical shapes. */
export function assertSameShape(a: Tensor, b: Tensor, context = 'tensors'): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${context}: shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ.`);
  }
}

/** Applies `fn` to every element; each result is rounded to float32 once, when stored. */
export function mapTensor(t: Tensor, fn: (value: number, index: number) => number): Tensor {
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = fn(t.data[i], i);
  return { data: out, shape: [...t.shape] };
}

/** Element-wise `fn(a[i], b[i])` over two tensors of the same shape. */
export function zipTensors(a: Tensor, b: Tensor, fn: (x: number, y: number, index: number) => number): Tensor {
  assertSameShape(a, b, 'zipTensors');
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = fn(a.data[i], b.data[i], i);
  return { data: out, shape: [...a.shape] };
}

/**
 * Element-wise `fn([t0[i], t1[i], ...])` over any number of same-shape tensors, for update rules
 * that mix three or more tensors (e.g. DPM-Solver's multistep updates).
 */
export function mapTensors(tensors: readonly Tensor[], fn: (values: number[], index: number) => number): Tensor {
  if (tensors.length === 0) throw new Error('mapTensors: needs at least one tensor.');
  for (const t of tensors) assertSameShape(tensors[0], t, 'mapTensors');
  const out = new Float32Array(tensors[0].data.length);
  const values = new Array<number>(tensors.length);
  for (let i = 0; i < out.length; i++) {
    for (let k = 0; k < tensors.length; k++) values[k] = tensors[k].data[i];
    out[i] = fn(values, i);
  }
  return { data: out, shape: [...tensors[0].shape] };
}

/** a + b */
export function add(a: Tensor, b: Tensor): Tensor {
  return zipTensors(a, b, (x, y) => x + y);
}

/** a - b */
export function sub(a: Tensor, b: Tensor): Tensor {
  return zipTensors(a, b, (x, y) => x - y);
}

/** a * b (element-wise) */
export function mul(a: Tensor, b: Tensor): Tensor {
  return zipTensors(a, b, (x, y) => x * y);
}

/** s * t */
export function scale(t: Tensor, s: number): Tensor {
  return mapTensor(t, (x) => s * x);
}

/** a + w * (b - a), the same formula as `torch.lerp`. */
export function lerp(a: Tensor, b: Tensor, weight: number): Tensor {
  return zipTensors(a, b, (x, y) => x + weight * (y - x));
}

/** Clamps every element into [min, max], like `torch.clamp`. */
export function clamp(t: Tensor, min: number, max: number): Tensor {
  return mapTensor(t, (x) => Math.min(Math.max(x, min), max));
}

/** Batch elements `start..end-1` (dim 0) as a new tensor. */
export function sliceBatch(t: Tensor, start: number, end = start + 1): Tensor {
  const [batch, ...rest] = t.shape;
  if (start < 0 || end > batch || start >= end) {
    throw new Error(`sliceBatch: range ${start}..${end} is outside a batch of ${batch}.`);
  }
  const stride = numel(rest);
  return { data: t.data.slice(start * stride, end * stride), shape: [end - start, ...rest] };
}

/** Concatenates tensors along dim 0, e.g. `[uncond, cond]` into one classifier-free-guidance batch. */
export function concatBatch(tensors: readonly Tensor[]): Tensor {
  if (tensors.length === 0) throw new Error('concatBatch: needs at least one tensor.');
  const rest = tensors[0].shape.slice(1);
  for (const t of tensors) {
    if (t.shape.length !== rest.length + 1 || t.shape.slice(1).some((d, i) => d !== rest[i])) {
      throw new Error(`concatBatch: shape [${t.shape.join(', ')}] does not match [*, ${rest.join(', ')}].`);
    }
  }
  const data = new Float32Array(tensors.reduce((n, t) => n + t.data.length, 0));
  let offset = 0;
  for (const t of tensors) {
    data.set(t.data, offset);
    offset += t.data.length;
  }
  const batch = tensors.reduce((n, t) => n + t.shape[0], 0);
  return { data, shape: [batch, ...rest] };
}

/**
 * Splits dim 1 into its first `channels` channels and the rest, like
 * `torch.split(t, channels, dim=1)`; used for models that also predict a variance.
 */
export function splitChannels(t: Tensor, channels: number): [Tensor, Tensor] {
  const [batch, total, ...spatial] = t.shape;
  if (channels <= 0 || channels >= total) {
    throw new Error(`splitChannels: cannot split ${total} channels at ${channels}.`);
  }
  const plane = numel(spatial);
  const first = new Float32Array(batch * channels * plane);
  const second = new Float32Array(batch * (total - channels) * plane);
  for (let n = 0; n < batch; n++) {
    const base = n * total * plane;
    first.set(t.data.subarray(base, base + channels * plane), n * channels * plane);
    second.set(t.data.subarray(base + channels * plane, base + total * plane), n * (total - channels) * plane);
  }
  return [
    { data: first, shape: [batch, channels, ...spatial] },
    { data: second, shape: [batch, total - channels, ...spatial] },
  ];
}
