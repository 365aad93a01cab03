/**
 * Build-time facts about the flow chapter's two text-to-image UNets, read from
 * public/weights/manifest.json: how each was trained and how well each matched its prompts at each
 * step count (`metrics.retrieval_by_steps` of sd_flow, measured by training/). Optional fields, as
 * in mini-sd.ts: the prose must build while a model is being retrained.
 */
import type { Manifest } from '../runtime/manifest';
import { readManifest } from './models';

export interface Training {
  steps?: number;
  batchSize?: number;
  wallTimeS?: number;
  device?: string;
  /** GPU name if any, else CPU name and threads. */
  hardware?: string;
}

export interface Retrieval {
  top1: number;
  top5: number;
}

export interface FlowFacts {
  flow: Training;
  diffusion: Training;
  parameters?: number;
  bytes?: number;
  /** Step count -> retrieval of each model, for the step counts measured. */
  retrieval: { steps: number; flow: Retrieval; diffusion: Retrieval }[];
  prompts?: number;
  guidanceScale?: number;
  protocol?: string;
}

// Metrics are free-form JSON that each training recipe defines; these modules read them defensively.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped manifest JSON, read with optional chaining
type Loose = Record<string, any>;

function training(entry: Loose | undefined): Training {
  const t = (entry?.training ?? {}) as Loose;
  const hw = (t.hardware ?? {}) as Loose;
  return {
    steps: t.steps,
    batchSize: t.batch_size,
    wallTimeS: t.wall_time_s,
    device: t.device,
    hardware: hw.gpu ?? (hw.cpu ? `${hw.cpu}, ${hw.threads} threads` : undefined),
  };
}

const isRetrieval = (r: unknown): r is Retrieval =>
  typeof (r as Loose)?.top1 === 'number' && typeof (r as Loose)?.top5 === 'number';

export function flowFacts(manifest: Manifest = readManifest()): FlowFacts | null {
  const models = manifest.models as Record<string, Loose>;
  const flow = models.sd_flow;
  if (!flow) return null;
  const metrics = (flow.metrics?.retrieval_by_steps ?? {}) as Loose;
  const flowRows = (metrics.flow ?? {}) as Loose;
  const diffusionRows = (metrics.sd_unet ?? {}) as Loose;
  const retrieval = Object.keys(flowRows)
    .map(Number)
    .filter((n) => isRetrieval(flowRows[n]) && isRetrieval(diffusionRows[n]))
    .sort((a, b) => a - b)
    .map((steps) => ({ steps, flow: flowRows[steps] as Retrieval, diffusion: diffusionRows[steps] as Retrieval }));
  return {
    flow: training(flow),
    // The diffusion side of the comparison is sd_unet requantized; its training is sd_unet's.
    diffusion: training(models.sd_unet_int8 ?? models.sd_unet),
    parameters: flow.parameters,
    bytes: flow.bytes,
    retrieval,
    prompts: metrics.prompts,
    guidanceScale: metrics.guidance_scale,
    protocol: metrics.protocol,
  };
}
