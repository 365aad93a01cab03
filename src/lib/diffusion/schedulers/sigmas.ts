import { f32, linspace } from '../numerics';

/**
 * sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t) for every training step, the noise level of the
 * equivalent variance-exploding process x / sqrt(alpha_bar) = x0 + sigma * eps (Karras et al.
 * 2022, section 2), in float32 as diffusers computes it. Ascending in t.
 */
export function trainingSigmas(alphasCumprodValues: Float32Array): Float32Array {
  return alphasCumprodValues.map((a) => Math.sqrt(f32(f32(1 - a) / a)));
}

/** log sigma in float32 (`np.log` of a float32 array keeps float32). */
export function logSigmas(sigmas: Float32Array): Float32Array {
  return sigmas.map(Math.log);
}

/**
 * The Karras et al. 2022 noise levels (eq. 5, rho = 7): evenly spaced in sigma^(1/rho), which
 * spends more steps at low noise. Descending from `sigmaMax` to `sigmaMin`, float64.
 */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, numInferenceSteps: number, rho = 7): number[] {
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  return linspace(0, 1, numInferenceSteps).map((ramp) => (maxInvRho + ramp * (minInvRho - maxInvRho)) ** rho);
}

/** Noise levels evenly spaced in log sigma from `sigmaMax` down to `sigmaMin` (k-diffusion's exponential schedule). */
export function exponentialSigmas(sigmaMin: number, sigmaMax: number, numInferenceSteps: number): number[] {
  return linspace(Math.log(sigmaMax), Math.log(sigmaMin), numInferenceSteps).map(Math.exp);
}

/**
 * The fractional training timestep whose sigma is `sigma`, interpolating linearly in log sigma
 * between the two neighbouring training steps (diffusers' `_sigma_to_t`, from k-diffusion).
 * `logSigmaTable` is ascending (log sigma of t = 0..T-1).
 */
export function sigmaToT(sigma: number, logSigmaTable: Float32Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let low = 0;
  for (let i = 0; i < logSigmaTable.length; i++) {
    if (logSigma - logSigmaTable[i] >= 0) low = i;
  }
  low = Math.min(low, logSigmaTable.length - 2);
  const high = low + 1;
  const w = Math.min(Math.max((logSigmaTable[low] - logSigma) / (logSigmaTable[low] - logSigmaTable[high]), 0), 1);
  return (1 - w) * low + w * high;
}
