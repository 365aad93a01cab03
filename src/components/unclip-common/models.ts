/**
 * What the DALL-E 2 figures share: the held-out emoji of public/samples/emoji-validation.* (made by
 * scripts/make_samples.py), the unCLIP stages built from loaded models and their manifest entries,
 * and the CLIP-space map, computed once per page and reused by every figure that draws it.
 */
import {
  concatBatch,
  fitPca2,
  l2Normalize,
  projectPca2,
  sliceBatch,
  type Pca2,
  type Tensor,
} from '../../lib/diffusion/index';
import { rgbaToTensor } from '../../lib/image/index';
import { embedImages, encodeText, type DecoderModels, type UnclipStage } from '../../lib/pipelines/unclip';
import { recommendedSamplingOf, type TrainedSchedulerConfig } from '../../lib/runtime/index';
import { ImageLoadError } from '../shared/load-image';
import type { LoadedModels } from '../shared/model-status';
import { loadTokenizer } from '../text-to-image/models';

export { loadTokenizer };

export interface ValidationEmoji {
  caption: string;
  category: number;
  vendor: number;
}

export interface EmojiSet {
  emoji: ValidationEmoji[];
  categoryNames: string[];
  /** [N, 3, 32, 32] in [-1, 1], as the tiny CLIP and the VAE saw their training images. */
  pixels: Tensor;
  /** One PNG data URL per emoji, for <img> and SVG <image>. */
  urls: string[];
}

interface SpriteIndex {
  tile: number;
  columns: number;
  category_names: string[];
  emoji: ValidationEmoji[];
}

let emojiSet: Promise<EmojiSet> | null = null;

/** The held-out emoji, cut from their sprite once per page; a failure can be retried. */
export function loadValidationEmoji(): Promise<EmojiSet> {
  emojiSet ??= (async () => {
    const base = `${import.meta.env.BASE_URL}samples/`;
    const [indexResponse, spriteResponse] = await Promise.all([
      fetch(`${base}emoji-validation.json`),
      fetch(`${base}emoji-validation.png`),
    ]);
    if (!indexResponse.ok || !spriteResponse.ok) {
      throw new ImageLoadError(
        `Could not load the held-out emoji (HTTP ${indexResponse.status}/${spriteResponse.status}).`,
      );
    }
    const index = (await indexResponse.json()) as SpriteIndex;
    // No colour management: the tiles must reach the models with the bytes they were trained on.
    const sprite = await createImageBitmap(await spriteResponse.blob(), { colorSpaceConversion: 'none' });
    const canvas = document.createElement('canvas');
    canvas.width = sprite.width;
    canvas.height = sprite.height;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(sprite, 0, 0);
    sprite.close();
    const t = index.tile;
    const tileCanvas = document.createElement('canvas');
    tileCanvas.width = t;
    tileCanvas.height = t;
    const tileCtx = tileCanvas.getContext('2d')!;
    const tensors: Tensor[] = [];
    const urls: string[] = [];
    index.emoji.forEach((_, k) => {
      const x = (k % index.columns) * t;
      const y = Math.floor(k / index.columns) * t;
      const pixels = ctx.getImageData(x, y, t, t);
      tensors.push(rgbaToTensor(pixels.data, t, t)); // [1, 3, t, t]
      tileCtx.putImageData(pixels, 0, 0);
      urls.push(tileCanvas.toDataURL());
    });
    return { emoji: index.emoji, categoryNames: index.category_names, pixels: concatBatch(tensors), urls };
  })().catch((error) => {
    emojiSet = null;
    throw error;
  });
  return emojiSet;
}

function stage(models: LoadedModels, id: string): UnclipStage {
  const model = models[id];
  return {
    model,
    scheduler: model.entry.scheduler as TrainedSchedulerConfig,
    sampling: recommendedSamplingOf(id, model.entry),
  };
}

/** The prior with its trained schedule and recommended sampling, from the manifest. */
export const priorStage = (models: LoadedModels): UnclipStage => stage(models, 'unclip_prior');

/** The decoder, the VAE decoder and what decoding needs from the manifest. */
export function decoderModels(models: LoadedModels): DecoderModels {
  const decoder = stage(models, 'unclip_decoder');
  const [, c, h, w] = models.unclip_decoder.entry.inputs.find((i) => i.name === 'sample')!.shape as number[];
  return {
    decoder,
    vaeDecoder: models.vae_decoder,
    scalingFactor: models.vae_decoder.entry.scaling_factor ?? 1,
    latentShape: [c, h, w],
  };
}

export interface ClipMap {
  set: EmojiSet;
  /** Image embeddings of the held-out emoji [N, E], unit-rms scale. */
  imageEmbeds: Tensor;
  /** Text embeddings of their captions [N, E]. */
  textEmbeds: Tensor;
  pca: Pca2;
  /** 2-D positions [N, 2] of the images and of the captions. */
  imageXY: Tensor;
  textXY: Tensor;
  /** Time to embed the images and captions, in ms. */
  embedMs: number;
}

const maps = new WeakMap<object, Promise<ClipMap>>();

/**
 * Embeds every held-out emoji and its caption with the tiny CLIP and fits a 2-D PCA to the
 * L2-normalised embeddings of both (cosine geometry), once per set of loaded models.
 */
export function clipMap(models: LoadedModels, signal?: AbortSignal): Promise<ClipMap> {
  const key = models.clip_image;
  let map = maps.get(key);
  if (!map) {
    map = (async () => {
      const [set, tokenizer] = await Promise.all([loadValidationEmoji(), loadTokenizer()]);
      const start = performance.now();
      const imageEmbeds = await embedImages(models.clip_image, set.pixels, signal); // [N, E]
      const text = await encodeText(
        models.clip_text,
        tokenizer,
        set.emoji.map((e) => e.caption),
        signal,
      );
      const embedMs = performance.now() - start;
      const both = l2Normalize(concatBatch([imageEmbeds, text.textEmbeds])); // [2N, E]
      const pca = fitPca2(both);
      const n = set.emoji.length;
      return {
        set,
        imageEmbeds,
        textEmbeds: text.textEmbeds,
        pca,
        imageXY: projectPca2(pca, sliceBatch(both, 0, n)),
        textXY: projectPca2(pca, sliceBatch(both, n, 2 * n)),
        embedMs,
      };
    })();
    map.catch(() => maps.delete(key));
    maps.set(key, map);
  }
  return map;
}

/** Where an embedding [1, E] (any scale) lands on the map -> [x, y]. */
export function placeOnMap(map: ClipMap, embedding: Tensor): [number, number] {
  const xy = projectPca2(map.pca, l2Normalize(embedding)).data;
  return [xy[0], xy[1]];
}
