/** Saving a figure's generated pictures: one PNG, pictures side by side, enlarged without blurring. */

/** Each picture is drawn at least this many pixels tall (nearest neighbour, so a 32 px emoji stays crisp). */
const MIN_HEIGHT = 256;
const GAP = 8;

/**
 * Tiles `canvases` left to right on a transparent strip and hands the PNG to the browser as `filename`;
 * with `columns`, in rows of that many (a figure's grid of pictures stays a grid).
 */
export async function downloadCanvases(
  canvases: readonly HTMLCanvasElement[],
  filename: string,
  columns = canvases.length,
): Promise<void> {
  if (canvases.length === 0) return;
  const height = Math.max(...canvases.map((c) => c.height));
  const zoom = Math.max(1, Math.ceil(MIN_HEIGHT / height));
  const widths = canvases.map((c) => Math.round((c.width * height * zoom) / c.height));
  const rows = Math.ceil(canvases.length / columns);
  const rowWidth = (r: number) => widths.slice(r * columns, (r + 1) * columns).reduce((a, b) => a + b + GAP, -GAP);
  const strip = document.createElement('canvas');
  strip.width = Math.max(...Array.from({ length: rows }, (_, r) => rowWidth(r)));
  strip.height = height * zoom * rows + GAP * (rows - 1);
  const ctx = strip.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  let x = 0;
  canvases.forEach((c, i) => {
    if (i % columns === 0) x = 0;
    const y = Math.floor(i / columns) * (height * zoom + GAP);
    ctx.drawImage(c, x, y, widths[i], height * zoom);
    x += widths[i] + GAP;
  });
  const blob = await new Promise<Blob | null>((resolve) => strip.toBlob(resolve, 'image/png'));
  if (!blob) return;
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 0);
}
