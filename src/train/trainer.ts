/**
 * The training loop: epochs of optimisation steps on the train split, an evaluation on the test
 * split, and after each epoch one metrics row, the `last` checkpoint (and `best` when test
 * accuracy improved) and summary.json.
 *
 * Resuming restores weights, BN statistics, optimizer state, the step count (and so the
 * schedule position) and the data RNG, so the resumed run computes what the uninterrupted run
 * would have, bit for bit on a deterministic backend.
 */
import * as tf from '@tensorflow/tfjs';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { batchCount } from '../data/loader.js';
import type { DataSource } from './dataSource.js';
import type { SpikingModel } from '../models/types.js';
import { createObjective, type Objective } from '../losses/objective.js';
import { createRng, restoreRng, type Rng } from '../util/rng.js';
import type { RunPaths } from '../runs/runFolder.js';
import { readMetrics, writeMetrics, type MetricsRow } from '../runs/metrics.js';
import { openEventLog } from '../runs/tensorboard.js';
import { pointLink, pruneCheckpoints, writeCheckpoint, type CheckpointData } from '../runs/checkpoint.js';
import { prefetch } from '../engine/hostReads.js';
import { createOptimizer, type Optimizer } from './optimizer.js';
import { loadModelTensors, modelTensors } from './checkpointModel.js';
import { evaluate, type EvalResult } from './evaluate.js';
import { metricsRow, writeRunSummary } from './runRecord.js';
import { trainEpoch } from './trainEpoch.js';
import { createStepper } from './trainStep.js';

/** What a user interface sees of training (a progress bar, or nothing). */
export interface Reporter {
  epochStart(epoch: number, epochs: number, batches: number): void;
  batch(done: number, stats: { loss: number; accuracy: number; imagesPerSecond: number }): void;
  epochEnd(row: MetricsRow): void;
}

export const silentReporter: Reporter = { epochStart: () => {}, batch: () => {}, epochEnd: () => {} };

export interface TrainState {
  /** Epochs completed. */
  epoch: number;
  step: number;
  /** Data RNG state at the start of epoch `epoch + 1`: replays that epoch's order and crops. */
  rng: [number, number, number, number];
  /** Batches of epoch `epoch + 1` already done (non-zero only in a mid-epoch checkpoint). */
  batch: number;
  /** Running sums of the partial epoch, so its metrics row comes out as if uninterrupted. */
  partial: { lossSum: number; correct: number; seen: number; terms?: Record<string, number>; twinCorrect?: number };
  bestAccuracy: number;
  bestEpoch: number;
  /** Seconds spent training, summed over resumed sessions. */
  seconds: number;
  /** Batches skipped for a non-finite loss (train.onNonFinite: skip), over the whole run. */
  skipped?: number;
}

export interface TrainOptions {
  config: Config;
  paths: RunPaths;
  data: DataSource;
  model: SpikingModel;
  logger: Logger;
  reporter?: Reporter;
  /** What is minimised (plain CE when absent); its twin/teacher come built. */
  objective?: Objective;
  /** A checkpoint to continue from. */
  resume?: CheckpointData;
  /** Polled between steps; true stops after the current step with a checkpoint. */
  shouldStop?: () => boolean;
  /** Extra fields for summary.json (backend, command line). */
  summaryExtra?: Record<string, unknown>;
  /** sha256 of the run's config.yaml, kept in each checkpoint's state.json (src/runs/runConfig.ts). */
  configSha256?: string;
}

export interface TrainResult {
  state: TrainState;
  status: 'completed' | 'interrupted';
  lastEval: EvalResult | null;
}

/** Seed of the data-order/augmentation stream, kept apart from the weight-init stream. */
export const dataSeed = (seed: number): number => (seed ^ 0x5bd1e995) >>> 0;

export async function train(o: TrainOptions): Promise<TrainResult> {
  const { config: cfg, paths, data, model, logger } = o;
  const reporter = o.reporter ?? silentReporter;
  const T = cfg.model.timesteps;
  const stepsPerEpoch = batchCount(data.count.train, cfg.data.batchSize, true);
  if (stepsPerEpoch === 0) {
    throw new Error(`data.batchSize ${cfg.data.batchSize} is larger than the training split (${data.count.train} samples)`);
  }
  const objective = o.objective ?? createObjective({ ...cfg.loss, mode: 'plain' }, model, {});
  const twin = objective.twin;
  const opt = createOptimizer(cfg.train.optimizer, objective.params);
  const stepper = createStepper(cfg, objective, opt);

  let state: TrainState = {
    epoch: 0,
    step: 0,
    rng: createRng(dataSeed(cfg.seed)).state(),
    batch: 0,
    partial: { lossSum: 0, correct: 0, seen: 0 },
    bestAccuracy: -1,
    bestEpoch: -1,
    seconds: 0,
  };
  let rows: MetricsRow[] = [];
  if (o.resume) {
    state = restore(o.resume, model, twin?.model ?? null, opt);
    rows = readMetrics(paths.metrics).filter((r) => Number(r.epoch) <= state.epoch);
    logger.info({ epoch: state.epoch, step: state.step }, 'resumed');
  }

  const summary = (status: string, ev: EvalResult | null): void =>
    writeRunSummary(
      paths.summary,
      cfg,
      model,
      { status, epochsDone: state.epoch, steps: state.step, skipped: state.skipped ?? 0, bestAccuracy: state.bestAccuracy, bestEpoch: state.bestEpoch, seconds: state.seconds, lossMode: objective.mode, lastEval: ev, rows },
      o.summaryExtra,
    );
  const save = (tag: string, best: boolean): Promise<void> =>
    saveCheckpoint(paths.checkpoints, tag, best, { model, twin: twin?.model ?? null, opt, state: { ...state, config: cfg.name, configSha256: o.configSha256 } });

  summary('running', null);
  const events = openEventLog(paths.dir, cfg, state.step, cfg.train.tensorboard);
  let lastEval: EvalResult | null = null;
  let status: TrainResult['status'] = 'completed';

  for (let epoch = state.epoch; epoch < cfg.train.epochs; epoch++) {
    const rng: Rng = restoreRng(state.rng);
    const t0 = performance.now();
    reporter.epochStart(epoch + 1, cfg.train.epochs, stepsPerEpoch);
    const p = state.partial;
    const e = await trainEpoch({
      cfg,
      data,
      stepper,
      logger,
      checkpointsDir: paths.checkpoints,
      epoch,
      rng,
      skipBatches: state.batch,
      sums: { lossSum: p.lossSum, correct: p.correct, seen: p.seen, terms: p.terms ?? {}, twinCorrect: p.twinCorrect ?? 0 },
      step: state.step,
      skipped: state.skipped ?? 0,
      stepsPerEpoch,
      onBatch: (done, stats) => reporter.batch(done, stats),
      shouldStop: o.shouldStop,
    });
    state.step = e.step;
    if (e.skipped > 0 || state.skipped !== undefined) state.skipped = e.skipped;
    if (e.status === 'interrupted') {
      // A mid-epoch checkpoint: the RNG state stays that of the epoch's start, so a resume
      // regenerates the same order and skips the batches already done.
      status = 'interrupted';
      state.batch = e.batches;
      state.partial = { ...e.sums };
      state.seconds += (performance.now() - t0) / 1000;
      await save(`epoch-${String(epoch + 1).padStart(4, '0')}-batch-${String(e.batches).padStart(6, '0')}`, false);
      logger.warn({ epoch: epoch + 1, batch: e.batches, step: state.step }, 'interrupted; checkpoint written');
      break;
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    const isLast = epoch + 1 === cfg.train.epochs;
    const doEval = isLast || (epoch + 1) % cfg.train.evalEvery === 0;
    const ev = doEval ? await evaluate(model, data, { timesteps: T, batchSize: cfg.data.testBatchSize }) : null;
    if (ev) lastEval = ev;
    const twinEv = doEval && twin ? await evaluate(twin.model, data, { timesteps: twin.timesteps, batchSize: cfg.data.testBatchSize }) : null;
    state.epoch = epoch + 1;
    state.rng = rng.state();
    state.batch = 0;
    state.partial = { lossSum: 0, correct: 0, seen: 0 };
    state.seconds += (performance.now() - t0) / 1000;
    const improved = ev !== null && ev.accuracy > state.bestAccuracy;
    if (improved && ev) {
      state.bestAccuracy = ev.accuracy;
      state.bestEpoch = epoch + 1;
    }
    const row = metricsRow(
      cfg,
      { epoch: epoch + 1, step: state.step, lr: e.lr, sums: e.sums, skipped: state.skipped ?? 0, hasTwin: twin !== null },
      ev,
      twinEv,
      { imagesPerSecond: e.seenNow / trainSeconds, epochSeconds: (performance.now() - t0) / 1000 },
    );
    rows.push(row);
    writeMetrics(paths.metrics, rows);
    events.epoch(row, ev?.firingRates ?? null, model.params);
    await save(`epoch-${String(epoch + 1).padStart(4, '0')}`, improved);
    logger.info({ ...row, firingRates: ev?.firingRates }, 'epoch');
    reporter.epochEnd(row);
    summary(isLast ? 'completed' : 'running', ev);
  }
  if (status === 'interrupted') summary('interrupted', lastEval);
  else if (lastEval === null) {
    // Resumed after the last epoch's checkpoint but before the run was marked completed (a kill
    // in between): nothing is left to train; evaluate once so the summary is whole.
    lastEval = await evaluate(model, data, { timesteps: T, batchSize: cfg.data.testBatchSize });
    summary('completed', lastEval);
  }
  opt.dispose();
  events.close();
  return { state, status, lastEval };
}

/** Loads a checkpoint's weights, twin and optimizer state, releases its tensors, returns its trainer state. */
function restore(ck: CheckpointData, model: SpikingModel, twin: SpikingModel | null, opt: Optimizer): TrainState {
  loadModelTensors(model, ck.weights, 'checkpoint');
  if (twin) {
    if (!ck.twin) throw new Error('the checkpoint has no twin network to resume TNA training with');
    loadModelTensors(twin, ck.twin, 'checkpoint twin');
  }
  const s = ck.state as unknown as TrainState;
  opt.load(s.step, ck.optimizer);
  // The checkpoint's tensors were copied into the variables; release them.
  tf.dispose([...ck.weights.values(), ...ck.optimizer.values(), ...(ck.twin?.values() ?? [])]);
  return { ...s, partial: { ...s.partial } };
}

/** Writes checkpoints/<tag> (weights, twin, optimizer state, trainer state), moves `last` (and `best`) to it, prunes old ones. */
async function saveCheckpoint(
  dir: string,
  tag: string,
  best: boolean,
  w: { model: SpikingModel; twin: SpikingModel | null; opt: Optimizer; state: Record<string, unknown> },
): Promise<void> {
  const optState = w.opt.state();
  const weights = modelTensors(w.model);
  const twinWeights = w.twin ? modelTensors(w.twin) : undefined;
  await prefetch([...weights.values(), ...(twinWeights?.values() ?? []), ...optState.tensors.values()]);
  writeCheckpoint(dir, tag, { weights, twin: twinWeights, optimizer: optState.tensors, state: w.state });
  for (const t of optState.tensors.values()) t.dispose();
  pointLink(dir, 'last', tag);
  if (best) pointLink(dir, 'best', tag);
  pruneCheckpoints(dir);
}
