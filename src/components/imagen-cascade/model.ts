/**
 * The numbers behind the cascade figure: the augmentation levels it compares, what a level means for
 * the upsampler's input, and how far each output strays from a reference picture.
 */
import { augmentationAlphaCumprod } from '../../lib/diffusion/augmentation';
import { sliceBatch, type Tensor } from '../../lib/diffusion/index';
import { psnr } from '../../lib/pipelines/vae';

/** The row of levels rendered together: none, the recommended 0.1, and increasingly heavy augmentation. */
export const STRIP_LEVELS = [0, 0.1, 0.2, 0.3, 0.5, 0.8];

/** Real emoji the reader can start from instead of a base-model sample, with the caption the upsampler is given. */
export const REAL_SOURCES = [
  { value: 'emoji-grinning-noto.png', caption: 'grinning face', label: 'real emoji: grinning face (Noto)' },
  { value: 'emoji-rocket-twemoji.png', caption: 'rocket', label: 'real emoji: rocket (Twemoji)' },
  { value: 'emoji-sunflower-noto.png', caption: 'sunflower', label: 'real emoji: sunflower (Noto)' },
] as const;

/** low_res_sample = signal * upsampled + noise * eps at this level, in words and numbers. */
export function augmentationReadout(alphasCumprod: ArrayLike<number>, level: number) {
  const { k, alphaProd } = augmentationAlphaCumprod(alphasCumprod, level);
  const signal = Math.sqrt(alphaProd);
  const noise = Math.sqrt(1 - alphaProd);
  return {
    k,
    signal,
    noise,
    text: `level ${level.toFixed(2)}: k = ${k} of ${alphasCumprod.length}, input = ${signal.toFixed(2)} × image + ${noise.toFixed(2)} × noise`,
  };
}

/** PSNR (dB) of picture `index` of a batch against a [1, 3, H, W] reference. */
export function psnrAgainst(batch: Tensor, index: number, reference: Tensor): number {
  return psnr(sliceBatch(batch, index), reference);
}

export const formatDb = (db: number) => (Number.isFinite(db) ? `${db.toFixed(1)} dB` : '∞ dB');
