/**
 * Build-time facts about the pixel cascade (`cascade_base`, `cascade_sr`) and its frozen text encoder
 * (`clip_text`), read from public/weights/manifest.json so that the Imagen chapter quotes the shipped
 * files. Every field may be missing while a model is still training or exporting; prose shows a dash.
 */
import type { Manifest } from '../runtime/manifest';
import { readManifest } from './models';

// Metrics are free-form JSON that each training recipe defines; these modules read them defensively.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped manifest JSON, read with optional chaining
type Loose = Record<string, any>;
const number = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export interface Retrieval {
  top1?: number;
  top5?: number;
  prompts?: number;
}

export interface CascadeFacts {
  textEncoder: { parameters?: number; bytes?: number; contextLength?: number; width?: number };
  base: {
    parameters?: number;
    bytes?: number;
    size?: number;
    guidanceScale?: number;
    /** Held-out retrieval by x0 treatment and guidance scale: { static_clipping: { 5: {...} }, ... }. */
    heldOut: Record<'static_clipping' | 'dynamic_thresholding', Record<number, Retrieval>>;
    real16?: Retrieval;
    real32?: Retrieval;
    dynamicRatio?: number;
    dynamicMaxValue?: number;
  };
  superRes: {
    parameters?: number;
    bytes?: number;
    noiseLevel?: number;
    /** PSNR (dB) against the real 32 px images. */
    psnr: {
      bicubic?: number;
      bilinear?: number;
      sample?: number;
      meanOfSamples?: number;
      byLevel: Record<number, number>;
    };
    meanOf?: number;
    images?: number;
    /** Every x0 projected onto the input's 2x2 means (DDNM): one sample's PSNR, worst of the seeds, share above bicubic. */
    consistent: {
      sample?: number;
      worstSeed?: number;
      meanOfSamples?: number;
      aboveBicubic?: number;
      plainAboveBicubic?: number;
    };
    /** Mean squared Laplacian: the fine detail of real images, bicubic upsampling and one SR sample. */
    detail: { real?: number; bicubic?: number; superResolution?: number };
    /** Full-cascade retrieval: the base sample bilinearly upsampled, then SR at each level. */
    cascade: { bilinear?: Retrieval; byLevel: Record<number, Retrieval> };
  } | null;
}

function byPrefix<T>(record: Loose | undefined, prefix: string, pick: (v: Loose) => T | undefined): Record<number, T> {
  return Object.fromEntries(
    Object.entries(record ?? {})
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [Number(key.slice(prefix.length)), pick(value)] as const)
      .filter(([k, v]) => Number.isFinite(k) && v !== undefined),
  ) as Record<number, T>;
}

export function cascadeFacts(manifest: Manifest = readManifest()): CascadeFacts {
  const models = manifest.models as Record<string, Loose>;
  const clip = models.clip_text;
  const base = models.cascade_base;
  const sr = models.cascade_sr;
  const held = base?.metrics?.held_out as Loose | undefined;
  const retrieval = (v: Loose) => (v && typeof v === 'object' ? (v as Retrieval) : undefined);
  const srMetrics = sr?.metrics as Loose | undefined;
  return {
    textEncoder: {
      parameters: number(clip?.parameters),
      bytes: number(clip?.bytes),
      contextLength: manifest.models.clip_text?.tokenizer?.context_length,
      width: number(base?.config?.cross_attention_dim),
    },
    base: {
      parameters: number(base?.parameters),
      bytes: number(base?.bytes),
      size: number(base?.config?.sample_size),
      guidanceScale: manifest.models.cascade_base?.recommended_sampling?.guidance_scale,
      heldOut: {
        static_clipping: byPrefix(held?.static_clipping, 'guidance_', retrieval),
        dynamic_thresholding: byPrefix(held?.dynamic_thresholding, 'guidance_', retrieval),
      },
      real16: retrieval(held?.real_16px),
      real32: retrieval(held?.real_32px),
      dynamicRatio: number(base?.metrics?.sampling?.dynamic_thresholding_ratio),
      dynamicMaxValue: number(base?.metrics?.sampling?.sample_max_value),
    },
    superRes: sr
      ? {
          parameters: number(sr.parameters),
          bytes: number(sr.bytes),
          noiseLevel: manifest.models.cascade_sr?.recommended_sampling?.noise_level,
          psnr: {
            bicubic: number(srMetrics?.bicubic?.psnr),
            bilinear: number(srMetrics?.bilinear?.psnr),
            sample: number(srMetrics?.noise_level_0?.psnr),
            meanOfSamples: number(Object.entries(srMetrics ?? {}).find(([k]) => k.startsWith('mean_of_'))?.[1]?.psnr),
            byLevel: byPrefix(srMetrics, 'noise_level_', (v) => number(v?.psnr)),
          },
          meanOf: number(
            Number(
              Object.keys(srMetrics ?? {})
                .find((k) => k.startsWith('mean_of_'))
                ?.split('_')[2],
            ),
          ),
          images: number(srMetrics?.images),
          consistent: {
            sample: number(srMetrics?.noise_level_0_consistent?.psnr),
            worstSeed: number(srMetrics?.consistent_single_samples?.worst_seed_psnr),
            meanOfSamples: number(srMetrics?.consistent_single_samples?.mean_of_samples_psnr),
            aboveBicubic: number(srMetrics?.noise_level_0_consistent?.images_above_bicubic),
            plainAboveBicubic: number(srMetrics?.noise_level_0?.images_above_bicubic),
          },
          detail: {
            real: number(srMetrics?.high_frequency_energy?.real_32px),
            bicubic: number(srMetrics?.high_frequency_energy?.bicubic),
            superResolution: number(srMetrics?.high_frequency_energy?.super_resolution),
          },
          cascade: {
            bilinear: retrieval(srMetrics?.cascade?.base_16px_bilinear),
            byLevel: byPrefix(srMetrics?.cascade, 'noise_level_', retrieval),
          },
        }
      : null,
  };
}
