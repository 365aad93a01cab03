import { numel, type Tensor } from './tensor';

const MASK64 = (1n << 64n) - 1n;

/** SplitMix64 (Steele, Lea & Flood 2014), the seeding function Blackman & Vigna recommend for xoshiro. */
function splitMix64(state: bigint): { state: bigint; value: bigint } {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return { state: next, value: z ^ (z >> 31n) };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A seeded random number generator whose streams are identical in Node and in the browser.
 *
 * Integers come from xoshiro128** (Blackman & Vigna 2018, "Scrambled linear pseudorandom number
 * generators"), pure 32-bit integer maths (`Math.imul`, shifts, xor), so every engine agrees
 * exactly. The 128-bit state is two SplitMix64 outputs of the seed: the low then the high 32 bits
 * of the first, then of the second.
 *
 * Normals use the cosine half of the Box-Muller transform (Box & Muller 1958),
 * z = sqrt(-2 ln u1) * cos(2 pi u2), one normal per two uniforms. It needs only `*`, `Math.log`,
 * `Math.sqrt` and `Math.cos`: `Math.sqrt` is exactly rounded by IEEE 754, and V8 (Node, Chrome,
 * Edge) computes `Math.log` and `Math.cos` with its own portable fdlibm port, so the float64
 * results match bit for bit across machines. Values are rounded to float32 when stored.
 *
 * These are not torch's streams: torch's CPU generator is a Mersenne Twister with its own normal
 * sampler, so a diffusers image cannot be reproduced from the same seed. Pass the noise itself
 * (`varianceNoise`, initial latents) when a run must replay upstream draws.
 */
export class Generator {
  readonly seed: number;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new Error(`Generator: the seed must be an integer, got ${seed}.`);
    }
    this.seed = seed;
    const first = splitMix64(BigInt.asUintN(64, BigInt(seed)));
    const second = splitMix64(first.state);
    this.s0 = Number(first.value & 0xffffffffn);
    this.s1 = Number(first.value >> 32n);
    this.s2 = Number(second.value & 0xffffffffn);
    this.s3 = Number(second.value >> 32n);
  }

  /** Next 32-bit unsigned integer of the xoshiro128** stream. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 random bits. */
  random(): number {
    return this.nextUint32() / 4294967296;
  }

  /** One standard normal sample (float64; `randn` rounds to float32). */
  normal(): number {
    // 1 - u lies in (0, 1], so the logarithm is always finite.
    const u1 = 1 - this.random();
    const u2 = this.random();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** A tensor of standard normal samples, filled in row-major order (like `torch.randn`). */
  randn(shape: readonly number[]): Tensor {
    const data = new Float32Array(numel(shape));
    for (let i = 0; i < data.length; i++) data[i] = this.normal();
    return { data, shape: [...shape] };
  }

  /** Standard normal samples with the shape of `t`. */
  randnLike(t: Tensor): Tensor {
    return this.randn(t.shape);
  }

  /** An independent copy that continues the same stream from the current position. */
  clone(): Generator {
    const copy = new Generator(this.seed);
    copy.s0 = this.s0;
    copy.s1 = this.s1;
    copy.s2 = this.s2;
    copy.s3 = this.s3;
    return copy;
  }
}

/** A new generator seeded with `seed` (like `torch.Generator().manual_seed(seed)`). */
export function createGenerator(seed: number): Generator {
  return new Generator(seed);
}

/**
 * Standard normal noise of `shape`, like diffusers' `randn_tensor`: with a list of generators,
 * batch element i is drawn from generator i, so each image of a batch is reproducible on its own.
 */
export function randnTensor(shape: readonly number[], generator: Generator | readonly Generator[]): Tensor {
  if (generator instanceof Generator) return generator.randn(shape);
  const generators = generator;
  const [batch, ...rest] = shape;
  if (generators.length !== batch) {
    throw new Error(`randnTensor: got ${generators.length} generators for a batch of ${batch}.`);
  }
  const stride = numel(rest);
  const data = new Float32Array(batch * stride);
  generators.forEach((g, n) => data.set(g.randn([1, ...rest]).data, n * stride));
  return { data, shape: [...shape] };
}
