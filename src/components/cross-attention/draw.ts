/** Browser drawing for the cross-attention figure: the token chips and the map over the picture. */
import type { Tensor } from '../../lib/diffusion/index';
import { tokenMap } from '../../lib/pipelines/cross-attention';
import { tensorToRgba } from '../../lib/image/index';
import { paintRgba } from '../shared/canvas';
import { tokenElement } from '../text-to-image/token-strip';
import { attentionRgba, shareText, silhouetteRgba, type TokenChoice } from './model';

/** One token's radio chip: a thumbnail of its map (own min..max), its text and its share of the attention. */
export function tokenChip(
  choice: TokenChoice,
  index: number,
  options: { name: string; average: Tensor; shares: number[]; checked: boolean; defaultChecked: boolean },
): HTMLLabelElement {
  const [, , height, width] = options.average.shape;
  const chip = tokenElement('label', choice.kind, choice.label, shareText(options.shares, choice));
  chip.element.classList.add('choice', 'pick');
  const input = document.createElement('input');
  input.type = 'radio';
  input.name = options.name;
  input.value = String(index);
  // The pick travels in the page's link once a run has made the chips; the first word is its default.
  input.dataset.urlState = 'token';
  input.dataset.urlRestore = 'after-run';
  input.defaultChecked = options.defaultChecked;
  input.checked = options.checked;
  const thumb = document.createElement('canvas');
  thumb.className = 'thumb';
  thumb.setAttribute('aria-hidden', 'true');
  paintRgba(thumb, attentionRgba(tokenMap(options.average, choice.positions)), width, height);
  chip.element.append(input, thumb, chip.text, chip.small);
  return chip.element;
}

/**
 * A token's map, [H * W] of a [H, W] grid, on the heat canvas: opaque, smoothly enlarged to the
 * canvas, so its colours alone say where attention went.
 */
export function paintAttention(canvas: HTMLCanvasElement, map: Float32Array, width: number, height: number) {
  const heat = document.createElement('canvas');
  paintRgba(heat, attentionRgba(map), width, height);
  const context = canvas.getContext('2d')!;
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  context.drawImage(heat, 0, 0, canvas.width, canvas.height);
}

/** The picture's outline, [1, 3, H, W] in [-1, 1], drawn crisply on the transparent canvas laid over the map. */
export function paintSilhouette(canvas: HTMLCanvasElement, image: Tensor) {
  const [, , height, width] = image.shape;
  const zoom = Math.max(1, Math.round(canvas.width / width));
  paintRgba(canvas, silhouetteRgba(tensorToRgba(image), width, height, zoom), width * zoom, height * zoom);
}
