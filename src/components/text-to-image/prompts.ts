/**
 * The prompts the figures suggest, chosen by measurement rather than by hand: the manifest's
 * `sd_unet.metrics.prompt_report` samples every training caption of a base emoji with four seeds and
 * keeps, per category, those whose samples are in the top 5 of both the tiny CLIP's caption ranking and
 * a pixel nearest-neighbour ranking of the real emoji, for at least 3 seeds (training/recipes/mini_sd.py).
 * Build time only (reads the manifest from disk).
 */
import { readManifest } from '../../lib/site/models';

export interface PromptReport {
  prompts: number;
  drawn_well: number;
  per_category: Record<
    string,
    {
      prompts: number;
      clip_top1: number;
      clip_top5: number;
      pixel_top1: number;
      pixel_top5: number;
      drawn_well: number;
    }
  >;
  recommended_prompts: Record<string, string[]>;
  recommended_rule: string;
  protocol: string;
}

/** The SD UNet's prompt report from the manifest; the build fails without one. */
export function promptReport(manifest = readManifest()): PromptReport {
  const report = (manifest.models.sd_unet?.metrics as { prompt_report?: PromptReport } | undefined)?.prompt_report;
  if (!report?.recommended_prompts) throw new Error('manifest: sd_unet.metrics.prompt_report is missing');
  return report;
}

/** The categories the one-click examples come from, one each, in this order. */
export const EXAMPLE_CATEGORIES = [
  'Smileys & Emotion',
  'Food & Drink',
  'Animals & Nature',
  'Travel & Places',
  'Objects',
  'Activities',
];

/** One-click examples: the best-drawn prompt of each of EXAMPLE_CATEGORIES that has one. */
export function examplePrompts(report = promptReport()): string[] {
  return EXAMPLE_CATEGORIES.map((c) => report.recommended_prompts[c]?.[0]).filter((p): p is string => Boolean(p));
}

/** Whether the report counts `prompt` as one the model draws well. */
export function isRecommended(prompt: string, report = promptReport()): boolean {
  return Object.values(report.recommended_prompts).some((list) => list.includes(prompt));
}

/** The prompt box's suggestion list: every recommended prompt, best of each category first. */
export function promptSuggestions(report = promptReport()): string[] {
  const lists = Object.values(report.recommended_prompts);
  const longest = Math.max(0, ...lists.map((l) => l.length));
  const out: string[] = [];
  for (let i = 0; i < longest; i++) for (const list of lists) if (list[i]) out.push(list[i]);
  return out;
}
