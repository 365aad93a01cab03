/**
 * Maths on CLIP embeddings for unCLIP (Ramesh et al. 2022): the unit-rms scale the prior diffuses
 * on, cosine similarity, spherical interpolation (Sec. 3.2) and a 2-D principal-component map.
 * Embeddings are [N, E] tensors, one row per item.
 */
import type { Tensor } from './tensor';

function rows(t: Tensor): [number, number] {
  if (t.shape.length !== 2) throw new Error(`expected an [N, E] tensor of embeddings, got [${t.shape.join(', ')}]`);
  return [t.shape[0], t.shape[1]];
}

/**
 * x / rms(x) per row: norm sqrt(E), unit variance per dimension; zeros stay zeros. The scale our
 * prior diffuses on (training/models/unclip.py `unit_rms`, eps 1e-12 inside the root as there).
 */
export function unitRms(t: Tensor, eps = 1e-12): Tensor {
  const [n, e] = rows(t);
  const data = new Float32Array(t.data.length);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < e; j++) sum += t.data[i * e + j] ** 2;
    const inv = 1 / Math.sqrt(sum / e + eps);
    for (let j = 0; j < e; j++) data[i * e + j] = t.data[i * e + j] * inv;
  }
  return { data, shape: [n, e] };
}

/** x / ||x|| per row: CLIP's normalisation before a dot product. Zeros stay zeros. */
export function l2Normalize(t: Tensor): Tensor {
  const [n, e] = rows(t);
  const data = new Float32Array(t.data.length);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < e; j++) sum += t.data[i * e + j] ** 2;
    const inv = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    for (let j = 0; j < e; j++) data[i * e + j] = t.data[i * e + j] * inv;
  }
  return { data, shape: [n, e] };
}

/** Cosine similarity of every row of `a` [N, E] with every row of `b` [M, E] -> [N, M]. */
export function cosineSimilarity(a: Tensor, b: Tensor): Tensor {
  const [n, e] = rows(a);
  const [m, e2] = rows(b);
  if (e !== e2) throw new Error(`cosineSimilarity: widths differ (${e} and ${e2})`);
  const na = l2Normalize(a).data;
  const nb = l2Normalize(b).data;
  const data = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < m; k++) {
      let dot = 0;
      for (let j = 0; j < e; j++) dot += na[i * e + j] * nb[k * e + j];
      data[i * m + k] = dot;
    }
  }
  return { data, shape: [n, m] };
}

/**
 * Spherical linear interpolation between two vectors of any shape (Shoemake 1985), as unCLIP
 * interpolates CLIP image embeddings (Sec. 3.2): z_t = sin((1 - t) θ) / sin θ · a + sin(t θ) / sin θ · b,
 * θ the angle between them. With equal norms every point keeps that norm. t = 0 and t = 1 return
 * exact copies of the ends; nearly parallel vectors fall back to the straight line.
 */
export function slerp(a: Tensor, b: Tensor, t: number): Tensor {
  if (a.data.length !== b.data.length) throw new Error('slerp: the two embeddings differ in size');
  if (t === 0) return { data: a.data.slice(), shape: [...a.shape] };
  if (t === 1) return { data: b.data.slice(), shape: [...b.shape] };
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.data.length; i++) {
    dot += a.data[i] * b.data[i];
    na += a.data[i] ** 2;
    nb += b.data[i] ** 2;
  }
  const theta = Math.acos(Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb || 1))));
  const straight = Math.sin(theta) < 1e-6;
  const wa = straight ? 1 - t : Math.sin((1 - t) * theta) / Math.sin(theta);
  const wb = straight ? t : Math.sin(t * theta) / Math.sin(theta);
  const data = new Float32Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = wa * a.data[i] + wb * b.data[i];
  return { data, shape: [...a.shape] };
}

/** A fitted 2-D projection: the data's mean and its two leading principal directions. */
export interface Pca2 {
  /** [E] */
  mean: Float32Array;
  /** Two unit vectors, [2][E], sign fixed so that each one's largest component is positive. */
  components: [Float32Array, Float32Array];
  /** Variance of the data along each component, and in total (for "explains x%"). */
  explainedVariance: [number, number];
  totalVariance: number;
}

/**
 * Principal component analysis to two dimensions: the top two eigenvectors of the covariance of the
 * rows of `t` [N, E], by power iteration with deflation from a fixed start (deterministic, no RNG),
 * in float64. Enough for a map; not a general eigensolver.
 */
export function fitPca2(t: Tensor, iterations = 500): Pca2 {
  const [n, e] = rows(t);
  if (n < 2) throw new Error('fitPca2: need at least two points');
  const mean = new Float64Array(e);
  for (let i = 0; i < n; i++) for (let j = 0; j < e; j++) mean[j] += t.data[i * e + j] / n;
  const cov = new Float64Array(e * e); // [E, E]
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < e; j++) {
      const dj = t.data[i * e + j] - mean[j];
      for (let k = j; k < e; k++) cov[j * e + k] += (dj * (t.data[i * e + k] - mean[k])) / (n - 1);
    }
  }
  let totalVariance = 0;
  for (let j = 0; j < e; j++) {
    totalVariance += cov[j * e + j];
    for (let k = 0; k < j; k++) cov[j * e + k] = cov[k * e + j];
  }
  const components: Float32Array[] = [];
  const explained: number[] = [];
  for (let c = 0; c < 2; c++) {
    // Start from all ones plus a ramp: not orthogonal to any eigenvector of real data.
    let v = Float64Array.from({ length: e }, (_, j) => 1 + j / e);
    let lambda = 0;
    for (let it = 0; it < iterations; it++) {
      const w = new Float64Array(e);
      for (let j = 0; j < e; j++) {
        let s = 0;
        for (let k = 0; k < e; k++) s += cov[j * e + k] * v[k];
        w[j] = s;
      }
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      for (let j = 0; j < e; j++) w[j] /= norm;
      const delta = w.reduce((s, x, j) => s + Math.abs(x - v[j]), 0);
      v = w;
      lambda = norm;
      if (delta < 1e-12) break;
    }
    let big = 0;
    for (let j = 0; j < e; j++) if (Math.abs(v[j]) > Math.abs(v[big])) big = j;
    if (v[big] < 0) v = v.map((x) => -x);
    // Deflate: remove this direction so the next power iteration finds the second one.
    for (let j = 0; j < e; j++) for (let k = 0; k < e; k++) cov[j * e + k] -= lambda * v[j] * v[k];
    components.push(Float32Array.from(v));
    explained.push(lambda);
  }
  return {
    mean: Float32Array.from(mean),
    components: [components[0], components[1]],
    explainedVariance: [explained[0], explained[1]],
    totalVariance,
  };
}

/** Coordinates of the rows of `t` [N, E] on a fitted PCA map -> [N, 2]. */
export function projectPca2(pca: Pca2, t: Tensor): Tensor {
  const [n, e] = rows(t);
  if (e !== pca.mean.length) throw new Error(`projectPca2: width ${e}, but the map was fitted on ${pca.mean.length}`);
  const data = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 2; c++) {
      let s = 0;
      for (let j = 0; j < e; j++) s += (t.data[i * e + j] - pca.mean[j]) * pca.components[c][j];
      data[i * 2 + c] = s;
    }
  }
  return { data, shape: [n, 2] };
}

/** Indices of the `k` rows of `pool` [M, E] most cosine-similar to `query` [1, E], best first, with their similarities. */
export function nearestByCosine(query: Tensor, pool: Tensor, k: number): { index: number; similarity: number }[] {
  const sims = cosineSimilarity(query, pool).data;
  return Array.from(sims, (similarity, index) => ({ index, similarity }))
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, k);
}
