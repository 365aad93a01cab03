/**
 * How much fine detail a picture has: the mean squared Laplacian, the measure training/recipes/
 * mini_sd.py reports as `metrics.micro_conditioning.high_frequency_energy`, so that a figure's
 * numbers can be read against the manifest's. Pure: no DOM.
 */
import type { Tensor } from '../diffusion/index';

/**
 * Mean squared 4-neighbour Laplacian of each picture of a [N, C, H, W] batch in [-1, 1]:
 * values are clamped to [-1, 1] first (as decoded pictures are before they are shown), the kernel
 * [[0, 1, 0], [1, -4, 1], [0, 1, 0]] is applied per channel without padding ((H - 2) x (W - 2)
 * positions, like torch's conv2d), and the squares are averaged over channels and positions.
 * A flat or linearly shaded picture scores 0; blur lowers the score, sharp edges raise it.
 * Returns one number per picture.
 */
export function highFrequencyEnergy(images: Tensor): number[] {
  const [n, channels, height, width] = images.shape;
  if (images.shape.length !== 4 || height < 3 || width < 3) {
    throw new Error(`expected [N, C, H, W] pictures of at least 3 x 3, got [${images.shape.join(', ')}]`);
  }
  const plane = height * width;
  const at = (offset: number, y: number, x: number) => Math.max(-1, Math.min(1, images.data[offset + y * width + x]));
  const energies: number[] = [];
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) {
      const offset = (i * channels + c) * plane;
      for (let y = 1; y < height - 1; y++) {
        for (let x = 1; x < width - 1; x++) {
          const laplacian =
            at(offset, y - 1, x) +
            at(offset, y + 1, x) +
            at(offset, y, x - 1) +
            at(offset, y, x + 1) -
            4 * at(offset, y, x);
          sum += laplacian * laplacian;
        }
      }
    }
    energies.push(sum / (channels * (height - 2) * (width - 2)));
  }
  return energies;
}
