/**
 * The distribution the reader draws, shared by every 2-D figure on the page: draw it once in any
 * plane whose data is "Your drawing", and the others (the trainer included) use it too.
 */
import { PLANE_EXTENT, planePoint } from './plane';

const points: number[] = [];
const listeners = new Set<() => void>();
/** Points closer than this (plane units) to the last one are skipped: an even trace, not a pile. */
const SPACING = 0.06;

export function drawnPoints(): readonly number[] {
  return points;
}

export function onDrawingChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed() {
  for (const l of listeners) l();
}

export function clearDrawing() {
  points.length = 0;
  changed();
}

/**
 * Lets the reader draw on `canvas` while `active()` is true: pointer down and drag adds points;
 * listeners hear of the change when the stroke ends (so sampling reruns once per stroke).
 */
export function bindDrawing(canvas: HTMLCanvasElement, active: () => boolean, onStroke: () => void) {
  let drawing = false;
  const add = (event: PointerEvent) => {
    const [x, y] = planePoint(canvas, event);
    if (Math.abs(x) > PLANE_EXTENT || Math.abs(y) > PLANE_EXTENT) return;
    const n = points.length;
    if (n >= 2 && Math.hypot(points[n - 2] - x, points[n - 1] - y) < SPACING) return;
    points.push(x, y);
    onStroke();
  };
  canvas.addEventListener('pointerdown', (event) => {
    if (!active()) return;
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    add(event);
    event.preventDefault();
  });
  canvas.addEventListener('pointermove', (event) => {
    if (drawing) add(event);
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    changed();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
}

/**
 * Wires a 2-D figure to the drawing: strokes on each of its `canvas[data-plane]` while `active()`
 * (`onStroke` as points arrive), `onChange` when a stroke ends or the drawing is cleared while
 * `active()`, and its Clear button. Returns `show(drawn)`, which reveals Clear and the drawing
 * cursor when "Your drawing" is the data.
 */
export function bindFigureDrawing(
  figure: HTMLElement,
  active: () => boolean,
  onStroke: () => void,
  onChange: () => void,
): (drawn: boolean) => void {
  const canvases = [...figure.querySelectorAll<HTMLCanvasElement>('canvas[data-plane]')];
  const clear = figure.querySelector<HTMLButtonElement>('button[name="clear"]')!;
  for (const canvas of canvases) bindDrawing(canvas, active, onStroke);
  onDrawingChange(() => {
    if (active()) onChange();
  });
  clear.addEventListener('click', () => clearDrawing());
  return (drawn) => {
    clear.hidden = !drawn;
    for (const c of canvases) c.classList.toggle('drawing', drawn);
  };
}
