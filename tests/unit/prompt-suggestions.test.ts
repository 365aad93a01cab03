/**
 * The prompts the figures offer come from the SD UNet's measured prompt report (manifest), not from a
 * hand-made list: every example and suggestion is one it draws well, and so is every default prompt of a
 * figure that runs the SD UNet.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  EXAMPLE_CATEGORIES,
  examplePrompts,
  isRecommended,
  promptReport,
  promptSuggestions,
} from '../../src/components/text-to-image/prompts';

const report = promptReport();

/** Figures that run sd_unet with a prompt box, and where their default prompt is written. */
const SD_FIGURES = [
  'src/components/text-to-image/TextToImage.astro',
  'src/components/cfg-sweep/CfgSweep.astro',
  'src/components/cross-attention/CrossAttention.astro',
  'src/components/flow-compare/FlowCompare.astro',
  'src/components/micro-conditioning/MicroConditioning.astro',
];

/** The default prompt in a figure's markup: a PromptField's value, or the prompt input's value. */
function defaultPrompt(file: string): string {
  const source = readFileSync(file, 'utf8');
  const field =
    /<PromptField[^>]*\svalue="([^"]+)"/.exec(source) ?? /name="prompt"[^>]*?\svalue="([^"]+)"/s.exec(source);
  if (!field) throw new Error(`${file}: no default prompt found`);
  return field[1];
}

describe('prompt report', () => {
  it('covers every category with both rankings, and recommends only prompts drawn well', () => {
    expect(report.prompts).toBeGreaterThan(1000);
    for (const [category, stats] of Object.entries(report.per_category)) {
      expect(stats.prompts, category).toBeGreaterThan(0);
      for (const v of [stats.clip_top1, stats.clip_top5, stats.pixel_top1, stats.pixel_top5, stats.drawn_well]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect(stats.clip_top5).toBeGreaterThanOrEqual(stats.clip_top1);
      expect(stats.pixel_top5).toBeGreaterThanOrEqual(stats.pixel_top1);
    }
    expect(Object.keys(report.recommended_prompts)).not.toContain('Component');
  });

  it('gives one example per example category, each a recommended prompt', () => {
    const examples = examplePrompts(report);
    expect(examples.length).toBe(EXAMPLE_CATEGORIES.filter((c) => report.recommended_prompts[c]?.length).length);
    expect(examples.length).toBeGreaterThanOrEqual(4);
    for (const p of examples) expect(isRecommended(p, report), p).toBe(true);
  });

  it('suggests every recommended prompt once, the best of each category first', () => {
    const suggestions = promptSuggestions(report);
    const all = Object.values(report.recommended_prompts).flat();
    expect(new Set(suggestions)).toEqual(new Set(all));
    expect(suggestions.length).toBe(new Set(all).size);
    const firsts = Object.values(report.recommended_prompts).map((l) => l[0]);
    expect(suggestions.slice(0, firsts.length)).toEqual(firsts);
  });

  it.each(SD_FIGURES)('%s opens on a prompt the SD UNet draws well', (file) => {
    const prompt = defaultPrompt(file);
    expect(isRecommended(prompt, report), `${file} opens on “${prompt}”`).toBe(true);
  });

  it('no longer offers the prompts the issue found drawn as blobs', () => {
    const suggestions = promptSuggestions(report);
    // measured: rocket ranks 5-207 by the tiny CLIP, four leaf clover 7-12 by pixels
    for (const blob of ['rocket', 'four leaf clover']) expect(suggestions).not.toContain(blob);
  });
});
