/**
 * What the pixel-cascade figures share (Imagen, GLIDE): the tiny CLIP text encoder, the 16 px base
 * model and the 16 -> 32 px upsampler, wired into `CascadeModels`; a per-page cache of encoded
 * prompts, so that re-running a figure never re-encodes the same words; and one base-model run with
 * its progress lines, which every figure of both chapters starts with.
 */
import type { BaseResult, BaseSampleOptions, BaseStep, CascadeModels, PromptStates } from '../../lib/pipelines/cascade';
import { encodePrompt, sampleBase } from '../../lib/pipelines/cascade';
import type { TrainedSchedulerConfig } from '../../lib/runtime/index';
import type { RunContext } from '../shared/model-figure';
import type { LoadedModels } from '../shared/model-status';
import { loadTokenizer } from '../text-to-image/models';

/** The base stage alone: text encoder and 16 px UNet. */
export const CASCADE_BASE_MODEL_IDS = ['clip_text', 'cascade_base'];
/** Both stages. */
export const CASCADE_MODEL_IDS = [...CASCADE_BASE_MODEL_IDS, 'cascade_sr'];

/** The pipeline's inputs from loaded models and their manifest entries (the upsampler when loaded). */
export async function cascadeModels(loaded: LoadedModels): Promise<CascadeModels> {
  const stage = (id: string) => ({ unet: loaded[id], scheduler: loaded[id].entry.scheduler as TrainedSchedulerConfig });
  return {
    tokenizer: await loadTokenizer(),
    textEncoder: loaded.clip_text,
    base: stage('cascade_base'),
    superRes: loaded.cascade_sr ? stage('cascade_sr') : undefined,
  };
}

const promptCache = new WeakMap<CascadeModels['textEncoder'], Map<string, Promise<PromptStates>>>();

/** The text encoder's states for a prompt, computed once per page and text encoder. */
export function promptStates(models: CascadeModels, text: string, signal?: AbortSignal): Promise<PromptStates> {
  let cache = promptCache.get(models.textEncoder);
  if (!cache) promptCache.set(models.textEncoder, (cache = new Map()));
  let states = cache.get(text);
  if (!states) {
    states = encodePrompt(models, text, signal);
    // A failed or stopped encoding is not remembered: the next run tries again.
    states.catch(() => cache.delete(text));
    cache.set(text, states);
  }
  return states;
}

/** What every base-model figure reads from its form. */
export interface BaseSettings {
  prompt: string;
  guidanceScale: number;
  numInferenceSteps: number;
  seed: number;
}

/** The part of a step that the figures' scrubbers keep: what the UNet saw and its guess of x0. */
export type KeptStep = Pick<BaseStep, 'timestep' | 'sample' | 'predOriginalSample'>;

export const keepStep = ({ timestep, sample, predOriginalSample }: BaseStep): KeptStep => ({
  timestep,
  sample,
  predOriginalSample,
});

/** The rest of `sampleBase`'s options: what differs between the figures (x0 treatment, variants, inpainting). */
type BaseExtras = Omit<BaseSampleOptions, keyof BaseSettings | 'empty' | 'signal' | 'onStep'>;

/**
 * One run of the 16 px base model for a figure: the prompt's and the empty prompt's states (cached),
 * then classifier-free guided sampling, with "`what`: i of n steps…" on the status line. `onStep`
 * sees every step; `stepMs` is each step's wall time.
 */
export async function runBase(
  run: Pick<RunContext<unknown>, 'models' | 'signal' | 'running'>,
  settings: BaseSettings,
  extras: BaseExtras,
  what: string,
  onStep?: (step: BaseStep) => void,
): Promise<{ models: CascadeModels; result: BaseResult; stepMs: number[] }> {
  const models = await cascadeModels(run.models);
  const [prompt, empty] = await Promise.all([
    promptStates(models, settings.prompt, run.signal),
    promptStates(models, '', run.signal),
  ]);
  const stepMs: number[] = [];
  const n = settings.numInferenceSteps;
  run.running(`${what}: 0 of ${n} steps…`);
  const result = await sampleBase(models, {
    ...settings,
    ...extras,
    prompt,
    empty,
    signal: run.signal,
    onStep: (step) => {
      stepMs.push(step.ms);
      onStep?.(step);
      run.running(`${what}: ${step.index + 1} of ${n} steps…`);
    },
  });
  return { models, result, stepMs };
}

/**
 * Moving one of the upsampler's controls `names` after a run (or during one) reruns the figure with its
 * base sample kept (the upsampler's noise level: stage 1 need not run again). Returns what the figure's readSettings
 * asks once a run: whether this run may keep the base sample (a request it then forgets). Generate
 * always runs both stages.
 */
export function rerunUpsamplerOn(
  figure: HTMLElement,
  names: string[],
  hasBase: () => boolean,
  rerun: () => void,
): () => boolean {
  let moved = false;
  for (const name of names) {
    figure.querySelector(`input[name="${name}"]`)!.addEventListener('input', () => {
      if (!hasBase() && figure.dataset.state !== 'running') return;
      moved = true;
      rerun();
    });
  }
  // Capture: the form's submit reaches this before the figure kit's handler reads the settings.
  figure.addEventListener('submit', () => (moved = false), { capture: true });
  return () => {
    const keep = moved && hasBase();
    moved = false;
    return keep;
  };
}
