/**
 * The CLIP map's geometry, kept pure so that it can be tested: how big the drawing and its marks
 * are at a given width, and where the marker labels (the prompt's, the prior's) go: beside their
 * marks, inside the drawing, clear of each other and of the other marks. All in CSS pixels.
 */

/** The drawing at one width. Sizes are CSS pixels, so that a phone shows marks and text as large as a desktop does. */
export interface MapLayout {
  /** A phone's map: fainter caption links, so that 156 of them do not grey it over. */
  compact: boolean;
  width: number;
  height: number;
  /** Blank border, so that the outermost emoji are whole. */
  pad: number;
  /** Emoji tile size. */
  icon: number;
  /** Label font size. */
  font: number;
  /** Radius of the prompt and prior marks. */
  mark: number;
  /** The widest a label may be before it is shortened. */
  labelMax: number;
}

/** Below this width the map draws for a phone: smaller tiles, so that 156 of them stay apart. */
const COMPACT_WIDTH = 480;
/** A desktop map taller than this would not fit a laptop screen beside its controls. */
const MAX_HEIGHT = 560;

/** Sizes for a drawing `width` px wide whose points span `aspect` (height / width of their bounds). */
export function mapLayout(width: number, aspect: number): MapLayout {
  const compact = width < COMPACT_WIDTH;
  const icon = compact ? 14 : Math.max(16, Math.min(22, Math.round(width / 36)));
  const pad = icon / 2 + 4;
  // Tall enough for the points to fill the width (the cloud is about square), within limits.
  const fill = (width - 2 * pad) * (Number.isFinite(aspect) && aspect > 0 ? aspect : 0.6) + 2 * pad;
  const height = Math.round(Math.min(MAX_HEIGHT, 1.1 * width, Math.max(0.5 * width, fill)));
  return {
    compact,
    width,
    height,
    pad,
    icon,
    font: compact ? 13 : 15,
    mark: compact ? 8 : 9,
    labelMax: Math.round(0.55 * width),
  };
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LabelRequest {
  /** The mark the label belongs to, [x, y]. */
  anchor: [number, number];
  /** The label's measured size. */
  width: number;
  height: number;
  /** Distance from the anchor to the nearest edge of the label (the mark's radius and a little air). */
  gap: number;
}

/** Space kept between a label and anything else, in pixels. */
const MARGIN = 2;

/** The area two boxes share, each grown by MARGIN on every side. */
export function overlapArea(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x) + 2 * MARGIN;
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y) + 2 * MARGIN;
  return w > 0 && h > 0 ? w * h : 0;
}

/** The part of a box that lies outside [0, width] x [0, height] (exactly 0 inside: no rounding may count). */
function outsideArea(box: Box, width: number, height: number): number {
  if (box.x >= 0 && box.y >= 0 && box.x + box.width <= width && box.y + box.height <= height) return 0;
  const w = Math.max(0, Math.min(box.x + box.width, width) - Math.max(box.x, 0));
  const h = Math.max(0, Math.min(box.y + box.height, height) - Math.max(box.y, 0));
  return box.width * box.height - w * h;
}

/** Right, left, above, below, then the four corners: the order a reader looks for a label. */
function candidates({ anchor: [x, y], width: w, height: h, gap }: LabelRequest): Box[] {
  // Corners sit diagonally off the mark's square, not on its circle.
  const d = gap;
  return [
    { x: x + gap, y: y - h / 2, width: w, height: h },
    { x: x - gap - w, y: y - h / 2, width: w, height: h },
    { x: x - w / 2, y: y - gap - h, width: w, height: h },
    { x: x - w / 2, y: y + gap, width: w, height: h },
    { x: x + d, y: y - d - h, width: w, height: h },
    { x: x - d - w, y: y - d - h, width: w, height: h },
    { x: x + d, y: y + d, width: w, height: h },
    { x: x - d - w, y: y + d, width: w, height: h },
  ];
}

/** Moves a box the least distance that puts it inside the drawing (when it fits at all). */
function clampInto(box: Box, width: number, height: number): Box {
  return {
    ...box,
    x: Math.max(0, Math.min(width - box.width, box.x)),
    y: Math.max(0, Math.min(height - box.height, box.y)),
  };
}

/**
 * Places the labels in order: each takes the first candidate position that lies inside the
 * drawing and overlaps nothing placed before it and none of `obstacles` (the marks); failing that,
 * the candidate that overlaps least, pushed inside the drawing.
 */
export function placeLabels(
  requests: readonly LabelRequest[],
  width: number,
  height: number,
  obstacles: readonly Box[] = [],
): Box[] {
  const placed: Box[] = [];
  for (const request of requests) {
    let best: Box | null = null;
    let bestCost = Infinity;
    for (const box of candidates(request)) {
      const blocked = [...obstacles, ...placed].reduce((sum, other) => sum + overlapArea(box, other), 0);
      // Anything outside the drawing is cut off: worse than covering a mark.
      const cost = blocked + 10 * outsideArea(box, width, height);
      if (cost < bestCost) [best, bestCost] = [box, cost];
      if (cost === 0) break;
    }
    placed.push(clampInto(best!, width, height));
  }
  return placed;
}
