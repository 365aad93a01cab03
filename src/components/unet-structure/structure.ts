/**
 * The block structure of a diffusers UNet2DConditionModel, worked out from its config alone: which
 * blocks run at which resolution and width, where they have cross-attention, and how many skip
 * tensors each level hands from the down path to the up path. Pure: the figure draws what this returns.
 */

/** The config keys this needs, as diffusers and our manifest spell them. */
export interface UNetConfig {
  sample_size: number;
  in_channels: number;
  block_out_channels: number[];
  layers_per_block: number;
  down_block_types: string[];
  mid_block_type: string;
  up_block_types: string[];
  cross_attention_dim: number;
}

export interface UNetBlock {
  /** diffusers module name: "down_blocks.0", "mid_block", "up_blocks.1". */
  name: string;
  type: string;
  /** Side of the square feature map the block works on, in latent positions. */
  resolution: number;
  channels: number;
  resnets: number;
  /** Transformer2DModel layers (self- then cross-attention), one per resnet in CrossAttn blocks. */
  attentions: number;
  /** Halves (down) or doubles (up) the resolution at the end of the block. */
  resample: 'down' | 'up' | null;
  /** Down blocks: skip tensors saved; up blocks: skip tensors consumed (one per resnet). */
  skips: number;
  /** Depth in the U: 0 at full resolution. */
  level: number;
}

export interface UNetStructure {
  down: UNetBlock[];
  mid: UNetBlock;
  up: UNetBlock[];
  /** conv_in's output, saved as the first skip tensor at level 0. */
  convInSkips: 1;
  crossAttentionLayers: number;
}

const hasCrossAttention = (type: string) => type.includes('CrossAttn');

/**
 * Blocks of a UNet2DConditionModel as diffusers builds them: down block i works at
 * sample_size / 2^i with block_out_channels[i] and `layers_per_block` resnets, then downsamples
 * (all but the last); the mid block has two resnets around one attention; up block j mirrors down
 * block (n - 1 - j) with one resnet more, each concatenating one skip tensor, then upsamples.
 */
export function unetStructure(config: UNetConfig): UNetStructure {
  const channels = config.block_out_channels;
  const n = channels.length;
  if (config.down_block_types.length !== n || config.up_block_types.length !== n) {
    throw new Error(
      'unetStructure: down_block_types, up_block_types and block_out_channels must have one entry per level.',
    );
  }
  const resolution = (level: number) => config.sample_size / 2 ** level;
  const down = config.down_block_types.map((type, i): UNetBlock => {
    const last = i === n - 1;
    return {
      name: `down_blocks.${i}`,
      type,
      level: i,
      resolution: resolution(i),
      channels: channels[i],
      resnets: config.layers_per_block,
      attentions: hasCrossAttention(type) ? config.layers_per_block : 0,
      resample: last ? null : 'down',
      // every resnet's output, and the downsampler's output, is kept for the up path
      skips: config.layers_per_block + (last ? 0 : 1),
    };
  });
  const mid: UNetBlock = {
    name: 'mid_block',
    type: config.mid_block_type,
    level: n - 1,
    resolution: resolution(n - 1),
    channels: channels[n - 1],
    resnets: 2,
    attentions: hasCrossAttention(config.mid_block_type) ? 1 : 0,
    resample: null,
    skips: 0,
  };
  const up = config.up_block_types.map((type, j): UNetBlock => {
    const level = n - 1 - j;
    const resnets = config.layers_per_block + 1;
    return {
      name: `up_blocks.${j}`,
      type,
      level,
      resolution: resolution(level),
      channels: channels[level],
      resnets,
      attentions: hasCrossAttention(type) ? resnets : 0,
      resample: level === 0 ? null : 'up',
      skips: resnets,
    };
  });
  const crossAttentionLayers = [...down, mid, ...up].reduce((sum, b) => sum + b.attentions, 0);
  return { down, mid, up, convInSkips: 1, crossAttentionLayers };
}

/** Skip tensors passed across the U at one level: saved on the way down, consumed on the way up (equal). */
export function skipsAtLevel(structure: UNetStructure, level: number): number {
  const saved = structure.down
    .filter((b) => b.level === level)
    .reduce((sum, b) => sum + b.resnets, level === 0 ? structure.convInSkips : 0);
  // the downsampler of the level above saves its output at this level's resolution
  const fromAbove = structure.down.find((b) => b.level === level - 1)?.resample === 'down' ? 1 : 0;
  return saved + fromAbove;
}

/**
 * Stable Diffusion 1.5's UNet config (stable-diffusion-v1-5/stable-diffusion-v1-5, unet/config.json),
 * the keys this module reads; 860M parameters.
 */
export const SD15_UNET_CONFIG: UNetConfig = {
  sample_size: 64,
  in_channels: 4,
  block_out_channels: [320, 640, 1280, 1280],
  layers_per_block: 2,
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  mid_block_type: 'UNetMidBlock2DCrossAttn',
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  cross_attention_dim: 768,
};
