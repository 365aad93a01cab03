import { cumprod, f32, linspaceFloat32 } from './numerics';

/**
 * Names of the beta schedules, as diffusers spells them:
 * - `linear`: Ho et al. 2020 (DDPM), betas evenly spaced from `betaStart` to `betaEnd`.
 * - `scaled_linear`: latent diffusion / Stable Diffusion, evenly spaced in sqrt(beta).
 * - `squaredcos_cap_v2`: Nichol & Dhariwal 2021 (improved DDPM) cosine schedule.
 * - `sigmoid`: GeoDiff (Xu et al. 2022), a sigmoid ramp from `betaStart` to `betaEnd`.
 * - `laplace`: the Laplace noise schedule of Hang et al. 2024 (DDPM only in diffusers).
 */
export type BetaScheduleName = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2' | 'sigmoid' | 'laplace';

/** Shapes of alpha_bar(t), t in [0, 1], that `betasForAlphaBar` can discretise. */
export type AlphaTransformType = 'cosine' | 'exp' | 'laplace';

const alphaBarFunctions: Record<AlphaTransformType, (t: number) => number> = {
  // Improved DDPM eq. 17: alpha_bar(t) = cos^2(((t + s) / (1 + s)) * pi / 2) with s = 0.008.
  cosine: (t) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2,
  exp: (t) => Math.exp(t * -12.0),
  laplace: (t) => {
    const sign = t <= 0.5 ? 1 : -1; // math.copysign(1, 0.5 - t)
    const lambda = -0.5 * sign * Math.log(1 - 2 * Math.abs(0.5 - t) + 1e-6);
    const snr = Math.exp(lambda);
    return Math.sqrt(snr / (1 + snr));
  },
};

/**
 * Betas that make the cumulative product follow alpha_bar(t) (Improved DDPM eq. 17 for cosine):
 * beta_i = min(1 - alpha_bar((i + 1) / T) / alpha_bar(i / T), maxBeta), in float64 then float32.
 * `maxBeta` = 0.999 stops the last betas reaching 1, where the cosine schedule's alpha_bar is 0.
 */
export function betasForAlphaBar(
  numDiffusionTimesteps: number,
  maxBeta = 0.999,
  alphaTransformType: AlphaTransformType = 'cosine',
): Float32Array {
  const alphaBar = alphaBarFunctions[alphaTransformType];
  const betas = new Float32Array(numDiffusionTimesteps);
  for (let i = 0; i < numDiffusionTimesteps; i++) {
    const t1 = i / numDiffusionTimesteps;
    const t2 = (i + 1) / numDiffusionTimesteps;
    betas[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return betas;
}

/**
 * The forward-process variances beta_1..beta_T of a named schedule, float32 exactly as diffusers
 * builds them (torch.linspace in float32 for `linear`, `scaled_linear` and `sigmoid`).
 */
export function betaSchedule(
  name: BetaScheduleName,
  numTrainTimesteps = 1000,
  betaStart = 0.0001,
  betaEnd = 0.02,
): Float32Array {
  switch (name) {
    case 'linear':
      return linspaceFloat32(betaStart, betaEnd, numTrainTimesteps);
    case 'scaled_linear':
      // Latent diffusion spaces sqrt(beta) evenly, which keeps early betas small for longer.
      return linspaceFloat32(Math.sqrt(betaStart), Math.sqrt(betaEnd), numTrainTimesteps).map((b) => b * b);
    case 'squaredcos_cap_v2':
      return betasForAlphaBar(numTrainTimesteps);
    case 'laplace':
      return betasForAlphaBar(numTrainTimesteps, 0.999, 'laplace');
    case 'sigmoid': {
      const range = f32(betaEnd - betaStart);
      const start = f32(betaStart);
      return linspaceFloat32(-6, 6, numTrainTimesteps).map((x) => {
        const sigmoid = f32(1 / f32(1 + f32(Math.exp(-x))));
        return f32(sigmoid * range) + start;
      });
    }
    default:
      throw new Error(`Unknown beta schedule "${name as string}".`);
  }
}

/** alpha_bar_t = prod_{s<=t} (1 - beta_s) (DDPM eq. 4), float32 like diffusers' `alphas_cumprod`. */
export function alphasCumprod(betas: ArrayLike<number>): Float32Array {
  return cumprod(Float32Array.from(betas, (b) => 1 - b));
}

/** Signal-to-noise ratio SNR(t) = alpha_bar_t / (1 - alpha_bar_t) (Kingma et al. 2021, VDM eq. 1). */
export function snr(alphasCumprodValues: ArrayLike<number>): Float32Array {
  return Float32Array.from(alphasCumprodValues, (a) => a / (1 - a));
}

/**
 * Rescales betas so the last timestep has zero SNR (Lin et al. 2023, "Common Diffusion Noise
 * Schedules and Sample Steps are Flawed", Algorithm 1): shift sqrt(alpha_bar) so its last value
 * is 0, scale it so its first value is unchanged, and convert back to betas. The model then
 * trains on pure noise at t = T, which is what sampling starts from.
 */
export function rescaleZeroTerminalSnr(betas: ArrayLike<number>): Float32Array {
  const alphaBarSqrt = alphasCumprod(betas).map(Math.sqrt); // [T]
  const first = alphaBarSqrt[0];
  const last = alphaBarSqrt[alphaBarSqrt.length - 1];
  const rescale = f32(first / f32(first - last));
  const alphaBar = alphaBarSqrt.map((a) => {
    const shifted = f32(f32(a - last) * rescale);
    return shifted * shifted;
  });
  // Undo the cumulative product: alpha_t = alpha_bar_t / alpha_bar_{t-1}, alpha_0 = alpha_bar_0.
  return alphaBar.map((a, t) => 1 - (t === 0 ? a : f32(a / alphaBar[t - 1])));
}

/**
 * DDPM's forward-process posterior q(x_{t-1} | x_t, x_0) = N(c0_t x_0 + ct_t x_t, betaTilde_t I)
 * for every training timestep (Ho et al. 2020, eqs. 6-7), with x_{-1} read as x_0 (alpha-bar 1):
 *   c0_t = sqrt(abar_{t-1}) beta_t / (1 - abar_t),  ct_t = sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t),
 *   betaTilde_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t.
 * Float64 throughout: a readout and a plot, not a sampler (DDPMScheduler keeps diffusers' float32).
 */
export interface DDPMPosterior {
  /** beta~_t: the posterior variance ("fixed_small"), 0 at t = 0. */
  variance: Float64Array;
  /** Coefficient of x_0 in the posterior mean. */
  meanCoefX0: Float64Array;
  /** Coefficient of x_t in the posterior mean. */
  meanCoefXt: Float64Array;
}

export function ddpmPosterior(betas: ArrayLike<number>): DDPMPosterior {
  const n = betas.length;
  const variance = new Float64Array(n);
  const meanCoefX0 = new Float64Array(n);
  const meanCoefXt = new Float64Array(n);
  let abarPrev = 1;
  for (let t = 0; t < n; t++) {
    const beta = betas[t];
    const abar = abarPrev * (1 - beta);
    variance[t] = ((1 - abarPrev) / (1 - abar)) * beta;
    meanCoefX0[t] = (Math.sqrt(abarPrev) * beta) / (1 - abar);
    meanCoefXt[t] = (Math.sqrt(1 - beta) * (1 - abarPrev)) / (1 - abar);
    abarPrev = abar;
  }
  return { variance, meanCoefX0, meanCoefXt };
}
