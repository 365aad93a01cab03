/** The inpainting figure's picture: one of the sample emoji, or the reader's own file, at 16 px. */
import type { Tensor } from '../../lib/diffusion/index';
import { boxDownsample } from '../../lib/image/mask';
import { ImageLoadError, loadImage, showUploadNotes } from '../shared/load-image';

/**
 * Pictures are decoded at 64 px (the emoji's native size) and box-filtered 4 x 4: the same as the
 * training data's 64 -> 32 -> 16 px chain of 2 x 2 area averages.
 */
const DECODE_SIZE = 64;

/**
 * Follows the figure's SamplePicker (a sample's radio button, or a file the reader uploads) and hands
 * each picture, [1, 3, size, size] in [-1, 1], to `show`. A file that is no picture gets a sentence in
 * `notice` (not a model error), and the picture shown stays.
 */
export function followPicture(figure: HTMLElement, size: number, notice: HTMLElement, show: (picture: Tensor) => void) {
  let file: File | null = null;
  // Numbers picture loads: only the latest lands (a link's picture, chosen while the default one still loads).
  let latest = 0;
  const radios = figure.querySelectorAll<HTMLInputElement>('.picker input[type="radio"]');
  const load = async () => {
    notice.hidden = true;
    const source = file ?? figure.querySelector<HTMLInputElement>('.picker input[type="radio"]:checked')?.value;
    if (!source) return;
    const token = ++latest;
    try {
      const { tensor, notes } = await loadImage(source, DECODE_SIZE, size);
      if (token !== latest) return;
      showUploadNotes(figure, file ? notes : []);
      show(boxDownsample(tensor, DECODE_SIZE / size));
    } catch (error) {
      if (token !== latest) return;
      notice.textContent =
        error instanceof ImageLoadError ? error.message : `Could not use that picture: ${String(error)}`;
      notice.hidden = false;
      file = null;
    }
  };
  radios.forEach((radio) =>
    radio.addEventListener('change', () => {
      file = null;
      void load();
    }),
  );
  const fileInput = figure.querySelector<HTMLInputElement>('.picker input[type="file"]')!;
  fileInput.addEventListener('change', () => {
    file = fileInput.files?.[0] ?? null;
    fileInput.value = '';
    if (!file) return;
    radios.forEach((r) => (r.checked = false));
    void load();
  });
  void load();
}
