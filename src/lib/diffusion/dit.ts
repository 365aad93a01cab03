import { f32 } from './numerics';
import type { Tensor } from './tensor';

/**
 * Cuts a latent into non-overlapping p x p patches, one token per patch (Peebles & Xie 2023, DiT,
 * section 3.1 "Patchify"). Tokens run row-major over the (H/p, W/p) grid; inside a token the
 * order is (p, q, c) with the channel fastest. That is the order DiT's `unpatchify` reads
 * (`reshape(N, h, w, p, p, c)`), so this function is its exact inverse. DiT's patch embedding
 * (a p-strided conv with weight [D, C, p, p]) equals a linear layer on these tokens once the
 * weight is permuted to [D, p, p, C].
 *
 * latent [N, C, H, W] -> tokens [N, (H/p)*(W/p), p*p*C]
 */
export function patchify(latent: Tensor, p: number): Tensor {
  const [n, c, height, width] = latent.shape;
  if (latent.shape.length !== 4 || height % p !== 0 || width % p !== 0) {
    throw new Error(
      `patchify: expected [N, C, H, W] with H and W divisible by ${p}, got [${latent.shape.join(', ')}].`,
    );
  }
  const h = height / p;
  const w = width / p;
  const tokenSize = p * p * c;
  const out = new Float32Array(latent.data.length);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const token = Math.floor(y / p) * w + Math.floor(x / p);
          const inner = ((y % p) * p + (x % p)) * c + ch; // (p, q, c), c fastest
          out[(b * h * w + token) * tokenSize + inner] = latent.data[((b * c + ch) * height + y) * width + x];
        }
      }
    }
  }
  return { data: out, shape: [n, h * w, tokenSize] };
}

/**
 * Reassembles patch tokens into a latent, exactly as DiT's `FinalLayer` output is read by
 * `DiT.unpatchify`: reshape (N, h, w, p, p, c), then einsum nhwpqc -> nchpwq. The grid is square,
 * as in DiT.
 *
 * tokens [N, T, p*p*C] -> latent [N, C, sqrt(T)*p, sqrt(T)*p]
 */
export function unpatchify(tokens: Tensor, p: number, channels: number): Tensor {
  const [n, t, tokenSize] = tokens.shape;
  const h = Math.round(Math.sqrt(t));
  if (tokens.shape.length !== 3 || h * h !== t || tokenSize !== p * p * channels) {
    throw new Error(
      `unpatchify: expected [N, T, ${p * p * channels}] with T a square number, got [${tokens.shape.join(', ')}].`,
    );
  }
  const size = h * p;
  const out = new Float32Array(tokens.data.length);
  for (let b = 0; b < n; b++) {
    for (let token = 0; token < t; token++) {
      const gy = Math.floor(token / h);
      const gx = token % h;
      for (let i = 0; i < tokenSize; i++) {
        const ch = i % channels;
        const q = Math.floor(i / channels) % p;
        const pp = Math.floor(i / (channels * p));
        const y = gy * p + pp;
        const x = gx * p + q;
        out[((b * channels + ch) * size + y) * size + x] = tokens.data[(b * t + token) * tokenSize + i];
      }
    }
  }
  return { data: out, shape: [n, channels, size, size] };
}

/**
 * 1-D sine-cosine embedding of positions (Vaswani et al. 2017, section 3.5, as in MAE/DiT
 * `get_1d_sincos_pos_embed_from_grid`): [sin(pos * omega_k)..., cos(pos * omega_k)...] with
 * omega_k = 1 / 10000^(k / (D/2)), k < D/2. Written into `out` at column `offset`, row stride `stride`.
 */
function sincos1d(positions: readonly number[], dim: number, out: Float32Array, stride: number, offset: number): void {
  const half = dim / 2;
  positions.forEach((pos, row) => {
    for (let k = 0; k < half; k++) {
      const angle = pos * (1 / 10000 ** (k / half));
      out[row * stride + offset + k] = Math.sin(angle);
      out[row * stride + offset + half + k] = Math.cos(angle);
    }
  });
}

/**
 * Fixed 2-D sine-cosine position embedding of DiT/MAE (`get_2d_sincos_pos_embed`): the first half
 * of each row encodes the column (w) coordinate and the second half the row (h) coordinate,
 * because MAE's `np.meshgrid(grid_w, grid_h)` puts w first. Row r is token r = h * gridSize + w,
 * the token order of `patchify`. Computed in float64 like numpy, stored as float32 as DiT does.
 *
 * -> [gridSize * gridSize, embedDim]
 */
export function get2dSincosPosEmbed(embedDim: number, gridSize: number): Tensor {
  if (embedDim % 4 !== 0) {
    throw new Error(`get2dSincosPosEmbed: embedDim must be divisible by 4, got ${embedDim}.`);
  }
  const tokens = gridSize * gridSize;
  const out = new Float32Array(tokens * embedDim);
  const columns = Array.from({ length: tokens }, (_, r) => r % gridSize); // w
  const rows = Array.from({ length: tokens }, (_, r) => Math.floor(r / gridSize)); // h
  sincos1d(columns, embedDim / 2, out, embedDim, 0);
  sincos1d(rows, embedDim / 2, out, embedDim, embedDim / 2);
  return { data: out, shape: [tokens, embedDim] };
}

/**
 * Sinusoidal timestep embedding of DiT's `TimestepEmbedder.timestep_embedding` (from GLIDE):
 * freqs_k = exp(-ln(maxPeriod) * k / half), args = t * freqs, output [cos(args), sin(args)] (cos
 * first, unlike diffusers' default `get_timestep_embedding`), zero-padded when `dim` is odd.
 * Float32 throughout like torch, since t * freq is large enough (up to ~1000 rad) that float64
 * arguments would move cos/sin by up to 1e-4.
 *
 * t [N] -> [N, dim]
 */
export function timestepEmbedding(t: number | ArrayLike<number>, dim: number, maxPeriod = 10000): Tensor {
  const times = typeof t === 'number' ? [t] : Array.from(t);
  const half = Math.floor(dim / 2);
  const logPeriod = f32(-Math.log(maxPeriod));
  const freqs = Array.from({ length: half }, (_, k) => f32(Math.exp(f32(f32(logPeriod * k) / half)))); // [half]
  const out = new Float32Array(times.length * dim);
  times.forEach((time, n) => {
    for (let k = 0; k < half; k++) {
      const arg = f32(f32(time) * freqs[k]);
      out[n * dim + k] = Math.cos(arg);
      out[n * dim + half + k] = Math.sin(arg);
    }
  });
  return { data: out, shape: [times.length, dim] };
}
