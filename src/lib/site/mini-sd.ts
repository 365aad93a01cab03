/**
 * Build-time facts about our mini Stable Diffusion UNet (`sd_unet`) and its pixel-space timing twin,
 * read from public/weights/manifest.json so that chapter prose and tables quote the shipped files.
 * Every field is optional: the manifest is rewritten while models train, and prose must still build.
 */
import type { Manifest } from '../runtime/manifest';
import { readManifest } from './models';

export interface UnetFacts {
  parameters?: number;
  /** Block widths, highest resolution first (diffusers' block_out_channels). */
  blockOutChannels?: number[];
  /** Transformer (cross-attention) blocks per down level, counted as the SDXL paper's Table 1 does. */
  transformerBlocks?: number[];
  /** [C, H, W] of what the UNet denoises. */
  sampleShape?: [number, number, number];
  /** Width and length of encoder_hidden_states. */
  contextDim?: number;
  contextLength?: number;
  /** Width of the pooled text embedding added to the timestep embedding. */
  textEmbedsDim?: number;
  flopsPerSample?: number;
}

export interface MiniSdFacts {
  unet: UnetFacts;
  twin: UnetFacts | null;
  /** Side of the pictures the VAE decodes to (latent side x downsampling factor). */
  imageSize?: number;
  /** `metrics.micro_conditioning.high_frequency_energy`, keyed by original size. */
  detailByOriginalSize?: Record<number, number>;
  /** Whether the manifest still describes a model in training. */
  inProgress: boolean;
}

// Metrics are free-form JSON that each training recipe defines; these modules read them defensively.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped manifest JSON, read with optional chaining
type Loose = Record<string, any>;

function unetFacts(entry: Loose | undefined): UnetFacts | null {
  if (!entry) return null;
  const config = (entry.config ?? {}) as Loose;
  const sample = (entry.inputs as Loose[] | undefined)?.find((i) => i.name === 'sample')?.shape;
  const layers = typeof config.layers_per_block === 'number' ? config.layers_per_block : undefined;
  const types = config.down_block_types as string[] | undefined;
  return {
    parameters: typeof entry.parameters === 'number' ? entry.parameters : undefined,
    blockOutChannels: config.block_out_channels,
    transformerBlocks:
      types && layers !== undefined ? types.map((t) => (t.startsWith('CrossAttn') ? layers : 0)) : undefined,
    sampleShape:
      Array.isArray(sample) && sample.length === 4 ? (sample.slice(1) as [number, number, number]) : undefined,
    contextDim: config.cross_attention_dim,
    contextLength: config.text_context_length,
    textEmbedsDim: config.text_embeds_dim,
    flopsPerSample: typeof entry.flops_per_sample === 'number' ? entry.flops_per_sample : undefined,
  };
}

export function miniSdFacts(manifest: Manifest = readManifest()): MiniSdFacts | null {
  const models = manifest.models as Record<string, Loose>;
  const unet = unetFacts(models.sd_unet);
  if (!unet) return null;
  const factor = models.vae_encoder?.downsampling_factor;
  const energy = models.sd_unet.metrics?.micro_conditioning?.high_frequency_energy as
    Record<string, number> | undefined;
  const detail = energy
    ? Object.fromEntries(
        Object.entries(energy)
          .map(([key, value]) => [Number(key.replace('original_size_', '')), value] as const)
          .filter(([size, value]) => Number.isFinite(size) && typeof value === 'number'),
      )
    : undefined;
  return {
    unet,
    twin: unetFacts(models.sd_unet_pixel_twin),
    imageSize: unet.sampleShape && typeof factor === 'number' ? unet.sampleShape[2] * factor : undefined,
    detailByOriginalSize: detail && Object.keys(detail).length ? detail : undefined,
    inProgress: Boolean(models.sd_unet.training?.in_progress),
  };
}

/** 2361828 -> "2.4M", 53531136 -> "54M": the rounding prose uses. */
export function compact(n: number | undefined, unit = ''): string {
  if (n === undefined) return '—';
  const [value, suffix] = n >= 1e9 ? [n / 1e9, 'G'] : n >= 1e6 ? [n / 1e6, 'M'] : n >= 1e3 ? [n / 1e3, 'k'] : [n, ''];
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(1)}${suffix}${unit}`;
}
