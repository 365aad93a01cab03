/**
 * The base of the figures that decode CLIP image embeddings of held-out emoji into a strip
 * (DecodedStrip.astro): variations and interpolation. It owns their models, the decoder
 * settings (DecoderControls.astro), painting the real emoji, and the decoding run with its
 * progress line; a figure supplies which embeddings to decode from which seeds.
 */
import { sliceBatch, type Tensor } from '../../lib/diffusion/index';
import { decodeImageEmbeddings } from '../../lib/pipelines/unclip';
import { median, paintTensor } from '../shared/canvas';
import { clampInteger } from '../shared/form';
import { ModelFigure, type RunContext } from '../shared/model-figure';
import { DECODER_SEED_MAX, renderedDefault } from './decoder-controls';
import { decoderModels, loadValidationEmoji } from './models';

export interface DecoderSettings {
  guidanceScale: number;
  numInferenceSteps: number;
  seed: number;
  /** How many tiles to decode (the figure's count select). */
  count: number;
}

/** A decoded tile's caption under it and its label for screen readers. */
export interface TileText {
  caption: string;
  label: string;
}

export abstract class DecoderFigure<Settings extends DecoderSettings> extends ModelFigure<Settings> {
  protected readonly modelIds = ['clip_image', 'unclip_decoder', 'vae_decoder'];

  protected decoderSettings(): DecoderSettings {
    return {
      guidanceScale: this.number('guidance', 1, 8, renderedDefault(this, 'guidance')),
      numInferenceSteps: this.integer('steps', 1, 100, renderedDefault(this, 'steps')),
      seed: clampInteger(this.value('seed'), 0, DECODER_SEED_MAX, 0),
      count: this.integer('count', 1, this.querySelectorAll('figure.decoded').length, 1),
    };
  }

  /** Paints held-out emoji `index` on the real tile `end`; returns its pixels [1, 3, 32, 32] and caption. */
  protected async showReal(end: string, index: number, label: (caption: string) => string) {
    const set = await loadValidationEmoji();
    const caption = set.emoji[index].caption;
    const pixels = sliceBatch(set.pixels, index); // [1, 3, 32, 32]
    const canvas = this.querySelector<HTMLCanvasElement>(`figure[data-end="${end}"] canvas`)!;
    paintTensor(canvas, pixels);
    canvas.setAttribute('aria-label', label(caption));
    return { pixels, caption };
  }

  /**
   * Decodes `embeddings` [count, E], tile k from `seeds[k]`, and paints the tiles; `what` names
   * them in the progress and status lines ("4 variations"). Returns the pictures
   * [count, 3, 32, 32], the time in ms (decoder and VAE) and the status line's part.
   */
  protected async decodeTiles(
    s: DecoderSettings,
    run: RunContext<never>,
    embeddings: Tensor,
    seeds: number[],
    what: string,
    text: (k: number) => TileText,
  ): Promise<{ images: Tensor; totalMs: number; line: string }> {
    const steps = s.numInferenceSteps;
    const stepMs: number[] = [];
    const decoded = await decodeImageEmbeddings(decoderModels(run.models), embeddings, {
      seeds,
      guidanceScale: s.guidanceScale,
      numInferenceSteps: steps,
      signal: run.signal,
      onStep: (step) => {
        stepMs.push(step.ms);
        run.running(`Decoding ${what}: ${step.index + 1} of ${steps} steps…`);
      },
    });
    this.querySelectorAll<HTMLElement>('figure.decoded').forEach((figure, k) => {
      const shown = k < s.count;
      figure.hidden = !shown;
      const canvas = figure.querySelector('canvas')!;
      // Download saves the tiles in view, not the hidden ones.
      canvas.toggleAttribute('data-download', shown);
      if (!shown) return;
      paintTensor(canvas, sliceBatch(decoded.images, k));
      const { caption, label } = text(k);
      canvas.setAttribute('aria-label', label);
      figure.querySelector('figcaption')!.textContent = caption;
    });
    const seconds = (decoded.totalMs / 1000).toFixed(2);
    return {
      images: decoded.images,
      totalMs: decoded.totalMs + decoded.decodeMs,
      line: `${what}, ${steps} steps in ${seconds} s (median ${median(stepMs).toFixed(1)} ms per step) + VAE ${decoded.decodeMs.toFixed(1)} ms`,
    };
  }
}
