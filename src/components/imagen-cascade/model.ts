/**
 * The numbers behind the cascade figure: the augmentation levels it compares, what a level means for
 * the upsampler's input, and how far each output strays from a reference picture.
 */
import { augmentationAlphaCumprod } from '../../lib/diffusion/augmentation';
import { sliceBatch, type Tensor } from '../../lib/diffusion/index';
import { psnr } from '../../lib/pipelines/vae';

/** The four panels of one upsampler run, left to right: its 16 px input, what the model sees, its output. */
export const PANELS = [
  { key: 'low', label: '16 px input', note: 'what stage 1 hands over', size: 16 },
  { key: 'upsampled', label: 'bilinear to 32 px', note: 'before augmentation', size: 32 },
  { key: 'augmented', label: 'low_res_sample', note: 'what the upsampler sees', size: 32 },
  { key: 'output', label: 'super-resolved', note: 'stage 2, 32 px', size: 32 },
] as const;

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
