/**
 * How much arithmetic one DiT forward pass costs, counted the way the DiT paper counts it
 * (Peebles & Xie 2023, table 1 and fig. 2, via fvcore): the multiply-adds of every linear layer and
 * of the two attention matrix products, one multiply-add = one FLOP. Norms, softmax, GELU and the
 * other element-wise operations are left out, as they are in the paper. Pure: no DOM, no fetch.
 */

/** The DiT constructor arguments that decide the cost (facebookresearch/DiT `DiT.__init__`). */
export interface DitSizeConfig {
  /** Latent side I: 32 for 256 x 256 images with SD's f = 8 VAE, 8 for our 32 px emoji (f = 4). */
  inputSize: number;
  /** Patch side p: T = (I / p)^2 tokens. */
  patchSize: number;
  /** Latent channels C (4). */
  inChannels: number;
  /** Token width D. */
  hiddenSize: number;
  /** Number of DiT blocks N. */
  depth: number;
  /** MLP hidden width = mlpRatio * D (4, as in ViT). */
  mlpRatio: number;
  /** Channels the final layer predicts per latent pixel: 2C with learn_sigma (noise and variance), else C. */
  outChannels: number;
  /** Width of the sinusoidal timestep features fed to the timestep MLP (256). */
  frequencyEmbeddingSize: number;
}

/** Multiply-adds per part of the network, for one sample. */
export interface DitMacs {
  /** T = (I / p)^2. */
  tokens: number;
  /** Patch embedding: one linear map of p*p*C values to D per token. */
  patchEmbed: number;
  /** Timestep MLP (256 -> D -> D); the class embedding is a table lookup and costs nothing. */
  conditioning: number;
  /** All blocks' adaLN-Zero regressions c -> 6D (once per sample, not per token). */
  adaLN: number;
  /** All blocks' q, k, v and output projections: 4 T D^2 each. */
  attentionProjections: number;
  /** All blocks' Q K^T and softmax(.) V products: 2 T^2 D each. */
  attentionMatrices: number;
  /** All blocks' pointwise MLPs: 2 T D (mlpRatio D) each. */
  mlp: number;
  /** Final layer: its adaLN (D -> 2D) and the linear map to p*p*outChannels per token. */
  finalLayer: number;
  total: number;
}

/** Multiply-adds of one DiT forward pass at batch 1. Throws when the latent does not split into p x p patches. */
export function ditMacs(config: DitSizeConfig): DitMacs {
  const { inputSize, patchSize: p, inChannels, hiddenSize: d, depth, mlpRatio, outChannels } = config;
  if (inputSize % p !== 0) {
    throw new Error(`ditMacs: a ${inputSize} x ${inputSize} latent does not split into ${p} x ${p} patches.`);
  }
  const tokens = (inputSize / p) ** 2;
  const patchEmbed = tokens * p * p * inChannels * d;
  const conditioning = config.frequencyEmbeddingSize * d + d * d;
  const adaLN = depth * d * 6 * d;
  const attentionProjections = depth * 4 * tokens * d * d;
  const attentionMatrices = depth * 2 * tokens * tokens * d;
  const mlp = depth * 2 * tokens * d * Math.round(mlpRatio * d);
  const finalLayer = d * 2 * d + tokens * d * p * p * outChannels;
  const total = patchEmbed + conditioning + adaLN + attentionProjections + attentionMatrices + mlp + finalLayer;
  return { tokens, patchEmbed, conditioning, adaLN, attentionProjections, attentionMatrices, mlp, finalLayer, total };
}

/** The manifest's `config` (DiT's snake_case names) as a DitSizeConfig; null when a field is missing. */
export function ditSizeConfigFromManifest(config: Record<string, unknown> | undefined): DitSizeConfig | null {
  if (!config) return null;
  const n = (key: string) => (typeof config[key] === 'number' ? (config[key] as number) : NaN);
  const inChannels = n('in_channels');
  const out =
    typeof config.out_channels === 'number' ? config.out_channels : config.learn_sigma ? 2 * inChannels : inChannels;
  const result: DitSizeConfig = {
    inputSize: n('input_size'),
    patchSize: n('patch_size'),
    inChannels,
    hiddenSize: n('hidden_size'),
    depth: n('depth'),
    mlpRatio: n('mlp_ratio'),
    outChannels: out,
    frequencyEmbeddingSize: typeof config.frequency_embedding_size === 'number' ? config.frequency_embedding_size : 256,
  };
  return Object.values(result).every(Number.isFinite) ? result : null;
}
