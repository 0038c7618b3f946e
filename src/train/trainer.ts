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
import { quantReport } from '../quant/report.js';
import { createRng, restoreRng, type Rng } from '../util/rng.js';
import type { RunPaths } from '../runs/runFolder.js';
import { writeJson } from '../runs/runFolder.js';
import { readMetrics, writeMetrics, type MetricsRow } from '../runs/metrics.js';
import { openEventLog } from '../runs/tensorboard.js';
import { lastCheckpointNote, pointLink, pruneCheckpoints, writeCheckpoint, type CheckpointData } from '../runs/checkpoint.js';
import { stepHook } from '../util/testHooks.js';
import { prefetch, readScalars } from '../engine/hostReads.js';
import { createOptimizer } from './optimizer.js';
import { learningRate } from './schedule.js';
import { evaluate, type EvalResult } from './evaluate.js';
import { estimateEnergy, type EnergyEstimate } from './energy.js';

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

export function modelTensors(model: SpikingModel): Map<string, tf.Tensor> {
  const m = new Map<string, tf.Tensor>();
  for (const [k, v] of model.params) m.set(k, v);
  for (const [k, v] of model.buffers) m.set(k, v);
  return m;
}

/** Copies checkpoint tensors into the model; every parameter and buffer must be present. */
export function loadModelTensors(model: SpikingModel, weights: Map<string, tf.Tensor>, source: string): void {
  for (const [k, v] of [...model.params, ...model.buffers]) {
    const w = weights.get(k);
    if (!w) throw new Error(`${source}: no tensor for ${k}; was it written by another architecture?`);
    if (w.shape.join('x') !== v.shape.join('x')) {
      throw new Error(`${source}: ${k} has shape [${w.shape}] but the model expects [${v.shape}]`);
    }
    v.assign(w);
  }
}

/** Scales the gradients to global norm `maxNorm` when larger; `squares` holds Σg² of each. */
function globalNormClip(grads: Map<string, tf.Tensor>, squares: readonly number[], maxNorm: number): Map<string, tf.Tensor> {
  const norm = Math.sqrt(squares.reduce((s, q) => s + q, 0));
  if (norm <= maxNorm) return grads;
  const k = maxNorm / (norm + 1e-6);
  return new Map([...grads].map(([n, g]) => [n, g.mul(k)]));
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const { config: cfg, paths, data, model, logger } = o;
  const reporter = o.reporter ?? silentReporter;
  const T = cfg.model.timesteps;
  const bs = cfg.data.batchSize;
  const stepsPerEpoch = batchCount(data.count.train, bs, true);
  if (stepsPerEpoch === 0) {
    throw new Error(`data.batchSize ${bs} is larger than the training split (${data.count.train} samples)`);
  }
  const objective = o.objective ?? createObjective({ ...cfg.loss, mode: 'plain' }, model, {});
  const twin = objective.twin;
  const opt = createOptimizer(cfg.train.optimizer, objective.params);
  const keyOf = new Map<string, string>([...objective.params].map(([k, v]) => [v.name, k]));
  const vars = [...objective.params.values()];

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
    loadModelTensors(model, o.resume.weights, 'checkpoint');
    if (twin) {
      if (!o.resume.twin) throw new Error('the checkpoint has no twin network to resume TNA training with');
      loadModelTensors(twin.model, o.resume.twin, 'checkpoint twin');
    }
    const s = o.resume.state as unknown as TrainState;
    opt.load(s.step, o.resume.optimizer);
    // The checkpoint's tensors were copied into the variables; release them.
    tf.dispose([...o.resume.weights.values(), ...o.resume.optimizer.values(), ...(o.resume.twin?.values() ?? [])]);
    state = { ...s, partial: { ...s.partial } };
    rows = readMetrics(paths.metrics).filter((r) => Number(r.epoch) <= s.epoch);
    logger.info({ epoch: s.epoch, step: s.step }, 'resumed');
  }

  const summary = (status: string, ev: EvalResult | null): void => {
    const q = quantReport(model);
    writeJson(paths.summary, {
      status,
      name: cfg.name,
      epochs: cfg.train.epochs,
      epochsDone: state.epoch,
      steps: state.step,
      skippedSteps: state.skipped ?? 0,
      bestAccuracy: state.bestAccuracy >= 0 ? state.bestAccuracy : null,
      bestEpoch: state.bestEpoch >= 0 ? state.bestEpoch : null,
      finalAccuracy: ev?.accuracy ?? (rows.length > 0 ? Number(rows[rows.length - 1].test_acc) : null),
      finalLoss: ev?.loss ?? null,
      firingRates: ev?.firingRates ?? null,
      meanFiringRate: ev?.meanFiringRate ?? null,
      parameters: [...model.params.values()].reduce((n, v) => n + v.size, 0),
      trainSeconds: state.seconds,
      lossMode: objective.mode,
      bits: cfg.quant.bits,
      modelSizeBits: q.modelSizeBits,
      floatSizeBits: q.floatSizeBits,
      quantLayers: q.layers,
      energy: ev ? energyOf(ev) : null,
      updated: new Date().toISOString(),
      ...o.summaryExtra,
    });
  };
  const energyOf = (ev: EvalResult): EnergyEstimate => estimateEnergy(model, { ...ev.firingRates, ...ev.inputRates }, T);

  const saveCheckpoint = async (tag: string, best: boolean): Promise<void> => {
    const optState = opt.state();
    const weights = modelTensors(model);
    const twinWeights = twin ? modelTensors(twin.model) : undefined;
    await prefetch([...weights.values(), ...(twinWeights?.values() ?? []), ...optState.tensors.values()]);
    writeCheckpoint(paths.checkpoints, tag, {
      weights,
      twin: twinWeights,
      optimizer: optState.tensors,
      state: { ...state, config: cfg.name, configSha256: o.configSha256 },
    });
    for (const t of optState.tensors.values()) t.dispose();
    pointLink(paths.checkpoints, 'last', tag);
    if (best) pointLink(paths.checkpoints, 'best', tag);
    pruneCheckpoints(paths.checkpoints);
  };

  summary('running', null);
  const events = openEventLog(paths.dir, cfg, state.step, cfg.train.tensorboard);
  let lastEval: EvalResult | null = null;
  let status: TrainResult['status'] = 'completed';

  for (let epoch = state.epoch; epoch < cfg.train.epochs; epoch++) {
    const rng: Rng = restoreRng(state.rng);
    const t0 = performance.now();
    reporter.epochStart(epoch + 1, cfg.train.epochs, stepsPerEpoch);
    let { lossSum, correct, seen } = state.partial;
    const termSums: Record<string, number> = { ...(state.partial.terms ?? {}) };
    let twinCorrect = state.partial.twinCorrect ?? 0;
    const skip = state.batch;
    const seenAtStart = seen;
    let lr = 0;
    const it = data.batches('train', {
      batchSize: bs,
      shuffle: true,
      rng,
      augment: cfg.data.augment,
      cropPadding: cfg.data.cropPadding,
      dropLast: true,
    });
    let b = 0;
    for (const batch of it) {
      if (b < skip) {
        b += 1; // done before the checkpoint this run resumed from
        continue;
      }
      lr = learningRate(cfg.train.schedule, cfg.train.optimizer.lr, state.step, stepsPerEpoch, cfg.train.epochs);
      // The step's tensors, then its numbers read in one wait (the WebGPU engine reads only
      // asynchronously), then the update.
      const step = tf.tidy(() => {
        const x = tf.tensor4d(batch.x, batch.shape);
        const y = tf.tensor1d(batch.y, 'int32');
        type Kept = { logits: tf.Tensor2D; twinLogits: tf.Tensor2D | null; terms: Record<string, tf.Scalar> };
        let kept: Kept | null = null;
        const { value, grads } = tf.variableGrads(() => {
          const out = objective.step(x, y, { training: true, timesteps: T, noiseSeed: (cfg.seed * 1000003 + state.step) >>> 0 });
          kept = {
            logits: tf.keep(out.logits),
            twinLogits: out.twinLogits ? tf.keep(out.twinLogits) : null,
            terms: Object.fromEntries(Object.entries(out.terms).map(([k, t]) => [k, tf.keep(t)])),
          };
          return out.total;
        }, vars);
        const k = kept as unknown as Kept;
        const hitsOf = (z: tf.Tensor2D): tf.Tensor => tf.sum(tf.cast(tf.equal(tf.argMax(z, 1), y), 'float32'));
        const hits = hitsOf(k.logits);
        const twinHits = k.twinLogits ? hitsOf(k.twinLogits) : tf.scalar(0);
        // tf.keep let the logits escape variableGrads' scope; released once counted.
        tf.dispose([k.logits, ...(k.twinLogits ? [k.twinLogits] : [])]);
        const squares = cfg.train.gradClip === null ? [] : Object.values(grads).map((g) => tf.sum(tf.square(g)));
        return { value, grads, squares, hits, twinHits, terms: k.terms };
      });
      const termNames = Object.keys(step.terms);
      const numbers = await readScalars([step.value, step.hits, step.twinHits, ...termNames.map((n) => step.terms[n]), ...step.squares]);
      const [lossRaw, hits, twinHits] = numbers;
      const terms = Object.fromEntries(termNames.map((n, i) => [n, numbers[3 + i]]));
      const loss = stepHook(lossRaw, { epoch: epoch + 1, batch: b + 1, step: state.step + 1 }); // SNN_TEST_* hooks
      const release = (): void => tf.dispose(step);
      if (!Number.isFinite(loss) && cfg.train.onNonFinite !== 'skip') {
        release();
        const where = `epoch ${epoch + 1}, step ${state.step + 1}, batch ${b + 1} of ${stepsPerEpoch}`;
        throw new Error(`loss is ${loss} at ${where}; run stopped, ${lastCheckpointNote(paths.checkpoints)} (train.onNonFinite: skip skips such steps)`);
      }
      if (Number.isFinite(loss)) {
        tf.tidy(() => {
          let byKey = new Map<string, tf.Tensor>();
          for (const [name, g] of Object.entries(step.grads)) byKey.set(keyOf.get(name) ?? name, g);
          if (cfg.train.gradClip !== null) byKey = globalNormClip(byKey, numbers.slice(3 + termNames.length), cfg.train.gradClip);
          opt.step(byKey, lr);
        });
      }
      release();
      if (!Number.isFinite(loss)) {
        // train.onNonFinite: skip. The batch is done but is no step: nothing was applied or counted.
        state.skipped = (state.skipped ?? 0) + 1;
        b += 1;
        logger.warn({ epoch: epoch + 1, batch: b, step: state.step, loss: String(loss) }, 'non-finite loss: batch skipped');
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (o.shouldStop?.() && b < stepsPerEpoch) {
          status = 'interrupted';
          break;
        }
        continue;
      }
      for (const [n, v] of Object.entries(terms)) termSums[n] = (termSums[n] ?? 0) + v * batch.size;
      twinCorrect += twinHits;
      state.step += 1;
      b += 1;
      // Let the event loop run between steps, so SIGINT/SIGTERM handlers can ask us to stop.
      await new Promise<void>((resolve) => setImmediate(resolve));
      lossSum += loss * batch.size;
      correct += hits;
      seen += batch.size;
      const secs = (performance.now() - t0) / 1000;
      reporter.batch(b, { loss: lossSum / seen, accuracy: correct / seen, imagesPerSecond: (seen - seenAtStart) / secs });
      if (o.shouldStop?.() && b < stepsPerEpoch) {
        status = 'interrupted';
        break;
      }
    }
    if (status === 'interrupted') {
      // A mid-epoch checkpoint: the RNG state stays that of the epoch's start, so a resume
      // regenerates the same order and skips the batches already done.
      state.batch = b;
      state.partial = { lossSum, correct, seen, terms: termSums, twinCorrect };
      state.seconds += (performance.now() - t0) / 1000;
      const tag = `epoch-${String(epoch + 1).padStart(4, '0')}-batch-${String(b).padStart(6, '0')}`;
      await saveCheckpoint(tag, false);
      logger.warn({ epoch: epoch + 1, batch: b, step: state.step }, 'interrupted; checkpoint written');
      break;
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    const isLast = epoch + 1 === cfg.train.epochs;
    const doEval = isLast || (epoch + 1) % cfg.train.evalEvery === 0;
    const ev = doEval
      ? await evaluate(model, data, { timesteps: T, batchSize: cfg.data.testBatchSize })
      : null;
    if (ev) lastEval = ev;
    const twinEv =
      doEval && twin
        ? await evaluate(twin.model, data, { timesteps: twin.timesteps, batchSize: cfg.data.testBatchSize })
        : null;
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
    const row: MetricsRow = {
      epoch: epoch + 1,
      step: state.step,
      lr,
      train_loss: lossSum / seen,
      train_acc: correct / seen,
      test_loss: ev ? ev.loss : '',
      test_acc: ev ? ev.accuracy : '',
      firing_rate: ev ? ev.meanFiringRate : '',
      ...Object.fromEntries(Object.entries(termSums).map(([n, v]) => [n, v / seen])),
      ...(twin ? { twin_train_acc: twinCorrect / seen, twin_test_acc: twinEv ? twinEv.accuracy : '' } : {}),
      ...(cfg.train.onNonFinite === 'skip' ? { skipped_steps: state.skipped ?? 0 } : {}),
      train_img_per_s: (seen - seenAtStart) / trainSeconds,
      epoch_seconds: (performance.now() - t0) / 1000,
    };
    rows.push(row);
    writeMetrics(paths.metrics, rows);
    events.epoch(row, ev?.firingRates ?? null, model.params);
    await saveCheckpoint(`epoch-${String(epoch + 1).padStart(4, '0')}`, improved);
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
