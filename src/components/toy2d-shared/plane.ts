/**
 * Drawing the 2-D figures: a square canvas over a fixed window of the plane, with the density of
 * the noised data as shading, a vector field as arrows, paths and particles. Pure drawing: the
 * figures compute every number with src/lib/diffusion/toy2d*.ts and pass it here.
 */

/** The window of the plane every 2-D figure shows: N(0, I) noise lies almost all inside it. */
export const PLANE_EXTENT = 3;

export interface PlaneLayers {
  /** Log density on a `densitySize`^2 grid (row 0 at the bottom), shaded from transparent to the accent. */
  logDensity?: Float64Array;
  densitySize?: number;
  /** Arrows: grid points [M, 2] and vectors [M, 2], drawn with a common scale so lengths compare. */
  arrows?: { points: ArrayLike<number>; vectors: ArrayLike<number>; color: string; scale?: number }[];
  /** Paths [frames][N, 2]; only the first `pathCount` particles are traced. */
  paths?: { frames: readonly Float32Array[]; upTo: number; color: string; pathCount: number };
  /** Particles [N, 2]. */
  particles?: { points: ArrayLike<number>; color: string; radius?: number }[];
  /** Small crosses marking points (the reader's drawing). */
  marks?: { points: ArrayLike<number>; color: string };
}

/** Sizes the canvas backing store to its CSS box and device pixels; returns the CSS size. */
export function fitCanvas(canvas: HTMLCanvasElement): number {
  const size = Math.max(120, Math.round(canvas.clientWidth || 300));
  const ratio = Math.min(2, globalThis.devicePixelRatio || 1);
  if (canvas.width !== Math.round(size * ratio)) {
    canvas.width = Math.round(size * ratio);
    canvas.height = Math.round(size * ratio);
  }
  return size;
}

/** Plane coordinates of a pointer event on the canvas. */
export function planePoint(canvas: HTMLCanvasElement, event: PointerEvent): [number, number] {
  const rect = canvas.getBoundingClientRect();
  const u = (event.clientX - rect.left) / rect.width;
  const v = (event.clientY - rect.top) / rect.height;
  return [(2 * u - 1) * PLANE_EXTENT, (1 - 2 * v) * PLANE_EXTENT];
}

function cssVar(el: Element, name: string, fallback: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}

/** Resolves `var(--x)` colours (canvas cannot read CSS variables itself). */
export function resolveColor(el: Element, color: string): string {
  const m = /^var\((--[\w-]+)\)$/.exec(color);
  return m ? cssVar(el, m[1], '#888') : color;
}

/** Draws every layer, back to front: density, axes, arrows, paths, particles, marks. */
export function drawPlane(canvas: HTMLCanvasElement, layers: PlaneLayers) {
  fitCanvas(canvas);
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const w = canvas.width;
  const px = (x: number) => ((x / PLANE_EXTENT + 1) / 2) * w;
  const py = (y: number) => ((1 - y / PLANE_EXTENT) / 2) * w;
  ctx.clearRect(0, 0, w, w);

  if (layers.logDensity && layers.densitySize) {
    const n = layers.densitySize;
    let max = -Infinity;
    for (const v of layers.logDensity) max = Math.max(max, v);
    const image = ctx.createImageData(n, n);
    const accent = parseColor(resolveColor(canvas, 'var(--accent)'));
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        // Density relative to its peak, on a gentle power so that broad noise stays visible.
        const rel = Math.exp(layers.logDensity[j * n + i] - max) ** 0.5;
        const o = 4 * ((n - 1 - j) * n + i);
        image.data.set([accent[0], accent[1], accent[2], Math.round(150 * rel)], o);
      }
    }
    const off = new OffscreenCanvasOr(n);
    off.ctx.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off.canvas, 0, 0, w, w);
  }

  // Axes through the origin and the unit circle's scale: a quiet reference frame.
  ctx.strokeStyle = resolveColor(canvas, 'var(--border)');
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(px(-PLANE_EXTENT), py(0));
  ctx.lineTo(px(PLANE_EXTENT), py(0));
  ctx.moveTo(px(0), py(-PLANE_EXTENT));
  ctx.lineTo(px(0), py(PLANE_EXTENT));
  ctx.stroke();

  for (const field of layers.arrows ?? []) {
    ctx.strokeStyle = resolveColor(canvas, field.color);
    ctx.fillStyle = ctx.strokeStyle;
    ctx.lineWidth = Math.max(1, w / 400);
    const scale = field.scale ?? 1;
    for (let i = 0; i + 1 < field.points.length; i += 2) {
      const x0 = px(field.points[i]);
      const y0 = py(field.points[i + 1]);
      const dx = field.vectors[i] * scale * (w / (2 * PLANE_EXTENT));
      const dy = -field.vectors[i + 1] * scale * (w / (2 * PLANE_EXTENT));
      arrow(ctx, x0, y0, dx, dy, w / 110);
    }
  }

  if (layers.paths) {
    const { frames, upTo, color, pathCount } = layers.paths;
    ctx.strokeStyle = resolveColor(canvas, color);
    ctx.globalAlpha = 0.55;
    ctx.lineWidth = Math.max(1, w / 500);
    const n = Math.min(pathCount, frames[0].length / 2);
    for (let p = 0; p < n; p++) {
      ctx.beginPath();
      ctx.moveTo(px(frames[0][2 * p]), py(frames[0][2 * p + 1]));
      for (let f = 1; f <= Math.min(upTo, frames.length - 1); f++)
        ctx.lineTo(px(frames[f][2 * p]), py(frames[f][2 * p + 1]));
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
  }

  for (const group of layers.particles ?? []) {
    ctx.fillStyle = resolveColor(canvas, group.color);
    const r = (group.radius ?? 1.6) * (w / 400);
    for (let i = 0; i + 1 < group.points.length; i += 2) {
      ctx.beginPath();
      ctx.arc(px(group.points[i]), py(group.points[i + 1]), r, 0, 2 * Math.PI);
      ctx.fill();
    }
  }

  if (layers.marks) {
    ctx.strokeStyle = resolveColor(canvas, layers.marks.color);
    ctx.lineWidth = Math.max(1, w / 300);
    const s = w / 160;
    for (let i = 0; i + 1 < layers.marks.points.length; i += 2) {
      const x = px(layers.marks.points[i]);
      const y = py(layers.marks.points[i + 1]);
      ctx.beginPath();
      ctx.moveTo(x - s, y - s);
      ctx.lineTo(x + s, y + s);
      ctx.moveTo(x - s, y + s);
      ctx.lineTo(x + s, y - s);
      ctx.stroke();
    }
  }
}

/** Arrows longer than a cell are capped so a steep field stays readable; the head shows direction. */
function arrow(ctx: CanvasRenderingContext2D, x: number, y: number, dx: number, dy: number, head: number) {
  const len = Math.hypot(dx, dy);
  if (len < 0.5) return;
  const cap = head * 4.5;
  const k = len > cap ? cap / len : 1;
  const ex = x + dx * k;
  const ey = y + dy * k;
  ctx.beginPath();
  ctx.moveTo(x, y);
  ctx.lineTo(ex, ey);
  ctx.stroke();
  const a = Math.atan2(ey - y, ex - x);
  const h = Math.min(head, (len * k) / 2);
  ctx.beginPath();
  ctx.moveTo(ex, ey);
  ctx.lineTo(ex - h * Math.cos(a - 0.45), ey - h * Math.sin(a - 0.45));
  ctx.lineTo(ex - h * Math.cos(a + 0.45), ey - h * Math.sin(a + 0.45));
  ctx.closePath();
  ctx.fill();
}

/** A small scratch canvas for the density image (OffscreenCanvas where the browser has one). */
class OffscreenCanvasOr {
  canvas: HTMLCanvasElement | OffscreenCanvas;
  ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
  constructor(size: number) {
    if (typeof OffscreenCanvas !== 'undefined') {
      this.canvas = new OffscreenCanvas(size, size);
    } else {
      const c = document.createElement('canvas');
      c.width = c.height = size;
      this.canvas = c;
    }
    this.ctx = this.canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
  }
}

/** '#rrggbb', '#rgb' or 'rgb(r, g, b)' to [r, g, b]. */
function parseColor(color: string): [number, number, number] {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color);
  if (hex) {
    const h = hex[1].length === 3 ? [...hex[1]].map((c) => c + c).join('') : hex[1];
    return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];
  }
  const rgb = /rgba?\(([\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)/.exec(color);
  return rgb ? [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])] : [70, 110, 200];
}
