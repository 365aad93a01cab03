import { DDPMScheduler, createGenerator, randnTensor, type Tensor } from '../../lib/diffusion/index';

/** The two schedules the figure compares, with the configs their models were trained with. */
export const COMPARED = [
  { schedule: 'linear', config: { betaSchedule: 'linear', betaStart: 1e-4, betaEnd: 0.02 } },
  { schedule: 'scaled_linear', config: { betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012 } },
] as const;

export interface NoisedView {
  schedule: (typeof COMPARED)[number]['schedule'];
  /** x_t = sqrt(alpha-bar_t) x_0 + sqrt(1 - alpha-bar_t) eps, [1, 3, H, W]. */
  sample: Tensor;
  /** sqrt(alpha-bar_t) */
  signal: number;
  /** sqrt(1 - alpha-bar_t) */
  noise: number;
}

/** State of the forward-process figure: one picture, one fixed noise draw, two schedulers. */
export class ForwardScrubberModel {
  readonly schedulers = COMPARED.map(({ schedule, config }) => ({
    schedule,
    scheduler: new DDPMScheduler({ numTrainTimesteps: 1000, ...config }),
  }));
  picture: Tensor | null = null;
  noise: Tensor;

  constructor(readonly size: number) {
    this.noise = this.drawNoise(0);
  }

  /** The noise is drawn once per seed, so scrubbing t changes only the mixing weights. */
  setSeed(seed: number) {
    this.noise = this.drawNoise(seed);
  }

  setPicture(picture: Tensor) {
    const [, channels, height, width] = picture.shape;
    if (channels !== 3 || height !== this.size || width !== this.size) {
      throw new Error(`picture must be [1, 3, ${this.size}, ${this.size}], got [${picture.shape.join(', ')}]`);
    }
    this.picture = picture;
  }

  noisedAt(t: number): NoisedView[] {
    if (!this.picture) return [];
    const timestep = Math.max(0, Math.min(999, Math.round(t)));
    return this.schedulers.map(({ schedule, scheduler }) => {
      const alphaBar = scheduler.alphasCumprod[timestep];
      return {
        schedule,
        sample: scheduler.addNoise(this.picture!, this.noise, [timestep]),
        signal: Math.sqrt(alphaBar),
        noise: Math.sqrt(1 - alphaBar),
      };
    });
  }

  private drawNoise(seed: number): Tensor {
    return randnTensor([1, 3, this.size, this.size], createGenerator(seed));
  }
}
