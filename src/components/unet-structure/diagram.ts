/**
 * The layout of the UNet block diagram (UnetStructure.astro): a U of boxes drawn from a config, down
 * blocks on the left going down, the mid block at the bottom, up blocks on the right going up, and
 * the skip connections across. Pure: coordinates in SVG user units, no DOM.
 *
 * Sized for the narrowest box it is drawn in: a 375 px phone leaves the drawing about 300 px, so the
 * whole U is 328 units wide and each block's text is cut into short lines (module, size, contents)
 * at 10 units, monospace at up to 6.4 units a character: it scales down to ~9 px text there, and
 * never needs a scroll bar or clips a label.
 */
import { skipsAtLevel, unetStructure, type UNetBlock, type UNetConfig } from './structure';

export interface DiagramBox {
  x: number;
  y: number;
  w: number;
  h: number;
  /** The diffusers class ("CrossAttnDownBlock2D"). */
  title: string;
  /** Module name, then resolution and width, then what it holds. */
  lines: string[];
  attention: boolean;
}

export interface DiagramArrow {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  label?: string;
  /** Skip connections are dashed, with their label above the line. */
  skip?: boolean;
}

export interface Diagram {
  width: number;
  height: number;
  boxes: DiagramBox[];
  arrows: DiagramArrow[];
}

/** Width of the drawing: two columns of blocks and the gap the skip arrows cross. */
export const DIAGRAM_WIDTH = 328;
const MARGIN = 4;
/** Fits "CrossAttnDownBlock2D" (20 monospace characters) and the padding either side. */
const BOX_W = 140;
/** The mid block sits alone in its row and holds the longest name, "UNetMidBlock2DCrossAttn". */
const MID_W = 162;
/** A title and three lines of text. */
const BOX_H = 64;
const IO_H = 36;
/** Room between rows for the "↓ ½" and "↑ 2×" arrows. */
const ROW_H = BOX_H + 28;
const TOP = IO_H + 26;

/** The three lines under a block's title. */
function describe(b: UNetBlock): string[] {
  return [
    b.name,
    `${b.resolution}×${b.resolution} · ${b.channels} ch`,
    `${b.resnets} res${b.attentions ? ` + ${b.attentions} attn` : ''}`,
  ];
}

const blockBox = (b: UNetBlock, x: number, y: number, w = BOX_W): DiagramBox => ({
  x,
  y,
  w,
  h: BOX_H,
  title: b.type,
  lines: describe(b),
  attention: b.attentions > 0,
});

/** The U for one UNet config (diffusers UNet2DConditionModel keys). */
export function unetDiagram(c: UNetConfig): Diagram {
  const s = unetStructure(c);
  const levels = c.block_out_channels.length;
  const leftX = MARGIN;
  const rightX = DIAGRAM_WIDTH - MARGIN - BOX_W;
  const leftMid = leftX + BOX_W / 2;
  const rightMid = rightX + BOX_W / 2;
  const y = (level: number) => TOP + level * ROW_H;
  const io = (x: number, title: string, line: string): DiagramBox => ({
    x,
    y: MARGIN,
    w: BOX_W,
    h: IO_H,
    title,
    lines: [line],
    attention: false,
  });
  const [first] = c.block_out_channels;
  const boxes: DiagramBox[] = [
    io(leftX, 'conv_in', `${c.in_channels} → ${first} ch`),
    io(rightX, 'conv_out', `${first} → ${c.in_channels} ch`),
    ...s.down.map((b) => blockBox(b, leftX, y(b.level))),
    ...s.up.map((b) => blockBox(b, rightX, y(b.level))),
  ];
  const arrows: DiagramArrow[] = [
    { x1: leftMid, y1: MARGIN + IO_H, x2: leftMid, y2: y(0) },
    { x1: rightMid, y1: y(0), x2: rightMid, y2: MARGIN + IO_H },
  ];
  for (let level = 0; level < levels; level++) {
    const bottom = y(level) + BOX_H;
    if (level < levels - 1) {
      arrows.push({ x1: leftMid, y1: bottom, x2: leftMid, y2: y(level + 1), label: '↓ ½' });
      arrows.push({ x1: rightMid, y1: y(level + 1), x2: rightMid, y2: bottom, label: '↑ 2×' });
    }
    const middle = y(level) + BOX_H / 2;
    const skips = skipsAtLevel(s, level);
    arrows.push({ x1: leftX + BOX_W, y1: middle, x2: rightX, y2: middle, label: `${skips} skips`, skip: true });
  }
  const midY = y(levels - 1) + ROW_H;
  const midX = (DIAGRAM_WIDTH - MID_W) / 2;
  boxes.push(blockBox(s.mid, midX, midY, MID_W));
  const deepest = y(levels - 1) + BOX_H;
  arrows.push({ x1: leftMid, y1: deepest, x2: midX + 24, y2: midY });
  arrows.push({ x1: midX + MID_W - 24, y1: midY, x2: rightMid, y2: deepest });
  return { width: DIAGRAM_WIDTH, height: midY + BOX_H + MARGIN, boxes, arrows };
}

/** The diagram's text alternative: every box with its lines. */
export function diagramLabel(title: string, d: Diagram): string {
  return `Block diagram of ${title}: ${d.boxes.map((b) => `${b.title}, ${b.lines.join(', ')}`).join('; ')}`;
}
