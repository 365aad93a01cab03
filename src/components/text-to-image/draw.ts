/** Browser drawing for the Stable Diffusion figures: latent channels as heatmaps, pictures from a batch. */
import { sliceBatch, type Tensor } from '../../lib/diffusion/index';
import { channelToRgba, divergingColor } from '../../lib/image/index';
import { paintRgba, paintTensor } from '../shared/canvas';

/** Picture `index` of a [N, 3, H, W] batch in [-1, 1]. */
export function paintPicture(canvas: HTMLCanvasElement, batch: Tensor, index = 0) {
  paintTensor(canvas, batch.shape[0] === 1 ? batch : sliceBatch(batch, index));
}

/**
 * Channel c of image `index` of a [N, C, H, W] latent on canvases[c], blue below zero and red above,
 * all channels on one symmetric scale of ±limit so that they can be compared.
 */
export function paintChannels(canvases: ArrayLike<HTMLCanvasElement>, latent: Tensor, limit: number, index = 0) {
  const one = latent.shape[0] === 1 ? latent : sliceBatch(latent, index);
  const [, channels, height, width] = one.shape;
  for (let c = 0; c < Math.min(channels, canvases.length); c++) {
    paintRgba(canvases[c], channelToRgba(one, c, divergingColor, limit), width, height);
  }
}

/** A CSS gradient of the diverging scale, for a legend. */
export function divergingGradient(): string {
  const stops = [-1, -0.5, 0, 0.5, 1].map((x) => `rgb(${divergingColor(x, 1).map(Math.round).join(' ')})`);
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

/** Empties a canvas: "nothing here yet", rather than an old picture. */
export function clearCanvas(canvas: HTMLCanvasElement) {
  const context = canvas.getContext('2d')!;
  context.clearRect(0, 0, canvas.width, canvas.height);
}

/** Picture `index` of a decoded batch with its label, or an empty canvas while nothing is decoded yet. */
export function paintDecoded(canvas: HTMLCanvasElement, decoded: Tensor | null, index: number, label: string) {
  if (decoded) paintPicture(canvas, decoded, index);
  else clearCanvas(canvas);
  canvas.setAttribute('aria-label', decoded ? label : 'not decoded yet');
}
