/**
 * ddpmPosterior: DDPM's q(x_{t-1} | x_t, x_0) against an independent derivation (the product of the
 * two Gaussians q(x_t | x_{t-1}) and q(x_{t-1} | x_0), completed to one Gaussian) and against
 * DDPMScheduler's own step, which uses the same mean and variance.
 */
import { describe, expect, it } from 'vitest';
import { DDPMScheduler, betaSchedule, ddpmPosterior, tensor } from '../../src/lib/diffusion/index';

const betas = betaSchedule('linear', 1000, 1e-4, 0.02);
const post = ddpmPosterior(betas);
// In float64, as ddpmPosterior computes (alphasCumprod is float32, as diffusers).
const abar = Float64Array.from(betas);
for (let t = 0, p = 1; t < betas.length; t++) abar[t] = p *= 1 - betas[t];

describe('ddpmPosterior', () => {
  it('equals the product of the forward Gaussians, completed to one', () => {
    const x0 = 0.7;
    const xt = -0.4;
    for (const t of [1, 10, 250, 500, 999]) {
      const alpha = 1 - betas[t];
      // q(x_t | x_{t-1}) = N(sqrt(alpha) x_{t-1}, beta); q(x_{t-1} | x_0) = N(sqrt(abar_{t-1}) x0, 1 - abar_{t-1}).
      const precision = alpha / betas[t] + 1 / (1 - abar[t - 1]);
      const mean = ((Math.sqrt(alpha) * xt) / betas[t] + (Math.sqrt(abar[t - 1]) * x0) / (1 - abar[t - 1])) / precision;
      expect(post.variance[t]).toBeCloseTo(1 / precision, 6);
      expect(post.meanCoefX0[t] * x0 + post.meanCoefXt[t] * xt).toBeCloseTo(mean, 5);
    }
  });

  it('is below beta_t, equal to 0 at t = 0 and close to beta_t at the end', () => {
    expect(post.variance[0]).toBe(0);
    for (let t = 1; t < 1000; t++) expect(post.variance[t]).toBeLessThan(betas[t]);
    expect(post.variance[999] / betas[999]).toBeGreaterThan(0.999);
    expect(post.variance[1] / betas[1]).toBeCloseTo(betas[0] / (betas[0] + betas[1] - betas[0] * betas[1]), 6);
  });

  it('is the mean and variance DDPMScheduler steps with', () => {
    const scheduler = new DDPMScheduler({ clipSample: false });
    scheduler.setTimesteps(1000);
    const xt = tensor(Float32Array.of(0.3, -1.2), [1, 2]);
    const eps = tensor(Float32Array.of(0.5, 0.1), [1, 2]);
    for (const t of [999, 600, 100, 5]) {
      const zero = scheduler.step(eps, t, xt, { varianceNoise: tensor(new Float32Array(2), [1, 2]) });
      const one = scheduler.step(eps, t, xt, { varianceNoise: tensor(Float32Array.of(1, 1), [1, 2]) });
      for (let i = 0; i < 2; i++) {
        const x0 = zero.predOriginalSample.data[i];
        expect(zero.prevSample.data[i]).toBeCloseTo(post.meanCoefX0[t] * x0 + post.meanCoefXt[t] * xt.data[i], 4);
        expect((one.prevSample.data[i] - zero.prevSample.data[i]) ** 2).toBeCloseTo(post.variance[t], 5);
        // Algorithm 2's mean, written with the noise prediction instead of x0: the same number.
        const alpha = 1 - betas[t];
        const algorithm2 = (xt.data[i] - ((1 - alpha) / Math.sqrt(1 - abar[t])) * eps.data[i]) / Math.sqrt(alpha);
        expect(zero.prevSample.data[i]).toBeCloseTo(algorithm2, 4);
      }
    }
  });
});
