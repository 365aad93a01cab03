/** Browser drawing helpers of the DiT chapter: small matrices as crisp heatmaps on a canvas. */
import type { Rgb } from '../../lib/image/index';

/** Sequential white-to-dark-purple for values in [0, max] (attention probabilities). */
export function sequentialColor(value: number, max: number): Rgb {
  const t = Math.max(0, Math.min(1, max > 0 ? value / max : 0));
  const dark = [63, 0, 125];
  return [0, 1, 2].map((i) => Math.round(250 + (dark[i] - 250) * t)) as Rgb;
}

/** Paints a row-major rows x cols matrix, one canvas pixel per cell (CSS scales it up, pixelated). */
export function paintMatrix(
  canvas: HTMLCanvasElement,
  values: ArrayLike<number>,
  rows: number,
  cols: number,
  color: (v: number) => Rgb,
) {
  if (canvas.width !== cols) canvas.width = cols;
  if (canvas.height !== rows) canvas.height = rows;
  const rgba = new Uint8ClampedArray(rows * cols * 4);
  for (let i = 0; i < rows * cols; i++) {
    const [r, g, b] = color(values[i]);
    rgba.set([r, g, b, 255], i * 4);
  }
  canvas.getContext('2d')!.putImageData(new ImageData(rgba, cols, rows), 0, 0);
}
