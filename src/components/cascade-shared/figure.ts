/** The pixel-cascade figures' base: the figure kit, plus the base model's settings read in one place. */
import { ModelFigure } from '../shared/model-figure';
import type { BaseSettings } from './models';

export abstract class CascadeFigure<Settings, Step = never> extends ModelFigure<Settings, Step> {
  /**
   * Prompt, guidance scale (clamped to `guidance`; null for a figure whose variants set their own),
   * steps and seed, as `runBase` takes them.
   */
  protected baseSettings(guidance: [lo: number, hi: number] | null): BaseSettings {
    return {
      prompt: this.value('prompt'),
      guidanceScale: guidance ? this.number('guidance', ...guidance, this.fallback('guidance')) : 1,
      numInferenceSteps: this.integer('steps', 1, 100, this.fallback('steps')),
      seed: this.seed(),
    };
  }

  /** What a blank or garbled field stands for: the number it held when the page was built (the recipe's). */
  protected fallback(name: string): number {
    return Number(this.querySelector<HTMLInputElement>(`input[name="${name}"]`)!.defaultValue);
  }
}
