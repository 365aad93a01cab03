/**
 * The flow chapter's pipeline on the shipped weights (onnxruntime-node): sd_flow through
 * FlowMatchEulerDiscreteScheduler and `textToImage` against `python -m training.flow_reference`
 * (the same ONNX files through `mini_flow.sample_flow`), and the comparison with sd_unet_int8.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  compareFlowAndDiffusion,
  ddimTrailingScheduler,
  flowMatchScheduler,
} from '../../src/lib/pipelines/flow-compare';
import { pathStraightness } from '../../src/lib/diffusion/toy2d-sampling';
import { textToImage, type TextToImageModels } from '../../src/lib/pipelines/text-to-image';
import { WordTokenizer } from '../../src/lib/pipelines/tokenizer';
import { nodeRunner } from '../helpers/node-runner';
import { maxAbsDiff } from '../helpers/compare';

const manifest = JSON.parse(readFileSync('public/weights/manifest.json', 'utf8'));
const reference = JSON.parse(readFileSync('tests/fixtures/flow_pipeline_reference.json', 'utf8'));
const path = (id: string) => `public/weights/${manifest.models[id].file}`;
const STALE = 'the reference was computed for other weights: run `python -m training.flow_reference`';

async function models(unetId: string): Promise<TextToImageModels> {
  return {
    tokenizer: new WordTokenizer(
      JSON.parse(readFileSync(`public/weights/${manifest.models.clip_text.tokenizer.file}`, 'utf8')),
    ),
    textEncoder: await nodeRunner('clip_text', path('clip_text')),
    unet: await nodeRunner(unetId, path(unetId)),
    vaeDecoder: await nodeRunner('vae_decoder', path('vae_decoder')),
    scheduler: manifest.models[unetId].scheduler,
    scalingFactor: manifest.models.vae_decoder.scaling_factor,
    latentShape: [4, 8, 8],
    addedConditions: true,
  };
}

describe('sd_flow through FlowMatchEulerDiscreteScheduler', () => {
  it('the reference belongs to the shipped files', () => {
    for (const id of ['sd_flow', 'clip_text', 'vae_decoder']) {
      const sha = createHash('sha256')
        .update(readFileSync(path(id)))
        .digest('hex');
      expect(sha, STALE).toBe(reference.onnx_sha256[id]);
    }
  });

  it('4 guided Euler steps match the Python sampler', async () => {
    const result = await textToImage(await models('sd_flow'), {
      prompt: reference.prompt,
      guidanceScale: reference.guidance_scale,
      numInferenceSteps: reference.num_inference_steps,
      scheduler: flowMatchScheduler(manifest.models.sd_flow.scheduler, reference.shift),
      latents: { data: Float32Array.from(reference.latents), shape: [1, 4, 8, 8] },
    });
    // Float32 timesteps against Python's float64 sigmas * 1000.
    result.timesteps.forEach((t, i) => expect(t).toBeCloseTo(reference.timesteps[i], 3));
    // Same ONNX files on both sides: what is left is float32 rounding of the Euler updates (measured ~1e-6).
    expect(maxAbsDiff(result.latents.data, reference.final_latents)).toBeLessThan(1e-4);
    expect(maxAbsDiff(result.image.data, reference.image)).toBeLessThan(1e-4);
  });
});

describe('compareFlowAndDiffusion', () => {
  it('starts both models from pure noise at every step count, from the same latents', async () => {
    const seen: string[] = [];
    const images = await compareFlowAndDiffusion(
      { flow: await models('sd_flow'), diffusion: await models('sd_unet_int8') },
      { prompt: 'red heart', stepCounts: [1, 2], onImage: (i) => seen.push(`${i.model} ${i.steps}`) },
    );
    expect(seen).toEqual(['flow 1', 'diffusion 1', 'flow 2', 'diffusion 2']);
    expect(images.map((i) => i.timesteps)).toEqual([[1000], [999], [1000, 1], [999, 499]]);
    // Different models give different pictures, and DDIM's second step changes its picture.
    expect(maxAbsDiff(images[0].image.data, images[1].image.data)).toBeGreaterThan(0.05);
    expect(maxAbsDiff(images[1].image.data, images[3].image.data)).toBeGreaterThan(0.05);
    // diffusers spaces flow sigmas from 1 to 1/1000, so of two steps the first goes almost all the
    // way (1 -> 0.001) and the picture hardly moves after it: why 1 and 2 steps score alike.
    expect(maxAbsDiff(images[0].image.data, images[2].image.data)).toBeLessThan(0.01);
    expect(images[0].straightness).toBe(1);
    expect(images[2].straightness).toBeLessThanOrEqual(1);
  });

  it('a shift other than 1 changes the flow schedule but not DDIM', () => {
    const flow = flowMatchScheduler(manifest.models.sd_flow.scheduler, 3);
    flow.setTimesteps(2);
    // diffusers spaces sigmas from 1 to the shifted training minimum, then shifts them again.
    const once = (s: number) => (3 * s) / (1 + 2 * s);
    expect(flow.timesteps[1]).toBeCloseTo(1000 * once(once(0.001)), 2);
    const ddim = ddimTrailingScheduler(manifest.models.sd_unet_int8.scheduler);
    ddim.setTimesteps(4);
    expect(ddim.timesteps).toEqual([999, 749, 499, 249]);
  });
});

describe('pathStraightness', () => {
  const t = (...v: number[]) => Float32Array.from(v);
  it('is 1 on a line and below 1 on a bend', () => {
    expect(pathStraightness([t(0, 0), t(1, 1), t(3, 3)], 2)).toBeCloseTo(1, 6);
    expect(pathStraightness([t(0, 0), t(1, 0), t(1, 1)], 2)).toBeCloseTo(Math.SQRT2 / 2, 6);
  });
});
