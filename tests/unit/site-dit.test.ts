import { describe, expect, it } from 'vitest';
import { bestCategory, ditFacts, ditVsUnet, weakestCategories, type DitFacts } from '../../src/lib/site/dit';

const run = (steps: number, minutes: number) => ({ steps, minutes, where: 'a CPU', inProgress: false });

function facts(overrides: Partial<DitFacts>): DitFacts {
  return {
    size: null,
    categoryNames: [],
    paperConfigs: [],
    judgeAgreement: { 1: 0.3, 2: 0.45, 4: 0.6 },
    judgePerCategory: { 4: { Flags: 1, Objects: 0.2, Activities: 0.3, Symbols: 0.9 } },
    training: run(40000, 100),
    unetBaseline: { judgeAgreement: { 1: 0.5, 4: 0.84 }, training: run(8000, 10) },
    inProgress: false,
    ...overrides,
  };
}

describe('the DiT against its UNet baseline', () => {
  it('compares at the largest guidance both were judged at', () => {
    const v = ditVsUnet(facts({}));
    expect(v).toMatchObject({ guidance: 4, stepRatio: 5, sameBudget: false, caughtUp: false });
    expect(v?.gap).toBeCloseTo(0.24, 10);
    expect(ditVsUnet(facts({ judgeAgreement: { 1: 0.5, 4: 0.84 } }))?.caughtUp).toBe(true);
  });

  it('says when both had the same wall time, as a CPU build of the recipes gives them', () => {
    expect(ditVsUnet(facts({ training: run(14000, 10) }))?.sameBudget).toBe(true);
  });

  it('makes no comparison without both runs and a shared guidance scale', () => {
    expect(ditVsUnet(facts({ unetBaseline: undefined }))).toBeNull();
    expect(ditVsUnet(facts({ training: undefined }))).toBeNull();
    expect(ditVsUnet(facts({ judgeAgreement: { 2: 0.4 } }))).toBeNull();
  });

  it('names the categories the judge recognises least often, weakest first', () => {
    expect(weakestCategories(facts({}), 4, 2)).toEqual(['Objects', 'Activities']);
    expect(weakestCategories(facts({}), 8, 2)).toEqual([]);
  });

  it('opens the sampler on the category the judge recognised most often, never on skin-tone swatches', () => {
    const f = facts({
      categoryNames: ['Activities', 'Component', 'Flags', 'Objects', 'People & Body'],
      judgePerCategory: {
        1: { Activities: 0.3, Component: 0.8, Flags: 0.6, Objects: 0.1, 'People & Body': 0.7 },
        4: { Activities: 0.4, Component: 1, Flags: 0.96, Objects: 0.2, 'People & Body': 0.96 },
      },
    });
    expect(bestCategory(f, 4)).toBe(4); // ties with Flags at guidance 4, ahead at guidance 1
    expect(bestCategory(f, 2)).toBe(0); // no per-category scores at guidance 2: the first category
  });

  it('reads per-category scores for every guidance scale the shipped manifest judged', () => {
    const shipped = ditFacts();
    expect(Object.keys(shipped.judgePerCategory).sort()).toEqual(Object.keys(shipped.judgeAgreement).sort());
    for (const [g, perCategory] of Object.entries(shipped.judgePerCategory)) {
      expect(Object.keys(perCategory).sort()).toEqual([...shipped.categoryNames].sort());
      const mean = Object.values(perCategory).reduce((a, b) => a + b, 0) / shipped.categoryNames.length;
      expect(mean).toBeCloseTo(shipped.judgeAgreement[Number(g)], 5); // 50 samples in every category
    }
    expect(ditVsUnet(shipped)).not.toBeNull();
  });
});
