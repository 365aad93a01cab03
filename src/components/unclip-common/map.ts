/**
 * Draws the CLIP-space map as SVG: held-out emoji at their images' 2-D positions, their captions as
 * small circles (optionally joined to their image), and markers (the reader's prompt, the prior's
 * embedding and its nearest real images, the prior's path). Hover or arrow keys show an emoji large.
 */
import type { ClipMap } from './models';

const SVG = 'http://www.w3.org/2000/svg';
const W = 640;
const H = 400;
const PAD = 24;
const ICON = 18;

export interface MapMarker {
  kind: 'prompt' | 'prior' | 'text-embedding';
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

export class ClipMapView {
  private svg: SVGSVGElement;
  private tip: HTMLElement;
  private map: ClipMap | null = null;
  private markers: MapMarker[] = [];
  private trail: [number, number][] = [];
  private showCaptions = false;
  private focused = -1;
  private toX: (v: number) => number = (v) => v;
  private toY: (v: number) => number = (v) => v;

  /** `host` holds an <svg class="map"> and a <div class="map-tip">; it should be focusable. */
  constructor(private host: HTMLElement) {
    this.svg = host.querySelector('svg.map')!;
    this.tip = host.querySelector('.map-tip')!;
    this.svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    this.svg.addEventListener('pointermove', (e) => this.hover(e));
    this.svg.addEventListener('pointerleave', () => this.show(-1));
    host.addEventListener('keydown', (e) => this.key(e));
    host.addEventListener('blur', () => this.show(-1));
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
    const s = Math.min((W - 2 * PAD) / (x1 - x0 || 1), (H - 2 * PAD) / (y1 - y0 || 1));
    const ox = (W - s * (x1 - x0)) / 2;
    const oy = (H - s * (y1 - y0)) / 2;
    this.toX = (v) => ox + s * (v - x0);
    this.toY = (v) => H - (oy + s * (v - y0)); // up is up
  }

  private xy(t: { data: Float32Array }, i: number): [number, number] {
    return [this.toX(t.data[2 * i]), this.toY(t.data[2 * i + 1])];
  }

  private draw() {
    const map = this.map;
    if (!map) return;
    this.fit(map);
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
        texts.appendChild(el('circle', { cx: tx, cy: ty, r: 2.5 }));
      }
    }
    const icons = g('icons');
    for (let i = 0; i < n; i++) {
      const [x, y] = this.xy(map.imageXY, i);
      icons.appendChild(
        el('image', { href: map.set.urls[i], x: x - ICON / 2, y: y - ICON / 2, width: ICON, height: ICON }),
      );
    }
    if (this.trail.length > 1) {
      const points = this.trail.map(([x, y]) => `${this.toX(x)},${this.toY(y)}`).join(' ');
      g('trail').appendChild(el('polyline', { points }));
    }
    const marks = g('markers');
    for (const m of this.markers) {
      const [x, y] = [this.toX(m.xy[0]), this.toY(m.xy[1])];
      for (const k of m.nearest ?? []) {
        const [nx, ny] = this.xy(map.imageXY, k);
        marks.appendChild(el('line', { class: 'near-link', x1: x, y1: y, x2: nx, y2: ny }));
        marks.appendChild(
          el('rect', {
            class: 'near-ring',
            x: nx - ICON / 2 - 2,
            y: ny - ICON / 2 - 2,
            width: ICON + 4,
            height: ICON + 4,
            rx: 3,
          }),
        );
      }
      const shape =
        m.kind === 'prior'
          ? el('path', { d: star(x, y, 9, 4), class: `mark ${m.kind}` })
          : m.kind === 'prompt'
            ? el('path', { d: `M${x},${y - 8}L${x + 8},${y}L${x},${y + 8}L${x - 8},${y}Z`, class: `mark ${m.kind}` })
            : el('circle', { cx: x, cy: y, r: 6, class: `mark ${m.kind}` });
      marks.appendChild(shape);
      // The prompt's label goes beside it, the prior's below it, so the two never overlap.
      const below = m.kind === 'prior';
      const right = x < W - 160;
      const label = el('text', {
        x: below ? x : right ? x + 12 : x - 12,
        y: below ? y + 22 : y + 5,
        class: 'mark-label',
        'text-anchor': below ? 'middle' : right ? 'start' : 'end',
      });
      label.textContent = m.label;
      marks.appendChild(label);
    }
    this.show(this.focused);
  }

  private hover(event: PointerEvent) {
    const map = this.map;
    const ctm = this.svg.getScreenCTM();
    if (!map || !ctm) return;
    const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(ctm.inverse());
    let best = -1;
    let bestD = (ICON * 0.8) ** 2;
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
    this.svg.appendChild(
      el('rect', {
        class: 'focus-ring',
        x: x - ICON / 2 - 3,
        y: y - ICON / 2 - 3,
        width: ICON + 6,
        height: ICON + 6,
        rx: 4,
      }),
    );
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
    const px = box.left - host.left + (x / W) * box.width;
    const py = box.top - host.top + (y / H) * box.height;
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
