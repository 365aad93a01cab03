/**
 * What the Stable Diffusion figures share: the three networks of our mini SD, its tokenizer
 * (downloaded and checked against the manifest like the weights), and the prompts we suggest.
 */
import type { TextToImageModels } from '../../lib/pipelines/text-to-image';
import { WordTokenizer, type TokenizerConfig } from '../../lib/pipelines/tokenizer';
import { getRuntime, type TrainedSchedulerConfig } from '../../lib/runtime/index';
import type { LoadedModels } from '../shared/model-status';

/** Text encoder, denoiser, decoder: StableDiffusionPipeline's text_encoder, unet and vae (decoder half). */
export const SD_MODEL_IDS = ['clip_text', 'sd_unet', 'vae_decoder'];

let tokenizer: Promise<WordTokenizer> | null = null;

/** The tiny CLIP's tokenizer, fetched once per page (then from the weight cache); a failure can be retried. */
export function loadTokenizer(): Promise<WordTokenizer> {
  tokenizer ??= (async () => {
    const { runtime } = await getRuntime();
    const entry = await runtime.entry('clip_text');
    const file = entry.tokenizer;
    if (!file) throw new Error('the manifest names no tokenizer for clip_text');
    return new WordTokenizer(await runtime.loadJson<TokenizerConfig>(file));
  })().catch((error) => {
    tokenizer = null;
    throw error;
  });
  return tokenizer;
}

/** The pipeline's inputs from loaded models and their manifest entries, with `unetId` as the denoiser. */
export async function textToImageModels(models: LoadedModels, unetId = 'sd_unet'): Promise<TextToImageModels> {
  const unet = models[unetId];
  if (!unet) throw new Error(`the figure did not load ${unetId}`);
  const vae = models.vae_decoder;
  const [, c, h, w] = unet.entry.inputs.find((i) => i.name === 'sample')!.shape as [string, number, number, number];
  return {
    tokenizer: await loadTokenizer(),
    textEncoder: models.clip_text,
    unet,
    vaeDecoder: vae,
    scheduler: unet.entry.scheduler as TrainedSchedulerConfig,
    scalingFactor: vae.entry.scaling_factor ?? 1,
    latentShape: [c, h, w],
    addedConditions: unet.entry.inputs.some((i) => i.name === 'time_ids'),
  };
}
