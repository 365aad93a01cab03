import { alphasCumprod, betaSchedule, snr, type BetaScheduleName } from '../../lib/diffusion/index';

/** A schedule as the figure offers it: diffusers' name plus the start/end its papers use. */
export interface SchedulePreset {
  id: BetaScheduleName;
  label: string;
  betaStart: number;
  betaEnd: number;
  /** Where the schedule comes from, for the legend. */
  origin: string;
}

export const SCHEDULE_PRESETS: readonly SchedulePreset[] = [
  { id: 'linear', label: 'linear', betaStart: 1e-4, betaEnd: 0.02, origin: 'DDPM (Ho et al., 2020)' },
  {
    id: 'scaled_linear',
    label: 'scaled_linear',
    betaStart: 0.00085,
    betaEnd: 0.012,
    origin: 'Stable Diffusion (Rombach et al., 2022)',
  },
  {
    id: 'squaredcos_cap_v2',
    label: 'cosine',
    // Cosine ignores start/end: it is defined through alpha-bar directly.
    betaStart: 1e-4,
    betaEnd: 0.02,
    origin: 'Improved DDPM (Nichol & Dhariwal, 2021)',
  },
  { id: 'sigmoid', label: 'sigmoid', betaStart: 1e-4, betaEnd: 0.02, origin: 'GeoDiff (Xu et al., 2022)' },
];

export const NUM_TRAIN_TIMESTEPS = 1000;

/** Per-timestep curves of one schedule. */
export interface ScheduleCurves {
  preset: SchedulePreset;
  betas: Float32Array;
  alphasCumprod: Float32Array;
  /** Natural log of SNR(t) = alpha-bar / (1 - alpha-bar). */
  logSnr: Float64Array;
}

export function computeCurves(preset: SchedulePreset): ScheduleCurves {
  const betas = betaSchedule(preset.id, NUM_TRAIN_TIMESTEPS, preset.betaStart, preset.betaEnd);
  const abar = alphasCumprod(betas);
  const ratio = snr(abar);
  const logSnr = Float64Array.from(ratio, (v) => Math.log(v));
  return { preset, betas, alphasCumprod: abar, logSnr };
}

/** The values the readout shows at timestep t. */
export interface CursorValues {
  id: BetaScheduleName;
  beta: number;
  alphaBar: number;
  logSnr: number;
  /** sqrt(alpha-bar): how much of x_0 is left in x_t. */
  signal: number;
  /** sqrt(1 - alpha-bar): the standard deviation of the noise in x_t. */
  noise: number;
}

export function valuesAt(curves: ScheduleCurves, t: number): CursorValues {
  const i = Math.min(NUM_TRAIN_TIMESTEPS - 1, Math.max(0, Math.round(t)));
  const alphaBar = curves.alphasCumprod[i];
  return {
    id: curves.preset.id,
    beta: curves.betas[i],
    alphaBar,
    logSnr: curves.logSnr[i],
    signal: Math.sqrt(alphaBar),
    noise: Math.sqrt(1 - alphaBar),
  };
}

/** Long-format rows for Plot: one row per (schedule, timestep). */
export interface CurveRow {
  schedule: string;
  t: number;
  beta: number;
  alphaBar: number;
  logSnr: number;
}

export function toRows(all: ScheduleCurves[]): CurveRow[] {
  const rows: CurveRow[] = [];
  for (const c of all) {
    for (let t = 0; t < NUM_TRAIN_TIMESTEPS; t++) {
      rows.push({
        schedule: c.preset.id,
        t,
        beta: c.betas[t],
        alphaBar: c.alphasCumprod[t],
        logSnr: c.logSnr[t],
      });
    }
  }
  return rows;
}

/** Compact number format for the readout: enough digits to see the schedules differ. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(2).replace('-', '−');
  return v.toFixed(4).replace('-', '−');
}
