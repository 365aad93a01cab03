/**
 * Reflow in 2-D (src/lib/diffusion/toy2d-sampling.ts): the kernel-regression velocity of a coupling
 * against cases with known answers, and the property reflow exists for: after one reflow, a single
 * Euler step from fresh noise lands on the data, where one step of the exact 1-rectified flow
 * lands on the data's mean.
 */
import { describe, expect, it } from 'vitest';
import { createGenerator } from '../../src/lib/diffusion/index';
import { TOY_DATASETS } from '../../src/lib/diffusion/toy2d';
import { meanLogDensity } from '../../src/components/toy2d-shared/model';
import {
  couplingVelocityField,
  eulerFlow,
  exactVelocityField,
  noiseParticles,
  odeCoupling,
  pathStraightness,
} from '../../src/lib/diffusion/toy2d-sampling';

const fine = Array.from({ length: 101 }, (_, i) => 1 - i / 100);

describe('couplingVelocityField', () => {
  it('with one pair is that pair’s straight-line velocity everywhere', () => {
    const field = couplingVelocityField({ noise: Float32Array.of(1, 2), data: Float32Array.of(-0.5, 0.25) }, 0.1);
    const v = field(Float32Array.of(0, 0, 40, -40), 0.3);
    for (const [i, want] of [1.5, 1.75, 1.5, 1.75].entries()) expect(v[i]).toBeCloseTo(want, 6);
  });

  it('weights pairs by the distance to their interpolant at time t', () => {
    // Two pairs crossing the plane in opposite directions; at t = 0.5 their interpolants are (±1, 0).
    const coupling = { noise: Float32Array.of(1, 1, -1, 1), data: Float32Array.of(1, -1, -1, -1) };
    const field = couplingVelocityField(coupling, 0.2);
    const near = field(Float32Array.of(0.9, 0, -0.9, 0, 0, 0), 0.5);
    expect(near[1]).toBeCloseTo(2, 5);
    expect(near[3]).toBeCloseTo(2, 5);
    // Halfway between two pairs with the same velocity: the same velocity, x components cancel.
    expect(near[4]).toBeCloseTo(0, 6);
    expect(near[5]).toBeCloseTo(2, 5);
  });

  it('after one reflow, one Euler step from new noise reaches the data; before it, the mean', () => {
    const gm = TOY_DATASETS.find((d) => d.id === 'moons')!.mixture;
    const exact = exactVelocityField(gm);
    const coupling = odeCoupling(exact, noiseParticles(1500, createGenerator(11)), fine);
    const reflowed = couplingVelocityField(coupling, 0.12);
    const fresh = noiseParticles(300, createGenerator(12));
    const oneStep = (field: typeof exact) => eulerFlow(field, fresh, [1, 0])[1];
    const target = meanLogDensity(gm, eulerFlow(exact, fresh, fine)[fine.length - 1]);
    const before = meanLogDensity(gm, oneStep(exact));
    const after = meanLogDensity(gm, oneStep(reflowed));
    expect(after).toBeGreaterThan(before + 1);
    expect(after).toBeGreaterThan(target - 1.5);
    // And its paths are straighter than the exact flow's own (at 25 steps).
    const sigmas = Array.from({ length: 26 }, (_, i) => 1 - i / 25);
    const straightBefore = pathStraightness(eulerFlow(exact, fresh, sigmas));
    const straightAfter = pathStraightness(eulerFlow(reflowed, fresh, sigmas));
    expect(straightAfter).toBeGreaterThan(straightBefore);
    // 1,500 ODE solves and a 1,500-pair kernel regression: about 2 s alone, several times that on a busy machine.
  }, 30_000);
});
