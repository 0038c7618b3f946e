/**
 * One epoch of steps over the training split, in the order the epoch's RNG gives, from the
 * batch a mid-epoch checkpoint stopped at (its running sums carried in), until the split is done
 * or a stop is asked for between steps. Applies `train.onNonFinite` to each step's loss.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { DataSource } from './dataSource.js';
import { lastCheckpointNote } from '../runs/checkpoint.js';
import type { Rng } from '../util/rng.js';
import { learningRate } from './schedule.js';
import { trainStep, type Stepper } from './trainStep.js';

/** What an epoch sums over its steps (the metrics row's train columns); kept in a mid-epoch checkpoint. */
export interface EpochSums {
  lossSum: number;
  correct: number;
  seen: number;
  terms: Record<string, number>;
  twinCorrect: number;
}

export interface EpochProgress {
  /** `interrupted`: a stop was asked for before the split was done. */
  status: 'done' | 'interrupted';
  sums: EpochSums;
  /** Batches of the epoch done (skipped ones included). */
  batches: number;
  /** Images seen in this session (not before the checkpoint it resumed from). */
  seenNow: number;
  /** The learning rate of the last step. */
  lr: number;
  /** Optimisation steps over the run and batches skipped for a non-finite loss, after the epoch. */
  step: number;
  skipped: number;
}

export interface EpochRequest {
  cfg: Config;
  data: DataSource;
  stepper: Stepper;
  logger: Logger;
  checkpointsDir: string;
  /** 0-based epoch, its RNG, the batches already done and the sums carried from them. */
  epoch: number;
  rng: Rng;
  skipBatches: number;
  sums: EpochSums;
  step: number;
  skipped: number;
  stepsPerEpoch: number;
  onBatch: (done: number, stats: { loss: number; accuracy: number; imagesPerSecond: number }) => void;
  shouldStop?: () => boolean;
}

/** Lets the event loop run between steps, so SIGINT/SIGTERM handlers can ask us to stop. */
const yieldToEvents = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

export async function trainEpoch(r: EpochRequest): Promise<EpochProgress> {
  const { cfg, stepsPerEpoch } = r;
  const sums: EpochSums = { ...r.sums, terms: { ...r.sums.terms } };
  const seenAtStart = sums.seen;
  let { step, skipped } = r;
  let lr = 0;
  const t0 = performance.now();
  const it = r.data.batches('train', {
    batchSize: cfg.data.batchSize,
    shuffle: true,
    rng: r.rng,
    augment: cfg.data.augment,
    cropPadding: cfg.data.cropPadding,
    dropLast: true,
  });
  let b = 0;
  let status: EpochProgress['status'] = 'done';
  for (const batch of it) {
    if (b < r.skipBatches) {
      b += 1; // done before the checkpoint this run resumed from
      continue;
    }
    lr = learningRate(cfg.train.schedule, cfg.train.optimizer.lr, step, stepsPerEpoch, cfg.train.epochs);
    const n = await trainStep(r.stepper, batch, { step, lr, where: { epoch: r.epoch + 1, batch: b + 1 } });
    b += 1;
    if (Number.isFinite(n.loss)) {
      for (const [k, v] of Object.entries(n.terms)) sums.terms[k] = (sums.terms[k] ?? 0) + v * batch.size;
      sums.twinCorrect += n.twinHits;
      sums.lossSum += n.loss * batch.size;
      sums.correct += n.hits;
      sums.seen += batch.size;
      step += 1;
    } else if (cfg.train.onNonFinite === 'skip') {
      // The batch is done but is no step: nothing was applied or counted.
      skipped += 1;
      r.logger.warn({ epoch: r.epoch + 1, batch: b, step, loss: String(n.loss) }, 'non-finite loss: batch skipped');
    } else {
      const where = `epoch ${r.epoch + 1}, step ${step + 1}, batch ${b} of ${stepsPerEpoch}`;
      throw new Error(`loss is ${n.loss} at ${where}; run stopped, ${lastCheckpointNote(r.checkpointsDir)} (train.onNonFinite: skip skips such steps)`);
    }
    await yieldToEvents();
    if (Number.isFinite(n.loss)) {
      const secs = (performance.now() - t0) / 1000;
      r.onBatch(b, { loss: sums.lossSum / sums.seen, accuracy: sums.correct / sums.seen, imagesPerSecond: (sums.seen - seenAtStart) / secs });
    }
    if (r.shouldStop?.() && b < stepsPerEpoch) {
      status = 'interrupted';
      break;
    }
  }
  return { status, sums, batches: b, seenNow: sums.seen - seenAtStart, lr, step, skipped };
}
