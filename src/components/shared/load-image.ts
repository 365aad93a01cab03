/** Browser side of the forward-process figure: turn a URL or a reader's file into a tensor. */
import type { Tensor } from '../../lib/diffusion/index';
import { centerCropRect, rgbaToTensor } from '../../lib/image/index';

/** Readers may drop phone photos; anything larger is refused before decoding. */
export const MAX_UPLOAD_BYTES = 40 * 1024 * 1024;

export class ImageLoadError extends Error {}

/** Decode, centre-crop to a square and resample to size x size with the browser's smoothing. */
export async function loadImageTensor(source: string | Blob, size: number): Promise<Tensor> {
  let blob: Blob;
  if (typeof source === 'string') {
    const response = await fetch(source);
    if (!response.ok) throw new ImageLoadError(`Could not load the sample picture (HTTP ${response.status}).`);
    blob = await response.blob();
  } else {
    if (source.size > MAX_UPLOAD_BYTES) {
      throw new ImageLoadError(
        `That file is ${(source.size / 1048576).toFixed(0)} MB; please pick a picture under ${MAX_UPLOAD_BYTES / 1048576} MB.`,
      );
    }
    if (source.type && !source.type.startsWith('image/')) {
      throw new ImageLoadError(`That file is ${source.type}, not a picture. Try a PNG, JPEG, GIF or WebP.`);
    }
    blob = source;
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch {
    throw new ImageLoadError('Your browser could not decode that file as a picture. Try a PNG, JPEG, GIF or WebP.');
  }
  const { sx, sy, size: side } = centerCropRect(bitmap.width, bitmap.height);
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, sx, sy, side, side, 0, 0, size, size);
  bitmap.close();
  return rgbaToTensor(ctx.getImageData(0, 0, size, size).data, size, size);
}
