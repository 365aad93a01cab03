import { describe, expect, it } from 'vitest';
import { paramName, restoreValue, type ControlSpec } from '../../src/lib/site/url-state';

const seed: ControlSpec = { name: 'seed', kind: 'number', min: 0, max: 4294967295, step: 1 };
const guidance: ControlSpec = { name: 'guidance', kind: 'number', min: 1, max: 8, step: 0.5 };

describe('figure settings read from a link', () => {
  it('names a parameter by figure and control', () => {
    expect(paramName('dit-sampler', 'seed')).toBe('dit-sampler.seed');
  });

  it('keeps numbers inside the limits as they are', () => {
    expect(restoreValue(seed, '42')).toEqual({ value: '42' });
    expect(restoreValue(guidance, '2.5')).toEqual({ value: '2.5' });
  });

  it('clamps numbers outside the limits and snaps them to the step, with a notice', () => {
    const high = restoreValue(guidance, '99');
    expect(high.value).toBe('8');
    expect(high.notice).toMatch(/“guidance” 99 is outside .* used 8/);
    expect(restoreValue(seed, '-5').value).toBe('0');
    expect(restoreValue(guidance, '2.7').value).toBe('2.5');
    expect(restoreValue(seed, '3.5').value).toBe('4');
  });

  it('drops what is not a number, with a notice', () => {
    for (const raw of ['abc', '', '1e999', 'NaN']) {
      const r = restoreValue(seed, raw);
      expect(r.value).toBeNull();
      expect(r.notice).toMatch(/not a number|outside/);
    }
  });

  it('accepts only the choices a menu offers', () => {
    const spec: ControlSpec = { name: 'scheduler', kind: 'choice', options: ['ddim', 'euler'] };
    expect(restoreValue(spec, 'euler')).toEqual({ value: 'euler' });
    expect(restoreValue(spec, '<script>')).toEqual({
      value: null,
      notice: "The link's “scheduler” “<script>” is not one of the choices; kept the default.",
    });
  });

  it('cuts long text and reads checkboxes as 0 or 1', () => {
    const prompt: ControlSpec = { name: 'prompt', kind: 'text', maxLength: 10 };
    expect(restoreValue(prompt, 'red heart')).toEqual({ value: 'red heart' });
    expect(restoreValue(prompt, 'a'.repeat(20)).value).toBe('a'.repeat(10));
    const box: ControlSpec = { name: 'rescale', kind: 'checkbox' };
    expect(restoreValue(box, '1').value).toBe('1');
    expect(restoreValue(box, 'yes').value).toBeNull();
  });

  it("clamps a step scrubber's link value to the steps this run recorded", () => {
    // A run of 6 steps leaves the scrubber at min 0, max 5; the link was made after a run of 50.
    const step: ControlSpec = { name: 'step', kind: 'number', min: 0, max: 5, step: 1 };
    expect(restoreValue(step, '3')).toEqual({ value: '3' });
    const late = restoreValue(step, '40');
    expect(late.value).toBe('5');
    expect(late.notice).toMatch(/“step” 40 is outside .* used 5/);
    expect(restoreValue(step, '-1').value).toBe('0');
  });

  it("reads a group of checkboxes as a set, in the figure's order, leaving out what it does not offer", () => {
    const spec: ControlSpec = { name: 'schedule', kind: 'set', options: ['linear', 'scaled_linear', 'cosine'] };
    expect(restoreValue(spec, 'cosine,linear')).toEqual({ value: 'linear,cosine' });
    expect(restoreValue(spec, '')).toEqual({ value: '' });
    const odd = restoreValue(spec, 'linear,sigmoid');
    expect(odd.value).toBe('linear');
    expect(odd.notice).toMatch(/“schedule” names “sigmoid”, which this figure does not offer/);
  });

  it('drops text that is not in the form a figure decodes, rather than guessing', () => {
    const mask: ControlSpec = { name: 'mask', kind: 'text', pattern: /^(?:left|[0-9a-f]{4})$/ };
    expect(restoreValue(mask, 'left')).toEqual({ value: 'left' });
    expect(restoreValue(mask, '0ff0')).toEqual({ value: '0ff0' });
    expect(restoreValue(mask, '0ff')).toEqual({
      value: null,
      notice: "The link's “mask” is not in a form this figure reads; kept the default.",
    });
  });
});
