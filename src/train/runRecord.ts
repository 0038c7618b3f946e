/**
 * What a run records of its training: one metrics.csv row per epoch and summary.json, the file
 * `snn runs`, sweeps and scripts read (status, best and final accuracy, firing rates, model size,
 * energy per image).
 */
import type { Config } from '../config/schema.js';
import type { SpikingModel } from '../models/types.js';
import { quantReport } from '../quant/report.js';
import type { MetricsRow } from '../runs/metrics.js';
import { writeJson } from '../runs/runFolder.js';
import { estimateEnergy } from './energy.js';
import type { EvalResult } from './evaluate.js';
import type { EpochSums } from './trainEpoch.js';

/** The metrics row of a finished epoch: train sums, test evaluation (if it ran), twin, speed. */
export function metricsRow(
  cfg: Config,
  e: { epoch: number; step: number; lr: number; sums: EpochSums; skipped: number; hasTwin: boolean },
  ev: EvalResult | null,
  twinEv: EvalResult | null,
  speed: { imagesPerSecond: number; epochSeconds: number },
): MetricsRow {
  const { sums } = e;
  return {
    epoch: e.epoch,
    step: e.step,
    lr: e.lr,
    train_loss: sums.lossSum / sums.seen,
    train_acc: sums.correct / sums.seen,
    test_loss: ev ? ev.loss : '',
    test_acc: ev ? ev.accuracy : '',
    firing_rate: ev ? ev.meanFiringRate : '',
    ...Object.fromEntries(Object.entries(sums.terms).map(([n, v]) => [n, v / sums.seen])),
    ...(e.hasTwin ? { twin_train_acc: sums.twinCorrect / sums.seen, twin_test_acc: twinEv ? twinEv.accuracy : '' } : {}),
    ...(cfg.train.onNonFinite === 'skip' ? { skipped_steps: e.skipped } : {}),
    train_img_per_s: speed.imagesPerSecond,
    epoch_seconds: speed.epochSeconds,
  };
}

export interface SummaryFacts {
  status: string;
  epochsDone: number;
  steps: number;
  skipped: number;
  /** -1 while no epoch was evaluated. */
  bestAccuracy: number;
  bestEpoch: number;
  seconds: number;
  lossMode: string;
  /** The last evaluation of this session, and the rows so far (the final accuracy of a resumed, finished run). */
  lastEval: EvalResult | null;
  rows: readonly MetricsRow[];
}

/** Writes summary.json (atomically); `extra` adds the session's fields (backend, command line). */
export function writeRunSummary(file: string, cfg: Config, model: SpikingModel, f: SummaryFacts, extra: Record<string, unknown> = {}): void {
  const q = quantReport(model);
  const ev = f.lastEval;
  writeJson(file, {
    status: f.status,
    name: cfg.name,
    epochs: cfg.train.epochs,
    epochsDone: f.epochsDone,
    steps: f.steps,
    skippedSteps: f.skipped,
    bestAccuracy: f.bestAccuracy >= 0 ? f.bestAccuracy : null,
    bestEpoch: f.bestEpoch >= 0 ? f.bestEpoch : null,
    finalAccuracy: ev?.accuracy ?? (f.rows.length > 0 ? Number(f.rows[f.rows.length - 1].test_acc) : null),
    finalLoss: ev?.loss ?? null,
    firingRates: ev?.firingRates ?? null,
    meanFiringRate: ev?.meanFiringRate ?? null,
    parameters: [...model.params.values()].reduce((n, v) => n + v.size, 0),
    trainSeconds: f.seconds,
    lossMode: f.lossMode,
    bits: cfg.quant.bits,
    modelSizeBits: q.modelSizeBits,
    floatSizeBits: q.floatSizeBits,
    quantLayers: q.layers,
    energy: ev ? estimateEnergy(model, { ...ev.firingRates, ...ev.inputRates }, cfg.model.timesteps) : null,
    updated: new Date().toISOString(),
    ...extra,
  });
}
