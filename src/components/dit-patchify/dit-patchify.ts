/**
 * The patchify figure: a picture's VAE latent cut into p x p patches, the token count T = (I / p)^2,
 * and the fixed 2-D sine-cosine position embedding for the grid of that p.
 */
import { get2dSincosPosEmbed, type Tensor } from '../../lib/diffusion/index';
import { channelToRgba, divergingColor, maxAbs } from '../../lib/image/index';
import { encode } from '../../lib/pipelines/vae';
import { paintRgba } from '../shared/canvas';
import { loadImageTensor } from '../shared/load-image';
import { ModelFigure, type RunContext } from '../shared/model-figure';
import { paintMatrix } from '../dit-common/heatmap';

/** "p = 2: T = (8 / 2)² = 16 tokens, each 2 × 2 × 4 = 16 numbers", as HTML with the count in bold. */
export function tokenSentence(p: number, inputSize: number, channels: number): string {
  const tokens = (inputSize / p) ** 2;
  return (
    `p = ${p}: T = (${inputSize} / ${p})² = <strong data-cell="tokens">${tokens} token${tokens === 1 ? '' : 's'}</strong>, ` +
    `each ${p} × ${p} × ${channels} = ${p * p * channels} numbers`
  );
}

/** The picture to encode (a sample's URL). */
type Settings = string;

/** Encodes an emoji with the VAE and redraws grid, token count and position embedding for each p. */
export class DitPatchify extends ModelFigure<Settings> {
  protected readonly modelIds = ['vae_encoder'];
  /** The last encoded latent (the mean of q(z | x)), for tests. */
  latent: Tensor | null = null;

  private get pictures() {
    return this.querySelectorAll<HTMLInputElement>('input[type="radio"]:not([name="patch"])');
  }

  protected setup() {
    this.querySelectorAll('input[name="patch"]').forEach((r) => r.addEventListener('change', () => this.showPatch()));
    // Once a picture has been encoded, choosing another encodes that one.
    this.pictures.forEach((r) =>
      r.addEventListener('change', () => this.latent && this.dataset.state !== 'running' && this.run()),
    );
    this.showPatch();
  }

  private showPatch() {
    const p = Number(this.value('patch'));
    const size = Number(this.dataset.inputSize);
    const grid = size / p;
    const tokens = grid * grid;
    this.style.setProperty('--cells', String(grid));
    this.querySelector('.tokens')!.innerHTML = tokenSentence(p, size, Number(this.dataset.channels));
    this.querySelectorAll<HTMLElement>('tr[data-patch]').forEach((row) =>
      row.classList.toggle('current', Number(row.dataset.patch) === p),
    );
    const hidden = Number(this.dataset.hiddenSize);
    if (!(hidden > 0)) return;
    const canvas = this.querySelector<HTMLCanvasElement>('.pos-embed canvas')!;
    const pos = get2dSincosPosEmbed(hidden, grid); // [T, D]
    paintMatrix(canvas, pos.data, tokens, hidden, (v) => divergingColor(v, 1));
    canvas.style.aspectRatio = `${hidden} / ${Math.max(tokens * 4, 8)}`;
    canvas.setAttribute(
      'aria-label',
      `Sine-cosine position embedding: ${tokens} token${tokens === 1 ? '' : 's'} by ${hidden} dimensions, values from -1 (blue) to 1 (red)`,
    );
  }

  protected readSettings(): Settings {
    return [...this.pictures].find((r) => r.checked)!.value;
  }

  protected async sample(url: Settings, run: RunContext<never>): Promise<string> {
    const image = await loadImageTensor(url, 32); // [1, 3, 32, 32]
    const start = performance.now();
    const { latentMean } = await encode(run.models.vae_encoder, image, run.signal); // [1, 4, 8, 8]
    const ms = performance.now() - start;
    const limit = maxAbs(latentMean.data);
    const [, channels, h, w] = latentMean.shape;
    for (let c = 0; c < channels; c++) {
      const canvas = this.querySelector<HTMLCanvasElement>(`canvas[data-channel="${c}"]`)!;
      paintRgba(canvas, channelToRgba(latentMean, c, divergingColor, limit), w, h);
      canvas.setAttribute('aria-label', `Latent channel ${c + 1} of the encoded picture, ${h} by ${w}`);
    }
    this.latent = latentMean;
    return `encoded in ${ms.toFixed(1)} ms`;
  }
}

customElements.define('dit-patchify', DitPatchify);
