/**
 * The inpainting figure's mask editor: a size x size mask painted over the picture with the mouse,
 * touch or the keyboard (arrow keys move a cursor, Space toggles a pixel, Shift + arrows paint), with
 * presets and a live readout for screen readers. The drawing maths is in ./model.ts.
 */
import type { Tensor } from '../../lib/diffusion/index';
import { holeArea, moveCursor, paintHole, presetHole, type HoleMask, type MaskPreset } from '../../lib/image/mask';
import { paintRgba } from '../shared/canvas';
import { cellAt, editorRgba } from './model';

const ARROWS: Record<string, [number, number]> = {
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
  ArrowUp: [0, -1],
  ArrowDown: [0, 1],
};

export class MaskEditor {
  hole: HoleMask;
  /** The picture under the mask, [1, 3, size, size] in [-1, 1]; nothing is drawn until it is set. */
  picture: Tensor | null = null;
  private cursor: { x: number; y: number };
  private painting = false;
  private canvas: HTMLCanvasElement;

  /**
   * Wires the editor inside `root`: its canvas (`canvas.mask-canvas`, `cell` pixels per mask pixel),
   * preset buttons (`button[data-preset]`), brush radios (`input[data-brush]`) and readout
   * (`.mask-readout`). `changed` runs when a stroke, key or preset has changed the mask.
   */
  constructor(
    private root: HTMLElement,
    private size: number,
    private cell: number,
    private changed: () => void,
  ) {
    this.canvas = root.querySelector<HTMLCanvasElement>('canvas.mask-canvas')!;
    this.hole = presetHole('centre', size);
    // The middle pixel, inside the centre square.
    this.cursor = { x: size / 2, y: size / 2 };
    root.querySelectorAll<HTMLButtonElement>('button[data-preset]').forEach((button) =>
      button.addEventListener('click', () => {
        this.hole = presetHole(button.dataset.preset as MaskPreset, size);
        this.refresh();
        changed();
      }),
    );
    this.wirePointer();
    this.canvas.addEventListener('keydown', (event) => this.key(event));
    this.canvas.addEventListener('focus', () => this.draw());
    this.canvas.addEventListener('blur', () => this.draw());
  }

  /** Redraws the editor and updates its readout (after the picture or the mask changed). */
  refresh() {
    this.draw();
    this.announce();
  }

  private brush(): { value: 0 | 1; radius: number } {
    const checked = (kind: string) =>
      this.root.querySelector<HTMLInputElement>(`input[data-brush="${kind}"]:checked`)?.value;
    return { value: checked('value') === '0' ? 0 : 1, radius: Number(checked('radius') ?? 0) };
  }

  private paint(x: number, y: number) {
    const { value, radius } = this.brush();
    this.hole = paintHole(this.hole, x, y, radius, value);
  }

  private wirePointer() {
    const editor = this.canvas;
    const paintAt = (event: PointerEvent) => {
      const { x, y } = cellAt(event.offsetX, event.offsetY, editor.clientWidth, editor.clientHeight, this.size);
      this.cursor = { x, y };
      this.paint(x, y);
      this.draw();
    };
    editor.addEventListener('pointerdown', (event) => {
      this.painting = true;
      editor.setPointerCapture(event.pointerId);
      paintAt(event);
    });
    editor.addEventListener('pointermove', (event) => this.painting && paintAt(event));
    const stop = () => {
      if (!this.painting) return;
      this.painting = false;
      this.announce();
      this.changed();
    };
    editor.addEventListener('pointerup', stop);
    editor.addEventListener('pointercancel', stop);
  }

  private key(event: KeyboardEvent) {
    const arrow = ARROWS[event.key];
    if (arrow) {
      this.cursor = moveCursor(this.cursor, arrow[0], arrow[1], this.size);
      if (event.shiftKey) this.paint(this.cursor.x, this.cursor.y);
    } else if (event.key === ' ' || event.key === 'Enter') {
      const { x, y } = this.cursor;
      const masked = this.hole.data[y * this.size + x] === 1;
      this.hole = paintHole(this.hole, x, y, 0, masked ? 0 : 1);
    } else {
      return;
    }
    event.preventDefault();
    this.refresh();
    this.changed();
  }

  /** The picture with masked pixels checkered, and the keyboard cursor while the editor has focus. */
  private draw() {
    if (!this.picture) return;
    const { cell, canvas } = this;
    const side = this.size * cell;
    paintRgba(canvas, editorRgba(this.picture, this.hole, cell), side, side);
    if (document.activeElement !== canvas) return;
    const context = canvas.getContext('2d')!;
    context.lineWidth = 3;
    context.strokeStyle = getComputedStyle(this.root).getPropertyValue('--focus').trim() || '#1a73e8';
    context.strokeRect(this.cursor.x * cell + 1.5, this.cursor.y * cell + 1.5, cell - 3, cell - 3);
  }

  private announce() {
    const { x, y } = this.cursor;
    const state = this.hole.data[y * this.size + x] ? 'masked' : 'kept';
    this.root.querySelector('.mask-readout')!.textContent =
      `${holeArea(this.hole)} of ${this.size * this.size} pixels masked · cursor at row ${y + 1}, column ${x + 1}: ${state}`;
  }
}
