/** Reading the reference fixtures (tests/fixtures/*.json, provenance in their README) that the unit tests compare with. */
import { readFileSync } from 'node:fs';
import { tensor, type Tensor } from '../../src/lib/diffusion/index';

/** One array of a fixture, as the Python scripts write it. */
export interface RefArray {
  shape: number[];
  dtype: string;
  values: number[];
}
export type Json = Record<string, any>;

/** A fixture file of tests/fixtures, parsed. */
export function loadFixture(name: string): Json {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));
}

/** A fixture array as a float32 tensor (values are exact float32 decimals: parse, then round). */
export function toTensor(a: RefArray): Tensor {
  return tensor(Float32Array.from(a.values, Math.fround), a.shape);
}
