/**
 * Training claims in prose ("trained in 10 minutes on a GPU") come from the manifest through
 * src/lib/site/training.ts, never typed by hand. This scans every chapter, page and component for
 * such claims left outside a `{...}` expression, and checks the formatter against the manifest.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/lib/runtime/manifest';
import { runInWords, runOf, trainedFor, trainingRun, trainingSummary, whereTrained } from '../../src/lib/site/training';

const manifest: Manifest = JSON.parse(readFileSync('public/weights/manifest.json', 'utf8'));

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path, ext) : ext.test(name) ? [path] : [];
  });
}

/**
 * The prose as typed: without frontmatter, imports/exports, scripts, styles and maths, and with every
 * `{...}` that is pure code (no JSX, no template literal) removed, innermost first. Text inside JSX
 * and the fixed parts of template literals stay: they are typed by hand too.
 */
function typedProse(source: string): string {
  let text = source
    .replace(/^---[\s\S]*?\n---\n/, '')
    .replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/g, '')
    .replace(/^(import|export) .*$/gm, '')
    .replace(/\$\$[\s\S]*?\$\$|\$[^$\n{}]*\$/g, '');
  for (let before = ''; before !== text;) {
    before = text;
    text = text.replace(/\{[^{}<`]*\}/g, '');
  }
  return text.replace(/\s+/g, ' ');
}

/** Sentences that state how long or on what one of our models trained. */
const CLAIMS = [
  /\btrained\b[^.;]{0,40}\b(\d+|one|two|ten|twenty|a few|under an?|an?)\s+(minutes?|hours?|seconds?|min)\b/i,
  /\b(minutes?|hours?|min)\b[^.;]{0,25}\bon (a|an|one|the|\d+)\b[^.;]{0,25}\b(CPU|GPU|H100|cores?)\b/i,
  /\b(minutes?|hours?)\b of training\b/i,
];

describe('training claims', () => {
  const sources = [
    ...files('src/content/chapters', /\.mdx$/),
    ...files('src/pages', /\.astro$/),
    ...files('src/components', /\.astro$/),
  ];

  it('finds a hand-typed claim when there is one (the scanner works)', () => {
    const typed = typedProse('The UNet was trained for ten minutes on a CPU. {`${x} minutes`}');
    expect(CLAIMS.some((re) => re.test(typed))).toBe(true);
    const inTemplate = typedProse('{t ? `in ${(t.wall_time_s / 60).toFixed(0)} minutes on a CPU` : ""}');
    expect(CLAIMS.some((re) => re.test(inTemplate))).toBe(true);
    const inJsx = typedProse('{x && <p>At a few minutes of training the UNet wins.</p>}');
    expect(CLAIMS.some((re) => re.test(inJsx))).toBe(true);
    expect(typedProse("It trained for {trainedFor('sd_unet')}.")).toBe('It trained for .');
  });

  it('no chapter, page or component types a training time or machine by hand', () => {
    const found = sources.flatMap((path) => {
      const prose = typedProse(readFileSync(path, 'utf8'));
      return CLAIMS.flatMap((re) => {
        const m = re.exec(prose);
        return m ? [`${path}: …${prose.slice(Math.max(0, m.index - 40), m.index + m[0].length + 20)}…`] : [];
      });
    });
    expect(found).toEqual([]);
  });

  it('says what the manifest records, for every trained model', () => {
    for (const [id, entry] of Object.entries(manifest.models)) {
      const t = entry.training as Record<string, any> | undefined;
      if (typeof t?.steps !== 'number') {
        expect(trainingRun(entry)).toBeNull();
        expect(trainingSummary(entry)).toBe('—');
        continue;
      }
      const text = trainedFor(id, manifest);
      expect(text).toContain(`${t.steps.toLocaleString('en')} steps`);
      if (typeof t.batch_size === 'number') expect(text).toContain(`batch ${t.batch_size.toLocaleString('en')}`);
      if (typeof t.wall_time_s === 'number') {
        const minutes = Math.max(1, Math.round(t.wall_time_s / 60));
        expect(text).toContain(` in ${minutes} minute`);
        const parts = trainingRun(entry)?.parts;
        if (parts) {
          expect(parts.reduce((n, p) => n + p.steps, 0)).toBe(t.steps);
          for (const p of parts)
            expect(trainingSummary(entry)).toContain(
              `${p.steps.toLocaleString('en')} (${p.minutes} min) on ${p.where}`,
            );
        } else expect(trainingSummary(entry)).toContain(`${minutes} min on`);
      }
      if (t.device === 'cuda') expect(text).toMatch(/ GPU$/);
      else expect(text).toMatch(/CPU/);
      expect(trainingSummary(entry)).toContain(whereTrained(t.device, t.hardware));
      const f = t.fine_tune as Record<string, any> | undefined;
      if (typeof f?.steps === 'number') {
        expect(trainingRun(entry)?.fineTune?.steps).toBe(f.steps);
        expect(trainingSummary(entry)).toContain(`then ${f.steps.toLocaleString('en')} steps`);
      }
    }
  });

  it('reports a fine-tune after the run it started from', () => {
    const entry = {
      training: {
        steps: 7471,
        batch_size: 32,
        wall_time_s: 2100,
        device: 'cpu',
        hardware: { threads: 1 },
        fine_tune: { steps: 8000, wall_time_s: 1320, device: 'cpu', hardware: { threads: 1 } },
      },
    } as unknown as Parameters<typeof trainingSummary>[0];
    expect(trainingSummary(entry)).toBe(
      '7,471 steps, 35 min on a 1-thread CPU; then 8,000 steps, 22 min on a 1-thread CPU (fine-tune)',
    );
  });

  it('gives each machine its share of a run that was resumed on another one', () => {
    const gpu = { gpu: 'NVIDIA H100 80GB HBM3', threads: 2 };
    const cpu = { cpu: 'Intel Xeon', threads: 2 };
    const training = {
      steps: 44000,
      batch_size: 128,
      wall_time_s: 5100,
      device: 'cpu',
      hardware: cpu,
      segments: [
        { from_step: 0, from_elapsed_s: 0, threads: 2, device: 'cuda', hardware: gpu },
        { from_step: 13954, from_elapsed_s: 582, threads: 2, device: 'cpu', hardware: cpu },
        { from_step: 20000, from_elapsed_s: 1400, threads: 1, device: 'cpu', hardware: { ...cpu, threads: 1 } },
        { from_step: 21000, from_elapsed_s: 1600, threads: 2, device: 'cpu', hardware: cpu },
      ],
    };
    const run = runOf(training);
    expect(run?.parts).toEqual([
      { steps: 13954, minutes: 10, where: 'one NVIDIA H100 80GB HBM3 GPU' },
      { steps: 6046, minutes: 14, where: 'a 2-thread CPU (Intel Xeon)' },
      { steps: 1000, minutes: 3, where: 'a 1-thread CPU (Intel Xeon)' },
      { steps: 23000, minutes: 58, where: 'a 2-thread CPU (Intel Xeon)' },
    ]);
    expect(runInWords(run!)).toBe(
      '44,000 steps of batch 128 in 85 minutes: the first 13,954 (10 minutes) on one NVIDIA H100 80GB HBM3 GPU, ' +
        'then 6,046 (14 minutes) on a 2-thread CPU (Intel Xeon), then 1,000 (3 minutes) on a 1-thread CPU (Intel Xeon), ' +
        'then 23,000 (58 minutes) on a 2-thread CPU (Intel Xeon)',
    );
    // segments that do not say when they began (older manifests) leave the run in one piece
    const older = runOf({
      ...training,
      segments: training.segments.map(({ from_step, device }) => ({ from_step, device })),
    });
    expect(older?.parts).toBeUndefined();
    expect(older?.where).toBe('a 2-thread CPU (Intel Xeon)');
  });

  it('names the machine as the manifest records it', () => {
    expect(whereTrained('cuda', { gpu: 'NVIDIA H100 80GB HBM3' })).toBe('one NVIDIA H100 80GB HBM3 GPU');
    expect(whereTrained('cpu', { cpu: 'AMD EPYC', threads: 2 })).toBe('a 2-thread CPU (AMD EPYC)');
    expect(whereTrained(undefined, undefined)).toBe('a CPU');
  });
});
