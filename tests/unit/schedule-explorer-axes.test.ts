/**
 * The schedule explorer's axes hold every curve: each chart's y domain runs from its first tick to
 * its last and contains every value of every preset (cosine's log SNR reaches about −20 at t = 999).
 */
import { describe, expect, it } from 'vitest';
import { PANELS, chartRows, yAxis } from '../../src/components/schedule-explorer/charts';
import { SCHEDULE_PRESETS } from '../../src/components/schedule-explorer/model';

describe('schedule explorer axes', () => {
  const rows = chartRows(SCHEDULE_PRESETS.map((p) => p.id));

  for (const { key, type } of PANELS) {
    it(`${key}: every value of every schedule lies inside the labelled axis`, () => {
      const { domain, ticks } = yAxis(key);
      const [lo, hi] = domain;
      for (const row of rows) {
        const v = row[key];
        // A log axis has no place for 0 (cosine's beta never is; a cursor dot would be left out).
        if (type === 'log' && v <= 0) continue;
        expect(v, `${row.schedule} at t = ${row.t}`).toBeGreaterThanOrEqual(lo);
        expect(v, `${row.schedule} at t = ${row.t}`).toBeLessThanOrEqual(hi);
      }
      if (type === 'log') {
        // Plot ticks a log axis at the powers of ten: both ends are ones.
        for (const end of domain) expect(Math.log10(end)).toBe(Math.round(Math.log10(end)));
      } else {
        expect(ticks![0]).toBe(lo);
        expect(ticks!.at(-1)).toBe(hi);
      }
    });
  }

  it('the log SNR axis reaches below the cosine schedule at t = 999', () => {
    const cosine = rows.filter((r) => r.schedule === 'squaredcos_cap_v2');
    const lowest = Math.min(...cosine.map((r) => r.logSnr));
    expect(lowest).toBeLessThan(-15);
    expect(yAxis('logSnr').domain[0]).toBeLessThanOrEqual(lowest);
  });
});
