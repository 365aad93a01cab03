/** The timing figures' call into step-cost.ts: a figure's loaded models timed, with progress on its status line. */
import { measureStepCost, type StepCostOptions, type StepTiming } from '../../lib/pipelines/step-cost';
import type { RunContext } from './model-figure';
import type { LoadedModels } from './model-status';

/**
 * Times one step of each model in `labels` (manifest id -> what the reader calls it, "UNet step") on
 * inputs built from its manifest specs: a warm-up, then `runs` timed runs (see measureStepCost).
 */
export function timeModelSteps(
  models: LoadedModels,
  labels: Readonly<Record<string, string>>,
  run: Pick<RunContext<unknown>, 'signal' | 'running'>,
  options: Omit<StepCostOptions, 'signal' | 'onRun'> = {},
): Promise<Record<string, StepTiming>> {
  const timed = Object.keys(labels).map((id) => [id, { runner: models[id], inputs: models[id].entry.inputs }]);
  return measureStepCost(Object.fromEntries(timed), {
    ...options,
    signal: run.signal,
    onRun: ({ model, run: i, of }) =>
      run.running(`Timing the ${labels[model]}: run ${i} of ${of} (the first is a warm-up)…`),
  });
}
