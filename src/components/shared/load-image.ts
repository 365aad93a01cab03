/** Browser side of the picture figures: turn a URL or a reader's file into a tensor, and say what was done to it. */
import type { Tensor } from '../../lib/diffusion/index';
import { centerCropRect, rgbaToTensor } from '../../lib/image/index';

/**
 * Big photos are welcome: they are decoded straight at a small size (decodeSize), and a 192 MB,
 * 8192 x 8192 BMP takes about a second in Chromium. Only larger files are refused, before decoding:
 * the browser reads the whole file into memory (twice: once for its size, once to decode it) and
 * formats without scaled decoding pass through a full-size bitmap, which past a quarter gigabyte can
 * run a phone's tab out of memory. Absurd pixel counts the browser refuses by itself (Chromium here
 * decodes 20000 x 20000 in under 3 s and refuses 30000 x 30000), which ends in the "could not decode"
 * sentence.
 */
export const MAX_UPLOAD_BYTES = 256 * 1024 * 1024;

/** Files from this size on get a note that they were scaled down while decoding (it takes a moment). */
export const LARGE_UPLOAD_BYTES = 20 * 1024 * 1024;

export class ImageLoadError extends Error {}

export interface LoadedImage {
  /** [1, 3, size, size] in [-1, 1], transparent parts composited over white. */
  tensor: Tensor;
  /** What was done to fit the picture to the figure, as sentences for the reader; empty for a plain square. */
  notes: string[];
}

/**
 * The size to decode a width x height picture at: the same aspect ratio, shortest side at most
 * four times the figure's, so an 8000 x 8000 photo never becomes a 256 MB bitmap and the canvas
 * resamples from a few times the target size (which is what its smoothing handles well).
 */
export function decodeSize(width: number, height: number, size: number): { width: number; height: number } {
  const limit = Math.max(256, 4 * size);
  const scale = Math.min(1, limit / Math.min(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Sentences telling the reader how their width x height picture (a file of `fileBytes`) was fitted to size x size. */
export function uploadNotes(
  width: number,
  height: number,
  size: number,
  transparent: boolean,
  fileBytes = 0,
): string[] {
  const notes: string[] = [];
  if (width !== height) {
    const side = Math.min(width, height);
    const cut = width > height ? 'left and right edges' : 'top and bottom';
    notes.push(
      `Your picture is ${width} × ${height}, not square: the figure uses its centre ${side} × ${side} square (the ${cut} are cropped off), scaled to ${size} × ${size}.`,
    );
  } else if (width !== size) {
    notes.push(`Your ${width} × ${height} picture is scaled to ${size} × ${size}.`);
  }
  if (fileBytes >= LARGE_UPLOAD_BYTES) {
    notes.push(
      `It is a large file (${megabytes(fileBytes)} MB), so it was scaled down while it was decoded instead of opened at full size.`,
    );
  }
  if (transparent) notes.push('Its transparent parts are shown on white, the background the models were trained on.');
  return notes;
}

/** A file size in whole MB (of 1024 x 1024 bytes, as most file pickers count them). */
const megabytes = (bytes: number) => (bytes / 1048576).toFixed(0);

/** Width and height as the browser will show the picture (EXIF orientation applied), without decoding its pixels. */
async function naturalSize(blob: Blob): Promise<{ width: number; height: number }> {
  const url = URL.createObjectURL(blob);
  try {
    const image = new Image();
    image.src = url;
    // The load event comes once the header is read; the pixels are decoded later, if ever.
    await new Promise((resolve, reject) => {
      image.onload = resolve;
      image.onerror = reject;
    });
    return { width: image.naturalWidth, height: image.naturalHeight };
  } finally {
    URL.revokeObjectURL(url);
  }
}

async function decode(blob: Blob, natural: { width: number; height: number }, size: number): Promise<ImageBitmap> {
  const target = decodeSize(natural.width, natural.height, size);
  // Pictures already small enough are decoded as they are, so the samples reach the models unresampled.
  const resize =
    target.width < natural.width
      ? { resizeWidth: target.width, resizeHeight: target.height, resizeQuality: 'high' as const }
      : {};
  return createImageBitmap(blob, { imageOrientation: 'from-image', ...resize });
}

/**
 * Decode, centre-crop to a square and resample to size x size with the browser's smoothing.
 * `modelSize` is the size the notes name, when the figure shrinks the tensor further itself.
 */
export async function loadImage(source: string | Blob, size: number, modelSize = size): Promise<LoadedImage> {
  let blob: Blob;
  if (typeof source === 'string') {
    const response = await fetch(source);
    if (!response.ok) throw new ImageLoadError(`Could not load the sample picture (HTTP ${response.status}).`);
    blob = await response.blob();
  } else {
    if (source.size > MAX_UPLOAD_BYTES) {
      throw new ImageLoadError(
        `That file is ${megabytes(source.size)} MB, more than a browser tab can safely decode; please pick a picture under ${megabytes(MAX_UPLOAD_BYTES)} MB.`,
      );
    }
    if (source.type && !source.type.startsWith('image/')) {
      throw new ImageLoadError(`That file is ${source.type}, not a picture. Try a PNG, JPEG, GIF or WebP.`);
    }
    blob = source;
  }
  let natural: { width: number; height: number };
  let bitmap: ImageBitmap;
  try {
    natural = await naturalSize(blob);
    bitmap = await decode(blob, natural, size);
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
  const rgba = ctx.getImageData(0, 0, size, size).data;
  let transparent = false;
  for (let i = 3; i < rgba.length && !transparent; i += 4) transparent = rgba[i] < 255;
  return {
    tensor: rgbaToTensor(rgba, size, size),
    notes: uploadNotes(
      natural.width,
      natural.height,
      modelSize,
      transparent,
      typeof source === 'string' ? 0 : blob.size,
    ),
  };
}

/** The tensor alone, for the site's own sample pictures. */
export async function loadImageTensor(source: string | Blob, size: number): Promise<Tensor> {
  return (await loadImage(source, size)).tensor;
}

/** Shows (or clears, with no notes) what was done to the reader's picture, under the figure's picker. */
export function showUploadNotes(figure: HTMLElement, notes: readonly string[]) {
  const line = figure.querySelector<HTMLElement>('.upload-note');
  if (!line) return;
  line.textContent = notes.join(' ');
  line.hidden = notes.length === 0;
}
