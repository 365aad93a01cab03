/**
 * A small MLP trained on 2-D data, in the reader's browser, by the two objectives the guide teaches:
 * denoising score matching in its epsilon form (Ho et al. 2020, L_simple) and conditional flow
 * matching on the straight path (Lipman et al. 2023; Liu et al. 2023). This is the only module that
 * imports TensorFlow.js: its automatic differentiation and Adam train the network, and only the
 * figure that trains imports this module, so no other page downloads it.
 *
 * Randomness that decides *what* is learned (data, noise, timesteps) comes from the library's seeded
 * `Generator`; TensorFlow.js only initialises the weights, with its own seeded initialiser.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// tfjs-core leaves the gradient kernels to the umbrella package; training needs them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { Generator } from '../diffusion/random';

/** What the network is trained to predict. */
export type ToyObjective = 'epsilon' | 'flow';

export interface ToyTrainerConfig {
  objective: ToyObjective;
  /** DDPM's alphas_cumprod (length = number of training timesteps), for the epsilon objective. */
  alphasCumprod: ArrayLike<number>;
  /** Width of each hidden layer: 64 is enough for the smooth fields of these toy sets and trains in seconds. */
  hiddenSize: number;
  /** Number of hidden layers: three give the field room to bend around two moons. */
  hiddenLayers: number;
  /** Examples per step: 256 keeps the loss curve readable while a step stays a few milliseconds. */
  batchSize: number;
  /**
   * Adam's peak step size. 1e-2, decayed by `cosineLearningRate` over each run, reached a sharper
   * two-moons field in 2,000 steps than a constant 3e-3 did (mean log-density of 300 samples -1.7
   * against -2.4; the exact field's samples score -0.8).
   */
  learningRate: number;
  /** Seeds the weight initialisation. */
  seed: number;
}

/** Defaults of the in-page trainer. */
export const TOY_TRAINER_DEFAULTS: Omit<ToyTrainerConfig, 'objective' | 'alphasCumprod'> = {
  hiddenSize: 64,
  hiddenLayers: 3,
  batchSize: 256,
  learningRate: 1e-2,
  seed: 0,
};

/** Frequencies of the time features sin(pi k t), cos(pi k t): low ones suffice for a field that varies smoothly in t. */
const TIME_FREQUENCIES = [1, 2, 4];
const INPUT_SIZE = 2 + 1 + 2 * TIME_FREQUENCIES.length;
/** log-SNR range mapped onto the network's time input: covers DDPM's linear schedule and flow times 0.001..0.999. */
const LOG_SNR_RANGE = [-14, 14] as const;

/** Draws a batch of clean data points [n, 2] (the figure samples its mixture, or the reader's drawing). */
export type DataSampler = (n: number, generator: Generator) => Float32Array;

/**
 * Draws coupled (x0, noise) pairs, [n, 2] each, for reflow (Liu et al. 2023, sec. 2.3): the noise and
 * the sample an ODE carried it to, instead of independent draws.
 */
export type PairSampler = (n: number, generator: Generator) => { sample: Float32Array; noise: Float32Array };

/**
 * Chooses the TensorFlow.js backend: WebAssembly (XNNPACK with SIMD: about ten times faster than plain
 * JavaScript on these small matrices) when its files are served at `wasmPrefix`, else 'cpu', which
 * runs everywhere. Returns the backend in use.
 */
export async function toyBackend(wasmPrefix?: string): Promise<string> {
  if (wasmPrefix) {
    setWasmPaths(wasmPrefix);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false); // the site serves only the single-threaded builds
    try {
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return tf.getBackend();
      }
    } catch {
      // No WebAssembly SIMD or the files did not load: plain JavaScript still trains, only slower.
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return tf.getBackend();
}

/**
 * Cosine decay (Loshchilov & Hutter 2017) from `peak` at step 0 to `peak * floor` at step `total`:
 * large steps early, small ones at the end so the field settles instead of jittering with each batch.
 */
export function cosineLearningRate(peak: number, step: number, total: number, floor = 0.05): number {
  const progress = Math.min(1, Math.max(0, step / Math.max(1, total)));
  return peak * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** Network input [N, 9] for points [N, 2] at times t in [0, 1] ([N]): x, y, t, then Fourier features of t. */
function features(points: Float32Array, times: Float32Array): Float32Array {
  const n = times.length;
  const out = new Float32Array(n * INPUT_SIZE);
  for (let i = 0; i < n; i++) {
    const row = i * INPUT_SIZE;
    out[row] = points[2 * i];
    out[row + 1] = points[2 * i + 1];
    out[row + 2] = times[i];
    TIME_FREQUENCIES.forEach((k, j) => {
      out[row + 3 + 2 * j] = Math.sin(Math.PI * k * times[i]);
      out[row + 4 + 2 * j] = Math.cos(Math.PI * k * times[i]);
    });
  }
  return out;
}

/** An MLP with SiLU activations, trained by `step()` and queried by `predict()`. */
export class ToyTrainer {
  readonly config: Readonly<ToyTrainerConfig>;
  /** Training steps taken so far. */
  steps = 0;
  private readonly weights: tf.Variable[] = [];
  private readonly biases: tf.Variable[] = [];
  private readonly optimizer: tf.AdamOptimizer;

  constructor(config: Pick<ToyTrainerConfig, 'objective' | 'alphasCumprod'> & Partial<ToyTrainerConfig>) {
    this.config = { ...TOY_TRAINER_DEFAULTS, ...config };
    const { hiddenSize, hiddenLayers, seed, learningRate } = this.config;
    const sizes = [INPUT_SIZE, ...Array<number>(hiddenLayers).fill(hiddenSize), 2];
    for (let i = 0; i + 1 < sizes.length; i++) {
      // He-style initialisation, scaled down on the last layer so training starts from a near-zero field.
      const scale = i + 2 === sizes.length ? 0.1 / Math.sqrt(sizes[i]) : Math.sqrt(2 / sizes[i]);
      this.weights.push(tf.variable(tf.randomNormal([sizes[i], sizes[i + 1]], 0, scale, 'float32', seed + i)));
      this.biases.push(tf.variable(tf.zeros([sizes[i + 1]])));
    }
    this.optimizer = tf.train.adam(learningRate);
  }

  /**
   * What the network is told about the noise level: log-SNR log(alpha^2 / sigma^2) of time t in [0, 1],
   * mapped to [0, 1]. Uniform t crowds the levels where the data's shape is decided (little noise) into
   * a sliver of t; log-SNR spreads them out (the same reason EDM conditions on log sigma).
   */
  noiseInput(t: number): number {
    const { objective, alphasCumprod } = this.config;
    let logSnr: number;
    if (objective === 'epsilon') {
      const ab = alphasCumprod[Math.round(t * (alphasCumprod.length - 1))];
      logSnr = Math.log(ab / (1 - ab));
    } else {
      const u = Math.min(1 - 1e-3, Math.max(1e-3, t));
      logSnr = 2 * Math.log((1 - u) / u);
    }
    return (LOG_SNR_RANGE[1] - logSnr) / (LOG_SNR_RANGE[1] - LOG_SNR_RANGE[0]);
  }

  /** Sets Adam's step size for the following steps (the figure decays it over a run). */
  setLearningRate(rate: number): void {
    // tfjs-core reads the field at every step but declares it protected and offers no setter.
    (this.optimizer as unknown as { learningRate: number }).learningRate = rate;
  }

  /** Number of trainable parameters. */
  get parameterCount(): number {
    return [...this.weights, ...this.biases].reduce((n, v) => n + v.size, 0);
  }

  private forward(input: tf.Tensor2D): tf.Tensor2D {
    let h: tf.Tensor2D = input;
    for (let i = 0; i < this.weights.length; i++) {
      h = tf.add(tf.matMul(h, this.weights[i] as tf.Tensor2D), this.biases[i]);
      if (i + 1 < this.weights.length) h = tf.mul(h, tf.sigmoid(h)); // SiLU
    }
    return h; // [N, 2]
  }

  /**
   * One training batch: clean points, noise, times, the noised input and the regression target.
   * Epsilon: x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps, target eps, t uniform over training steps.
   * Flow: x_t = (1 - t) x0 + t eps, target eps - x0, t uniform in [0, 1].
   */
  makeBatch(
    sample: DataSampler | PairSampler,
    generator: Generator,
    coupled = false,
  ): { input: Float32Array; times: Float32Array; target: Float32Array } {
    const { batchSize: n, objective, alphasCumprod } = this.config;
    let x0: Float32Array;
    let eps: Float32Array;
    if (coupled) {
      ({ sample: x0, noise: eps } = (sample as PairSampler)(n, generator));
    } else {
      x0 = (sample as DataSampler)(n, generator);
      eps = generator.randn([n, 2]).data;
    }
    const times = new Float32Array(n);
    const input = new Float32Array(2 * n);
    const target = new Float32Array(2 * n);
    const steps = alphasCumprod.length;
    for (let i = 0; i < n; i++) {
      let a: number;
      let b: number;
      if (objective === 'epsilon') {
        const t = Math.min(steps - 1, Math.floor(generator.random() * steps));
        times[i] = t / (steps - 1);
        a = Math.sqrt(alphasCumprod[t]);
        b = Math.sqrt(1 - alphasCumprod[t]);
      } else {
        times[i] = generator.random();
        a = 1 - times[i];
        b = times[i];
      }
      for (let d = 0; d < 2; d++) {
        const j = 2 * i + d;
        input[j] = a * x0[j] + b * eps[j];
        target[j] = objective === 'epsilon' ? eps[j] : eps[j] - x0[j];
      }
    }
    return { input, times, target };
  }

  /**
   * `count` Adam steps on fresh batches; returns each step's mean squared error. With `coupled`,
   * `sample` is a PairSampler and each batch uses its (x0, noise) pairs.
   */
  train(count: number, sample: DataSampler | PairSampler, generator: Generator, coupled = false): number[] {
    const losses: number[] = [];
    for (let s = 0; s < count; s++) {
      const { input, times, target } = this.makeBatch(sample, generator, coupled);
      const loss = tf.tidy(() => {
        const x = tf.tensor2d(
          features(
            input,
            times.map((t) => this.noiseInput(t)),
          ),
          [times.length, INPUT_SIZE],
        );
        const y = tf.tensor2d(target, [times.length, 2]);
        return this.optimizer.minimize(() => tf.losses.meanSquaredError(y, this.forward(x)) as tf.Scalar, true)!;
      });
      losses.push(loss.dataSync()[0]);
      loss.dispose();
      this.steps++;
    }
    return losses;
  }

  /**
   * The network's field at points [N, 2]: epsilon at training timestep `time` (0..T-1), or the
   * velocity at flow time `time` in [0, 1].
   */
  predict(points: Float32Array, time: number): Float32Array {
    const n = points.length / 2;
    const t = this.config.objective === 'epsilon' ? time / (this.config.alphasCumprod.length - 1) : time;
    const input = features(points, new Float32Array(n).fill(this.noiseInput(t)));
    const out = tf.tidy(() => this.forward(tf.tensor2d(input, [n, INPUT_SIZE])));
    const values = out.dataSync() as Float32Array;
    out.dispose();
    return values;
  }

  /** Frees the weights and the optimiser's moments. */
  dispose(): void {
    this.optimizer.dispose();
    for (const v of [...this.weights, ...this.biases]) v.dispose();
  }
}
