import type { Tensor } from '../diffusion/index';

/** What a pipeline reports after each denoising step, enough to draw and later scrub the run. */
export interface StepRecord {
  /** 0-based position in the schedule. */
  index: number;
  /** The timestep the model saw (float for Euler). */
  timestep: number;
  /** x_t, the sample the model was given at this step. */
  sample: Tensor;
  /** The guided model output (noise for epsilon models). */
  noisePred: Tensor;
  /** The scheduler's estimate of the clean sample at this step. */
  predOriginalSample: Tensor;
  /** x_{t-1}, the result of the step. */
  prevSample: Tensor;
  /** Wall time of this step (model runs plus scheduler maths), in milliseconds. */
  ms: number;
}

export type StepCallback<S extends StepRecord = StepRecord> = (step: S) => void;

/** Throws the standard AbortError when a run is cancelled, so callers can tell it from failures. */
export function throwIfAborted(signal?: AbortSignal) {
  if (signal?.aborted) throw new DOMException('The run was cancelled.', 'AbortError');
}

/**
 * Gives the event loop one turn between denoising steps, so that a page stays responsive (Stop
 * works, progress repaints) while a WASM run keeps the main thread busy. A MessageChannel message
 * queues an ordinary task: not setTimeout, whose nested calls are clamped to 4 ms (0.2 s over a
 * 50-step sample), and not scheduler.yield(), whose continuations jump ahead of other tasks.
 */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
