/**
 * Learning-rate schedules, evaluated per optimisation step so that warmup and cosine decay are
 * smooth within an epoch. `progress` counts steps from 0 over `totalSteps`.
 *
 * - warmup: linear from lr/steps to lr over the first `warmupEpochs` (fractional allowed).
 * - cosine: minLr + (lr − minLr) · ½ (1 + cos(π p)), p the fraction of post-warmup steps done.
 * - step:   lr · γ^(number of milestones ≤ current epoch).
 * - constant.
 */
import type { ScheduleConfig } from '../config/schema.js';

export function learningRate(
  cfg: ScheduleConfig,
  baseLr: number,
  step: number,
  stepsPerEpoch: number,
  epochs: number,
): number {
  const warmSteps = Math.round(cfg.warmupEpochs * stepsPerEpoch);
  if (step < warmSteps) return (baseLr * (step + 1)) / warmSteps;
  const total = epochs * stepsPerEpoch;
  switch (cfg.name) {
    case 'constant':
      return baseLr;
    case 'step': {
      const epoch = Math.floor(step / stepsPerEpoch);
      const passed = cfg.milestones.filter((m) => m <= epoch).length;
      return baseLr * Math.pow(cfg.gamma, passed);
    }
    case 'cosine': {
      const span = Math.max(1, total - warmSteps);
      const p = Math.min(1, (step - warmSteps) / span);
      return cfg.minLr + (baseLr - cfg.minLr) * 0.5 * (1 + Math.cos(Math.PI * p));
    }
  }
}
