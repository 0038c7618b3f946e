/**
 * Throughput of the data loaders alone (no model): batches per second of the synchronous
 * loaders and of the prefetch worker, for image sets and for CIFAR10-DVS-shaped event frames,
 * and how much of a simulated training step the worker hides.
 *
 *   node dist/bench/loader/loaderBench.js [--json] [--seconds S]
 *
 * Image data: the shipped Fashion-MNIST subset (28x28x1) and synthetic CIFAR-sized images
 * (32x32x3); event data: synthetic frames shaped like the cifar10-dvs config (T=10, 48x48x2).
 * The data are made in memory, so disk speed does not enter.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { eventBatches, type EventBatchOptions } from '../../src/data/eventLoader.js';
import { loadIdxDataset } from '../../src/data/idx.js';
import { batches, type BatchOptions } from '../../src/data/loader.js';
import { createPrefetcher } from './prefetch.js';
import { packageRoot } from '../../src/util/paths.js';
import { makeSynthetic } from '../../src/data/synthetic.js';
import type { EventFrameSet, ImageSet } from '../../src/data/types.js';
import { createRng } from '../../src/util/rng.js';

export interface BenchRow {
  case: string;
  loader: 'sync' | 'worker';
  batchSize: number;
  batches: number;
  batchesPerSecond: number;
  samplesPerSecond: number;
}

function imageOpts(set: ImageSet, augment: BatchOptions['augment'], seed: number): BatchOptions {
  return {
    batchSize: 64,
    shuffle: true,
    rng: createRng(seed),
    augment,
    cropPadding: 4,
    mean: Array.from({ length: set.channels }, () => 0.5),
    std: Array.from({ length: set.channels }, () => 0.25),
    dropLast: false,
  };
}

function eventOpts(seed: number): EventBatchOptions {
  return { batchSize: 64, shuffle: true, rng: createRng(seed), augment: ['flip', 'roll'], cropPadding: 5, dropLast: false };
}

/** Synthetic frames: sparse counts, as integrated events are. */
function syntheticFrames(count: number, T: number, side: number): EventFrameSet {
  const frames = new Uint16Array(count * T * side * side * 2);
  const rng = createRng(7);
  for (let i = 0; i < frames.length; i++) if (rng.next() < 0.2) frames[i] = 1 + rng.int(6);
  return { frames, labels: Uint8Array.from({ length: count }, (_, i) => i % 10), count, timesteps: T, height: side, width: side, channels: 2, numClasses: 10 };
}

/** Repeats epochs until `seconds` have passed; the rate over whole batches. */
async function measure(name: string, loader: BenchRow['loader'], batchSize: number, seconds: number, epoch: () => Iterable<{ size: number }> | AsyncIterable<{ size: number }>): Promise<BenchRow> {
  let n = 0;
  let samples = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    for await (const b of epoch()) {
      n++;
      samples += b.size;
    }
  }
  const s = (performance.now() - start) / 1000;
  return { case: name, loader, batchSize, batches: n, batchesPerSecond: n / s, samplesPerSecond: samples / s };
}

/** Time for one epoch when each batch is followed by `stepMs` of busy main-thread work. */
async function withStep(stepMs: number, epoch: () => Iterable<unknown> | AsyncIterable<unknown>): Promise<number> {
  const start = performance.now();
  for await (const _ of epoch()) {
    const until = performance.now() + stepMs;
    while (performance.now() < until) {
      // a training step's worth of work on this thread
    }
  }
  return (performance.now() - start) / 1000;
}

export async function runLoaderBench(seconds = 2): Promise<{ rows: BenchRow[]; overlap: Record<string, number> }> {
  const fmnist = (await loadIdxDataset(join(packageRoot(), 'datasets', 'fashion-mnist-subset'))).train;
  const cifarLike = makeSynthetic({ classes: 10, train: 10000, test: 10, height: 32, width: 32, channels: 3, noise: 0.2 }, 1).train;
  const dvs = syntheticFrames(1000, 10, 48);
  const rows: BenchRow[] = [];
  const pf = createPrefetcher(4);
  try {
    rows.push(await measure('fashion-mnist 28x28x1, crop', 'sync', 64, seconds, () => batches(fmnist, imageOpts(fmnist, ['crop'], 1))));
    rows.push(await measure('fashion-mnist 28x28x1, crop', 'worker', 64, seconds, () => pf.images(fmnist, imageOpts(fmnist, ['crop'], 1))));
    rows.push(await measure('cifar-sized 32x32x3, crop+flip', 'sync', 64, seconds, () => batches(cifarLike, imageOpts(cifarLike, ['crop', 'flip'], 2))));
    rows.push(await measure('cifar-sized 32x32x3, crop+flip', 'worker', 64, seconds, () => pf.images(cifarLike, imageOpts(cifarLike, ['crop', 'flip'], 2))));
    rows.push(await measure('cifar10-dvs T=10 48x48x2, flip+roll', 'sync', 64, seconds, () => eventBatches(dvs, eventOpts(3))));
    rows.push(await measure('cifar10-dvs T=10 48x48x2, flip+roll', 'worker', 64, seconds, () => pf.events(dvs, eventOpts(3))));
    // One DVS epoch (16 batches) with a 20 ms step after each batch: the worker should hide the loader.
    const step = 20;
    const overlap = {
      stepMs: step,
      syncEpochSeconds: await withStep(step, () => eventBatches(dvs, eventOpts(4))),
      workerEpochSeconds: await withStep(step, () => pf.events(dvs, eventOpts(4))),
      stepsOnlySeconds: (Math.ceil(dvs.count / 64) * step) / 1000,
    };
    return { rows, overlap };
  } finally {
    await pf.close();
  }
}

async function cli(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const at = argv.indexOf('--seconds');
  const seconds = at >= 0 ? Number(argv[at + 1]) : 2;
  const { rows, overlap } = await runLoaderBench(seconds);
  if (json) {
    process.stdout.write(`${JSON.stringify({ rows, overlap }, null, 2)}\n`);
    return;
  }
  process.stdout.write('| case | loader | batch | batches/s | samples/s |\n|---|---|---|---|---|\n');
  for (const r of rows) {
    process.stdout.write(`| ${r.case} | ${r.loader} | ${r.batchSize} | ${r.batchesPerSecond.toFixed(1)} | ${r.samplesPerSecond.toFixed(0)} |\n`);
  }
  process.stdout.write(
    `\nDVS epoch with a ${overlap.stepMs} ms step per batch: sync ${overlap.syncEpochSeconds.toFixed(2)} s, ` +
      `worker ${overlap.workerEpochSeconds.toFixed(2)} s, steps alone ${overlap.stepsOnlySeconds.toFixed(2)} s\n`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  cli(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`loaderBench: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
