/**
 * Browser side of the micro-conditioning figure: the mini SD models (shared with the Stable Diffusion
 * figures) plus SDXL's target size, time_ids formatted as fed, and the detail chart.
 */
import * as Plot from '@observablehq/plot';
import type { TextToImageModels } from '../../lib/pipelines/text-to-image';
import { getRuntime, recommendedSamplingOf, type ModelEntry } from '../../lib/runtime/index';
import { figurePlot } from '../shared/chart';
import type { LoadedModels } from '../shared/model-status';
import { SD_MODEL_IDS, textToImageModels as sdModels } from '../text-to-image/models';

/** Original sizes (s, s) the size row asks for: training saw 8..28 and the unaugmented 32. */
export const ORIGINAL_SIZES = [8, 12, 16, 24, 32] as const;
/** Crop top-left corners the crop row asks for: training crops began anywhere in 0..8. */
export const CROPS: readonly [number, number][] = [
  [0, 0],
  [4, 4],
  [8, 8],
  [0, 8],
];

/** The sliders of the free-choice part: the ranges the training augmentation covered (sizes 8..32, crops 0..8). */
export const SLIDERS = [
  { name: 'originalSize', label: 'Original size', min: 8, max: 32, value: 32 },
  { name: 'cropTop', label: 'Crop top', min: 0, max: 8, value: 0 },
  { name: 'cropLeft', label: 'Crop left', min: 0, max: 8, value: 0 },
] as const;

/** Pause after the last slider movement before rendering, so a drag renders once rather than per pixel. */
export const SLIDER_DEBOUNCE_MS = 250;

export const MODELS = SD_MODEL_IDS;

export interface MicroConditioningModels {
  models: TextToImageModels;
  /** SDXL's target_size: the picture size the decoder produces, (32, 32) here. */
  targetSize: [number, number];
  /** The guidance scale the model was evaluated at (manifest `recommended_sampling`). */
  guidanceScale: number;
}

/** The Stable Diffusion figures' models, plus what micro-conditioning needs: target size and guidance. */
export async function microConditioningModels(loaded: LoadedModels): Promise<MicroConditioningModels> {
  const models = await sdModels(loaded);
  const { runtime } = await getRuntime();
  const factor = (await runtime.entry('vae_encoder')).downsampling_factor;
  const side = models.latentShape[1] * (typeof factor === 'number' ? factor : 4);
  const { guidance_scale: guidanceScale } = recommendedSamplingOf('sd_unet', loaded.sd_unet.entry);
  return { models, targetSize: [side, side], guidanceScale };
}

/** time_ids rows as a right-aligned matrix, the way a reader would print the tensor. */
export function formatTimeIds(rows: number[][], batch: number): string {
  const width = Math.max(...rows.flat().map((v) => String(v).length));
  const body = rows.map((r, i) => `${i === 0 ? '[[' : ' ['}${r.map((v) => String(v).padStart(width)).join(', ')}]`);
  return `${body.join(',\n')}]\n# shape [${rows.length}, 6], sent twice\n# for guidance: [${batch}, 6]`;
}

export interface DetailPoint {
  originalSize: number;
  detail: number;
}

/**
 * The detail the training script measured per original size, as the mean over 64 prompts (manifest
 * `metrics.micro_conditioning.high_frequency_energy`, keys "original_size_<s>"); none when absent.
 */
export function referenceDetail(entry: ModelEntry): DetailPoint[] {
  const metrics = entry.metrics as
    { micro_conditioning?: { high_frequency_energy?: Record<string, unknown> } } | undefined;
  return Object.entries(metrics?.micro_conditioning?.high_frequency_energy ?? {})
    .map(([key, detail]) => ({ originalSize: Number(key.replace('original_size_', '')), detail }))
    .filter((p): p is DetailPoint => Number.isFinite(p.originalSize) && typeof p.detail === 'number');
}

export const SERIES = ['this prompt and seed', 'mean of 64 prompts (manifest)'] as const;

/**
 * Detail (mean squared Laplacian) against original size: the reader's run as a line of filled dots,
 * the manifest's training-time measurement as hollow dots. `colors` are resolved CSS colours.
 */
export function detailChart(
  run: DetailPoint[],
  reference: DetailPoint[],
  width: number,
  colors: { fg: string; series: [string, string] },
): SVGSVGElement | HTMLElement {
  const title = (series: string) => (p: DetailPoint) =>
    `${series}\noriginal_size (${p.originalSize}, ${p.originalSize}): detail ${p.detail.toFixed(4)}`;
  return figurePlot(colors.fg, {
    width,
    height: 200,
    marginLeft: 52,
    marginRight: 16,
    x: { label: 'original_size (s, s) →', ticks: [...ORIGINAL_SIZES], domain: [6, 34] },
    y: { label: '↑ detail', grid: true, zero: false, nice: true, tickFormat: '.3f' },
    color: { legend: true, domain: [...SERIES], range: colors.series },
    marks: [
      Plot.line(run, { x: 'originalSize', y: 'detail', stroke: colors.series[0] }),
      Plot.dot(run, {
        x: 'originalSize',
        y: 'detail',
        fill: colors.series[0],
        r: 4,
        title: title(SERIES[0]),
        tip: true,
      }),
      Plot.dot(reference, {
        x: 'originalSize',
        y: 'detail',
        stroke: colors.series[1],
        strokeWidth: 2,
        r: 5,
        title: title(SERIES[1]),
        tip: true,
      }),
    ],
  });
}
