/**
 * Draws the CLIP-space map as SVG: held-out emoji at their images' 2-D positions, their captions as
 * small circles (optionally joined to their image), and markers (the reader's prompt, the prior's
 * embedding and its nearest real images, the prior's path). Hover or arrow keys show an emoji large.
 *
 * The drawing is in CSS pixels of its own width (redrawn when that changes), not a fixed viewBox
 * scaled to fit: scaled down to a phone, 18-unit tiles and 15-unit labels became 8 px and 7 px.
 */
import { mapLayout, placeLabels, type Box, type MapLayout } from './map-layout';
import type { ClipMap } from './models';

const SVG = 'http://www.w3.org/2000/svg';

export interface MapMarker {
  kind: 'prompt' | 'prior';
  xy: [number, number];
  label: string;
  /** Emoji indices to ring and join to the marker (its nearest real images). */
  nearest?: number[];
}

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** A rounded square of side `size` centred on an emoji tile: the prior's nearest images, the focused emoji. */
function ring(cls: string, [x, y]: [number, number], size: number) {
  return el('rect', { class: cls, x: x - size / 2, y: y - size / 2, width: size, height: size, rx: 3 });
}

/** The prompt is a diamond, the prior a star, both of radius r. */
function markShape(kind: MapMarker['kind'], x: number, y: number, r: number) {
  const d =
    kind === 'prior' ? star(x, y, r + 1, (r + 1) * 0.45) : `M${x},${y - r}L${x + r},${y}L${x},${y + r}L${x - r},${y}Z`;
  return el('path', { d, class: `mark ${kind}` });
}

/** A text's box relative to its anchor; estimated from the font size where the map is not rendered. */
function measure(text: SVGTextElement, font: number): Box {
  const box = text.getBBox();
  if (box.width > 0) return { x: box.x, y: box.y, width: box.width, height: box.height };
  return { x: 0, y: -0.9 * font, width: 0.6 * font * (text.textContent ?? '').length, height: 1.2 * font };
}

/** Cuts a label to `max` pixels with an ellipsis, inside its closing quote (a long prompt would otherwise cross half a phone's map). */
function shorten(text: SVGTextElement, label: string, max: number) {
  text.textContent = label;
  const close = label.endsWith('”') ? '”' : '';
  const body = label.slice(0, label.length - close.length);
  for (let n = body.length - 1; n > 3 && text.getComputedTextLength() > max; n--) {
    text.textContent = `${body.slice(0, n).trimEnd()}…${close}`;
  }
}

export class ClipMapView {
  private svg: SVGSVGElement;
  private tip: HTMLElement;
  private map: ClipMap | null = null;
  private markers: MapMarker[] = [];
  private trail: [number, number][] = [];
  private showCaptions = false;
  private focused = -1;
  private layout: MapLayout = mapLayout(640, 0.625);
  private toX: (v: number) => number = (v) => v;
  private toY: (v: number) => number = (v) => v;

  /** `host` holds an <svg class="map"> and a <div class="map-tip">; it should be focusable. */
  constructor(private host: HTMLElement) {
    this.svg = host.querySelector('svg.map')!;
    this.tip = host.querySelector('.map-tip')!;
    this.svg.addEventListener('pointermove', (e) => this.hover(e));
    this.svg.addEventListener('pointerleave', () => this.show(-1));
    host.addEventListener('keydown', (e) => this.key(e));
    host.addEventListener('blur', () => this.show(-1));
    // A rotated phone or a resized window gets a drawing made for its new width.
    new ResizeObserver(() => {
      if (Math.abs(this.svg.getBoundingClientRect().width - this.layout.width) >= 2) this.draw();
    }).observe(this.svg);
  }

  setMap(map: ClipMap) {
    this.map = map;
    this.draw();
  }

  /** What the map shows, in words, for screen readers (and tests). */
  describe(text: string) {
    this.svg.setAttribute('aria-label', text);
  }

  setCaptions(show: boolean) {
    this.showCaptions = show;
    this.draw();
  }

  setMarkers(markers: MapMarker[], trail: [number, number][] = []) {
    this.markers = markers;
    this.trail = trail;
    this.draw();
  }

  /** Sizes the drawing for its width and the points' spread, and maps PCA coordinates into it. */
  private fit(map: ClipMap) {
    const xs: number[] = [];
    const ys: number[] = [];
    for (const t of [map.imageXY, map.textXY]) {
      for (let i = 0; i < t.shape[0]; i++) {
        xs.push(t.data[2 * i]);
        ys.push(t.data[2 * i + 1]);
      }
    }
    for (const p of [...this.markers.map((m) => m.xy), ...this.trail]) {
      xs.push(p[0]);
      ys.push(p[1]);
    }
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const [dx, dy] = [x1 - x0 || 1, y1 - y0 || 1];
    // 0 while the figure is not laid out (display: none): draw for a desktop until it is.
    const L = mapLayout(Math.round(this.svg.getBoundingClientRect().width) || 640, dy / dx);
    this.layout = L;
    this.svg.setAttribute('viewBox', `0 0 ${L.width} ${L.height}`);
    this.svg.style.aspectRatio = `${L.width} / ${L.height}`;
    this.svg.classList.toggle('compact', L.compact);
    const s = Math.min((L.width - 2 * L.pad) / dx, (L.height - 2 * L.pad) / dy);
    const ox = (L.width - s * dx) / 2;
    const oy = (L.height - s * dy) / 2;
    this.toX = (v) => ox + s * (v - x0);
    this.toY = (v) => L.height - (oy + s * (v - y0)); // up is up
  }

  private xy(t: { data: Float32Array }, i: number): [number, number] {
    return [this.toX(t.data[2 * i]), this.toY(t.data[2 * i + 1])];
  }

  private draw() {
    const map = this.map;
    if (!map) return;
    this.fit(map);
    const L = this.layout;
    this.svg.replaceChildren();
    const n = map.set.emoji.length;
    const g = (cls: string) => this.svg.appendChild(el('g', { class: cls }));
    if (this.showCaptions) {
      const links = g('links');
      const texts = g('captions');
      for (let i = 0; i < n; i++) {
        const [ix, iy] = this.xy(map.imageXY, i);
        const [tx, ty] = this.xy(map.textXY, i);
        links.appendChild(el('line', { x1: ix, y1: iy, x2: tx, y2: ty }));
        texts.appendChild(el('circle', { cx: tx, cy: ty, r: L.compact ? 2 : 2.5 }));
      }
    }
    const icons = g('icons');
    for (let i = 0; i < n; i++) {
      const [x, y] = this.xy(map.imageXY, i);
      const size = L.icon;
      icons.appendChild(
        el('image', { href: map.set.urls[i], x: x - size / 2, y: y - size / 2, width: size, height: size }),
      );
    }
    if (this.trail.length > 1) {
      const points = this.trail.map(([x, y]) => `${this.toX(x)},${this.toY(y)}`).join(' ');
      g('trail').appendChild(el('polyline', { points }));
    }
    const marks = g('markers');
    const shapes: Box[] = [];
    for (const m of this.markers) {
      const [x, y] = [this.toX(m.xy[0]), this.toY(m.xy[1])];
      for (const k of m.nearest ?? []) {
        const [nx, ny] = this.xy(map.imageXY, k);
        marks.appendChild(el('line', { class: 'near-link', x1: x, y1: y, x2: nx, y2: ny }));
        marks.appendChild(ring('near-ring', [nx, ny], L.icon + 4));
      }
      marks.appendChild(markShape(m.kind, x, y, L.mark));
      shapes.push({ x: x - L.mark, y: y - L.mark, width: 2 * L.mark, height: 2 * L.mark });
    }
    this.drawLabels(marks, shapes);
    this.show(this.focused);
  }

  /** The marker labels, above every mark, each beside its own and clear of the other labels and marks. */
  private drawLabels(parent: SVGGElement, marks: Box[]) {
    const L = this.layout;
    const texts = this.markers.map((m) => {
      const text = parent.appendChild(el('text', { class: 'mark-label', x: 0, y: 0, 'font-size': L.font }));
      shorten(text, m.label, L.labelMax);
      return text;
    });
    const boxes = texts.map((t) => measure(t, L.font));
    const requests = this.markers.map((m, i) => ({
      anchor: [this.toX(m.xy[0]), this.toY(m.xy[1])] as [number, number],
      width: boxes[i].width,
      height: boxes[i].height,
      gap: L.mark + 5,
    }));
    placeLabels(requests, L.width, L.height, marks).forEach((box, i) => {
      texts[i].setAttribute('x', String(box.x - boxes[i].x));
      texts[i].setAttribute('y', String(box.y - boxes[i].y));
    });
  }

  private hover(event: PointerEvent) {
    const map = this.map;
    const ctm = this.svg.getScreenCTM();
    if (!map || !ctm) return;
    const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(ctm.inverse());
    let best = -1;
    let bestD = (this.layout.icon * 0.8) ** 2;
    for (let i = 0; i < map.set.emoji.length; i++) {
      const [x, y] = this.xy(map.imageXY, i);
      const d = (x - p.x) ** 2 + (y - p.y) ** 2;
      if (d < bestD) [best, bestD] = [i, d];
    }
    this.show(best);
  }

  /** Left/Right step through the emoji from left to right, Up/Down from bottom to top. */
  private key(event: KeyboardEvent) {
    const map = this.map;
    if (!map) return;
    const axis =
      event.key === 'ArrowLeft' || event.key === 'ArrowRight'
        ? 0
        : event.key === 'ArrowUp' || event.key === 'ArrowDown'
          ? 1
          : -1;
    if (event.key === 'Escape') return this.show(-1);
    if (axis < 0) return;
    event.preventDefault();
    const order = map.set.emoji
      .map((_, i) => i)
      .sort((a, b) => map.imageXY.data[2 * a + axis] - map.imageXY.data[2 * b + axis]);
    const forward = event.key === 'ArrowRight' || event.key === 'ArrowUp';
    const at = order.indexOf(this.focused);
    const next = at < 0 ? (forward ? 0 : order.length - 1) : (at + (forward ? 1 : -1) + order.length) % order.length;
    this.show(order[next]);
  }

  private show(index: number) {
    this.focused = index;
    this.svg.querySelector('.focus-ring')?.remove();
    const map = this.map;
    if (!map || index < 0) {
      this.tip.hidden = true;
      return;
    }
    const e = map.set.emoji[index];
    const [x, y] = this.xy(map.imageXY, index);
    this.svg.appendChild(ring('focus-ring', [x, y], this.layout.icon + 6));
    this.tip.replaceChildren();
    const img = document.createElement('img');
    img.src = map.set.urls[index];
    img.alt = '';
    img.width = 64;
    img.height = 64;
    const text = document.createElement('span');
    text.textContent = `${e.caption} · ${map.set.categoryNames[e.category] ?? ''}`;
    this.tip.append(img, text);
    this.tip.hidden = false;
    // Place the tip beside the point, inside the host.
    const box = this.svg.getBoundingClientRect();
    const host = this.host.getBoundingClientRect();
    const px = box.left - host.left + (x / this.layout.width) * box.width;
    const py = box.top - host.top + (y / this.layout.height) * box.height;
    const tipWidth = this.tip.offsetWidth;
    this.tip.style.left = `${Math.max(0, Math.min(host.width - tipWidth, px + 14 + tipWidth > host.width ? px - 14 - tipWidth : px + 14))}px`;
    this.tip.style.top = `${Math.max(0, py - 40)}px`;
  }
}

function star(cx: number, cy: number, outer: number, inner: number): string {
  const points = Array.from({ length: 10 }, (_, k) => {
    const r = k % 2 ? inner : outer;
    const a = -Math.PI / 2 + (k * Math.PI) / 5;
    return `${(cx + r * Math.cos(a)).toFixed(1)},${(cy + r * Math.sin(a)).toFixed(1)}`;
  });
  return `M${points.join('L')}Z`;
}
