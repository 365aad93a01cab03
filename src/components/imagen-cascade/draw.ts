/** Drawing the cascade figure's results: the four panels of one upsampler run and the strip of levels. */
import type { Tensor } from '../../lib/diffusion/index';
import type { SuperResResult } from '../../lib/pipelines/cascade';
import { resizeBicubic } from '../../lib/image/resize';
import { clamp } from '../../lib/diffusion/index';
import { paintPicture } from '../text-to-image/draw';
import { formatDb, psnrAgainst, STRIP_LEVELS } from './model';

/** The 16 px picture an upsampler run starts from. */
export interface UpsamplerInput {
  caption: string;
  low: Tensor; // [1, 3, 16, 16]
  /** The real 32 px picture when starting from one: what PSNR is measured against. */
  real: Tensor | null;
}

/** Paints `batch[index]` on the figure's canvas `selector` and says what it shows. */
function paint(figure: HTMLElement, selector: string, batch: Tensor, index: number, label: string) {
  const canvas = figure.querySelector<HTMLCanvasElement>(selector)!;
  paintPicture(canvas, batch, index);
  canvas.setAttribute('aria-label', label);
}

/**
 * Shows an upsampler run at `level`: input, bilinear upsampling, what the model saw, its output and
 * that output's PSNR. `sr.image` is [N, 3, 32, 32]: the level first, then (when `strip`) STRIP_LEVELS.
 */
export function showUpsampling(
  figure: HTMLElement,
  input: UpsamplerInput,
  sr: SuperResResult,
  level: number,
  strip: boolean,
  consistent = false,
) {
  const reference = input.real ?? sr.upsampled;
  const measure = (i: number) => formatDb(psnrAgainst(sr.image, i, reference));
  const against = input.real ? 'the real 32 px picture' : 'the upsampled input';
  const low = input.real ? 'a real emoji, box-filtered' : `base sample for “${input.caption}”`;
  const at = level.toFixed(2);
  paint(figure, '[data-panel="low"]', input.low, 0, `16 px input: ${low}`);
  paint(figure, '[data-panel="upsampled"]', sr.upsampled, 0, '16 px input bilinearly upsampled to 32 px');
  paint(figure, '[data-panel="augmented"]', sr.augmented, 0, `upsampler input at augmentation level ${at}`);
  paint(
    figure,
    '[data-panel="output"]',
    sr.image,
    0,
    `super-resolved at level ${at}: ${measure(0)} against ${against}`,
  );
  const projection = consistent ? ', 2 × 2 means kept' : '';
  const bicubic = input.real
    ? ` · bicubic from the same 16 px: ${formatDb(psnrAgainst(clamp(resizeBicubic(input.low, 32, 32), -1, 1), 0, input.real))}`
    : '';
  figure.querySelector('.psnr-note')!.textContent =
    `super-resolved at level ${at}${projection}: ${measure(0)} against ${against}${bicubic}`;
  if (!strip) return;
  figure.querySelector('.reference-name')!.textContent = against;
  figure.querySelectorAll<HTMLCanvasElement>('canvas[data-level-index]').forEach((canvas, i) => {
    const db = measure(i + 1);
    paintPicture(canvas, sr.image, i + 1);
    canvas.setAttribute('aria-label', `super-resolved at level ${STRIP_LEVELS[i]}: ${db}`);
    canvas.closest('figure')!.querySelector('.psnr')!.textContent = db;
  });
}
