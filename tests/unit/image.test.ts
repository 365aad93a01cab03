import { describe, expect, it } from 'vitest';
import {
  centerCropRect,
  channelToRgba,
  differenceToRgba,
  divergingColor,
  maxAbs,
  rgbaToTensor,
  tensorToRgba,
} from '../../src/lib/image/index';

describe('image <-> tensor', () => {
  it('centre-crops to the largest centred square', () => {
    expect(centerCropRect(640, 480)).toEqual({ sx: 80, sy: 0, size: 480 });
    expect(centerCropRect(300, 301)).toEqual({ sx: 0, sy: 0, size: 300 });
    expect(centerCropRect(64, 64)).toEqual({ sx: 0, sy: 0, size: 64 });
  });

  it('maps bytes to [-1, 1] in channel-first order and back without loss', () => {
    // 2 x 1 picture: a pure red pixel and a mid-grey one, both opaque.
    const rgba = new Uint8ClampedArray([255, 0, 0, 255, 128, 128, 128, 255]);
    const tensor = rgbaToTensor(rgba, 2, 1);
    expect(tensor.shape).toEqual([1, 3, 1, 2]);
    // [R(p0), R(p1), G(p0), G(p1), B(p0), B(p1)]
    expect([...tensor.data].map((v) => +v.toFixed(4))).toEqual([1, 0.0039, -1, 0.0039, -1, 0.0039]);
    expect([...tensorToRgba(tensor)]).toEqual([...rgba]);
  });

  it('composites transparency over white and clamps out-of-range values', () => {
    const transparent = rgbaToTensor(new Uint8ClampedArray([0, 0, 0, 0]), 1, 1);
    expect([...transparent.data]).toEqual([1, 1, 1]);
    const halfBlack = rgbaToTensor(new Uint8ClampedArray([0, 0, 0, 255 / 2]), 1, 1);
    expect(halfBlack.data[0]).toBeCloseTo(0, 2);
    const noisy = { data: new Float32Array([3, -3, 0]), shape: [1, 3, 1, 1] };
    expect([...tensorToRgba(noisy)]).toEqual([255, 0, 128, 255]);
  });

  it('draws a one-channel tensor as grey', () => {
    const grey = { data: new Float32Array([-1, 1]), shape: [1, 1, 1, 2] };
    expect([...tensorToRgba(grey)]).toEqual([0, 0, 0, 255, 255, 255, 255, 255]);
  });

  it('rejects a byte count that does not match the size', () => {
    expect(() => rgbaToTensor(new Uint8ClampedArray(12), 2, 2)).toThrow(/expected 16/);
  });
});

describe('heatmaps', () => {
  it('maps zero to white and the limits to saturated blue and red', () => {
    expect(divergingColor(0, 1)).toEqual([255, 255, 255]);
    expect(divergingColor(-1, 1)).toEqual([33, 102, 172]);
    expect(divergingColor(5, 1)).toEqual([178, 24, 43]);
  });

  it('draws one channel with its own symmetric limit', () => {
    // [1, 2, 1, 2]: channel 0 = [1, -2], channel 1 = [0, 0]
    const t = { data: new Float32Array([1, -2, 0, 0]), shape: [1, 2, 1, 2] };
    const rgba = channelToRgba(t, 0);
    expect([...rgba.slice(4, 7)]).toEqual([33, 102, 172]);
    expect(rgba[0]).toBeGreaterThan(200); // +1 of a ±2 scale: half-way to red
    expect([...channelToRgba(t, 1).slice(0, 3)]).toEqual([255, 255, 255]);
    expect(() => channelToRgba(t, 2)).toThrow(/out of range/);
    expect(maxAbs(t.data)).toBe(2);
  });

  it('shows equal pictures as white and differences as grey', () => {
    const a = { data: new Float32Array([0, 0, 0]), shape: [1, 3, 1, 1] };
    const b = { data: new Float32Array([0.5, 0.5, 0.5]), shape: [1, 3, 1, 1] };
    expect([...differenceToRgba(a, a)]).toEqual([255, 255, 255, 255]);
    expect(differenceToRgba(a, b)[0]).toBe(0);
  });
});
