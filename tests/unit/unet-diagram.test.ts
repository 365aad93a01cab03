/** The UNet block diagram's layout (unet-structure/diagram.ts): everything inside the drawing, every line inside its box. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { unetDiagram } from '../../src/components/unet-structure/diagram';
import { SD15_UNET_CONFIG, type UNetConfig } from '../../src/components/unet-structure/structure';

const ours = JSON.parse(readFileSync('public/weights/manifest.json', 'utf8')).models.sd_unet.config as UNetConfig;
/** Monospace advance at the diagram's 10-unit text: 0.6 em in most fonts, 0.63 in DejaVu Sans Mono. */
const CHAR = 6.4;
/** Text starts 7 units into its box; leave a little on the right too. */
const PADDING = 7 + 4;

describe.each([
  ['Stable Diffusion 1.5', SD15_UNET_CONFIG],
  ['our mini SD', ours],
])('the diagram of %s', (_name, config) => {
  const d = unetDiagram(config);

  it('keeps every box and arrow inside the drawing', () => {
    for (const b of d.boxes) {
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.y).toBeGreaterThanOrEqual(0);
      expect(b.x + b.w).toBeLessThanOrEqual(d.width);
      expect(b.y + b.h).toBeLessThanOrEqual(d.height);
    }
    for (const a of d.arrows) {
      for (const x of [a.x1, a.x2]) {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(d.width);
      }
      for (const y of [a.y1, a.y2]) {
        expect(y).toBeGreaterThanOrEqual(0);
        expect(y).toBeLessThanOrEqual(d.height);
      }
    }
  });

  it('gives every line of text room in its box, and no two boxes overlap', () => {
    for (const b of d.boxes) {
      for (const line of [b.title, ...b.lines]) expect(line.length * CHAR + PADDING, line).toBeLessThanOrEqual(b.w);
    }
    const overlap = (p: (typeof d.boxes)[0], q: (typeof d.boxes)[0]) =>
      p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h;
    d.boxes.forEach((p, i) =>
      d.boxes.slice(i + 1).forEach((q) => expect(overlap(p, q), `${p.title} / ${q.title}`).toBe(false)),
    );
  });

  it('has one block per diffusers module, in both paths', () => {
    const names = d.boxes.map((b) => b.lines[0]);
    const levels = config.block_out_channels.length;
    for (let i = 0; i < levels; i++) {
      expect(names).toContain(`down_blocks.${i}`);
      expect(names).toContain(`up_blocks.${i}`);
    }
    expect(names).toContain('mid_block');
  });
});
