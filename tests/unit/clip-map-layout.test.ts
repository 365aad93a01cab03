/**
 * The DALL-E 2 CLIP map's geometry (issue 15, item 9): on a phone the map must draw its emoji and
 * labels at sizes one can read, and its marker labels must stay inside the drawing, beside their
 * marks, clear of each other and of the marks.
 */
import { describe, expect, it } from 'vitest';
import {
  mapLayout,
  overlapArea,
  placeLabels,
  type Box,
  type LabelRequest,
} from '../../src/components/unclip-common/map-layout';

const inside = (b: Box, w: number, h: number) => b.x >= 0 && b.y >= 0 && b.x + b.width <= w && b.y + b.height <= h;
const markBox = ([x, y]: [number, number], r: number): Box => ({ x: x - r, y: y - r, width: 2 * r, height: 2 * r });

describe('CLIP map layout', () => {
  it('draws in pixels: a 300 px phone map keeps 13 px labels and 14 px emoji, and fills its width', () => {
    const phone = mapLayout(300, 1.04);
    expect(phone.compact).toBe(true);
    expect(phone.font).toBeGreaterThanOrEqual(13);
    expect(phone.icon).toBeGreaterThanOrEqual(14);
    // A square-ish cloud gets a square-ish drawing rather than a 640 x 400 letterbox.
    expect(phone.height).toBeGreaterThan(0.9 * phone.width);
    expect(phone.height).toBeLessThanOrEqual(1.1 * phone.width);
  });

  it('stays within a laptop screen at 1280 px and scales its emoji with the width', () => {
    const desktop = mapLayout(846, 1.04);
    expect(desktop.compact).toBe(false);
    expect(desktop.height).toBeLessThanOrEqual(560);
    expect(desktop.icon).toBeGreaterThan(mapLayout(300, 1.04).icon);
    expect(mapLayout(846, 0.3).height).toBeGreaterThanOrEqual(0.5 * 846);
  });

  it('puts a label right of its mark when there is room', () => {
    const [box] = placeLabels([{ anchor: [100, 100], width: 60, height: 16, gap: 12 }], 300, 300);
    expect(box.x).toBe(112);
    expect(box.y + box.height / 2).toBe(100);
    // Measured sizes are fractional: a rounding error must not count as cut off and send it left.
    const [measured] = placeLabels([{ anchor: [435.23, 164.12], width: 84.06, height: 18, gap: 14 }], 844, 560, [
      markBox([435.23, 164.12], 9),
    ]);
    expect(measured.x).toBeCloseTo(449.23, 6);
  });

  it('keeps labels inside the drawing when the mark is at its edge', () => {
    for (const anchor of [
      [295, 150],
      [5, 5],
      [150, 296],
      [296, 296],
    ] as [number, number][]) {
      const [box] = placeLabels([{ anchor, width: 120, height: 16, gap: 12 }], 300, 300, [markBox(anchor, 8)]);
      expect(inside(box, 300, 300)).toBe(true);
      expect(overlapArea(box, markBox(anchor, 8))).toBe(0);
    }
  });

  it('keeps two labels of marks almost on top of each other apart, and off both marks', () => {
    const anchors: [number, number][] = [
      [150, 150],
      [154, 152],
    ];
    const marks = anchors.map((a) => markBox(a, 8));
    const requests: LabelRequest[] = anchors.map((anchor) => ({ anchor, width: 110, height: 16, gap: 13 }));
    const [a, b] = placeLabels(requests, 300, 300, marks);
    expect(overlapArea(a, b)).toBe(0);
    for (const label of [a, b]) {
      expect(inside(label, 300, 300)).toBe(true);
      for (const mark of marks) expect(overlapArea(label, mark)).toBe(0);
    }
  });
});
