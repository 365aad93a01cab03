/** The VAE figure's latent drawing: one heatmap per channel of a [1, C, H, W] latent, on one colour scale. */
import * as Plot from '@observablehq/plot';
import type { Tensor } from '../../lib/diffusion/index';
import { maxAbs } from '../../lib/image/index';
import { figurePlot } from '../shared/chart';

interface LatentCell {
  channel: string;
  x: number;
  y: number;
  value: number;
}

/** The latent's values as cells, channel by channel, row by row. */
function cells(latent: Tensor): LatentCell[] {
  const [, channels, height, width] = latent.shape;
  const out: LatentCell[] = [];
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        out.push({ channel: `channel ${c + 1}`, x, y, value: latent.data[(c * height + y) * width + x] });
      }
    }
  }
  return out;
}

/**
 * C small heatmaps side by side on one symmetric, diverging scale (blue negative, red positive), so
 * that channels can be compared; `fg` is the resolved text colour. Returns the chart and its text alternative.
 */
export function latentHeatmap(latent: Tensor, width: number, fg: string): { chart: Element; label: string } {
  const limit = maxAbs(latent.data);
  const data = cells(latent);
  const chart = figurePlot(fg, {
    width,
    height: 170,
    marginLeft: 0,
    marginTop: 24,
    marginBottom: 4,
    x: { axis: null },
    y: { axis: null, reverse: false },
    fx: { label: null, padding: 0.08, axis: 'top' },
    color: {
      type: 'diverging',
      scheme: 'RdBu',
      pivot: 0,
      domain: [-limit, limit],
      reverse: true,
      legend: true,
      label: 'latent value',
    },
    marks: [
      Plot.cell(data, { x: 'x', y: 'y', fx: 'channel', fill: 'value', inset: 0 }),
      Plot.tip(
        data,
        Plot.pointer({
          x: 'x',
          y: 'y',
          fx: 'channel',
          title: (d: LatentCell) => `${d.channel}, (${d.x}, ${d.y}): ${d.value.toFixed(3)}`,
        }),
      ),
    ],
  });
  const [, channels, height, w] = latent.shape;
  const label = `The ${channels} latent channels, ${height} by ${w} each, as heatmaps; values range from ${(-limit).toFixed(2)} to ${limit.toFixed(2)}.`;
  return { chart, label };
}
