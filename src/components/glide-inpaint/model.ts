/** The inpainting figure's drawing maths: the mask editor's picture, as pure RGBA bytes. */
import type { Tensor } from '../../lib/diffusion/index';
import { tensorToRgba } from '../../lib/image/index';
import type { HoleMask } from '../../lib/image/mask';

/** Masked pixels are shown as a grey checkerboard (the usual sign for "missing") over a dimmed picture. */
const CHECKER: [number, number] = [205, 160];
/** How much of the picture shows through a masked pixel. */
const SHOW_THROUGH = 0.3;

/**
 * The editor's canvas: each of the size x size pixels as a `cell` x `cell` block, masked ones
 * checkered, so a 16 px picture stays crisp at any zoom. Returns [cell * size]^2 RGBA bytes.
 */
export function editorRgba(picture: Tensor, hole: HoleMask, cell: number): Uint8ClampedArray<ArrayBuffer> {
  const { size } = hole;
  const small = tensorToRgba(picture); // [size * size * 4]
  const side = size * cell;
  const rgba = new Uint8ClampedArray(side * side * 4);
  const half = cell / 2;
  for (let py = 0; py < side; py++) {
    for (let px = 0; px < side; px++) {
      const x = Math.floor(px / cell);
      const y = Math.floor(py / cell);
      const src = 4 * (y * size + x);
      const dst = 4 * (py * side + px);
      const masked = hole.data[y * size + x] === 1;
      const grey = CHECKER[(Math.floor((px % cell) / half) + Math.floor((py % cell) / half)) % 2];
      for (let c = 0; c < 3; c++) {
        rgba[dst + c] = masked ? SHOW_THROUGH * small[src + c] + (1 - SHOW_THROUGH) * grey : small[src + c];
      }
      rgba[dst + 3] = 255;
    }
  }
  return rgba;
}

/** The editor cell under a pointer at (offsetX, offsetY) of an element `width` x `height` CSS pixels. */
export function cellAt(offsetX: number, offsetY: number, width: number, height: number, size: number) {
  const clampCell = (v: number) => Math.max(0, Math.min(size - 1, Math.floor(v)));
  return { x: clampCell((offsetX / width) * size), y: clampCell((offsetY / height) * size) };
}
