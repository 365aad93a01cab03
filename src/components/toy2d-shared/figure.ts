/**
 * What every 2-D figure's element shares: its controls found by name, a redraw at most once a
 * frame (and on resize and theme changes), the page link, and the reader's drawing (strokes on its
 * planes, Clear, the drawing cursor, the crosses that show it).
 */
import { syncUrl } from '../shared/url-state';
import { bindFigureDrawing, drawnPoints } from './drawing';

export abstract class Toy2dFigure extends HTMLElement {
  /** Draws every plane and readout from the current state. */
  protected abstract draw(): void;

  private frame = 0;
  private showDrawing: (drawn: boolean) => void = () => {};

  /** Redraws on resize and theme changes and joins the page link; call once, when connected. */
  protected watch() {
    new ResizeObserver(() => this.schedule()).observe(this.querySelector('.toy-panels')!);
    document.addEventListener('themechange', () => this.schedule());
    syncUrl(this);
  }

  /** Draws on the next frame: a burst of slider moves costs one drawing. */
  protected schedule() {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.draw());
  }

  protected button(name: string): HTMLButtonElement {
    return this.querySelector(`button[name="${name}"]`)!;
  }

  /** The input or select called `name`. */
  protected control(name: string): HTMLInputElement {
    return this.querySelector(`[name="${name}"]`) as HTMLInputElement;
  }

  protected value(name: string): string {
    return this.control(name).value;
  }

  protected get planes(): HTMLCanvasElement[] {
    return [...this.querySelectorAll<HTMLCanvasElement>('canvas[data-plane]')];
  }

  /** True when the data menu says "Your drawing". */
  protected get drawn(): boolean {
    return this.value('data') === 'drawn';
  }

  /** The reader's drawing as crosses on a plane, while it is the data. */
  protected drawnMarks() {
    return this.drawn ? { points: drawnPoints(), color: 'var(--fg)' } : undefined;
  }

  /**
   * Lets the reader draw on the planes while `active()` (by default, while the drawing is the data):
   * `onStroke` as points arrive, `onChange` when a stroke ends or the drawing is cleared.
   */
  protected bindDrawing(onStroke: () => void, onChange: () => void, active = () => this.drawn) {
    this.showDrawing = bindFigureDrawing(this, active, onStroke, onChange);
  }

  /** Shows Clear and the drawing cursor when the drawing is the data. */
  protected showDrawingTools() {
    this.showDrawing(this.drawn);
  }
}
