/**
 * Batches built ahead of the training step on a worker thread, so that decoding, augmentation
 * and normalisation overlap with the model's work instead of adding to it.
 *
 * The results are the same batches, in the same order, as the synchronous `batches` /
 * `eventBatches`: the epoch's randomness is drawn on the calling thread when `images()` /
 * `events()` is called (so the rng advances exactly as with the synchronous loaders, and
 * resuming stays exact), and the worker only applies it. The data is shared with the worker
 * through a SharedArrayBuffer (copied there once per array if it is not on one already), and
 * each batch's buffers are transferred back, not copied.
 */
import { Worker } from 'node:worker_threads';
import type { EventBatch, EventBatchOptions } from '../../src/data/eventLoader.js';
import { checkEventOptions } from '../../src/data/eventLoader.js';
import { batchCount, check, planEpoch, type BatchOptions, type EpochPlan } from '../../src/data/loader.js';
import type { Batch, EventFrameSet, ImageSet } from '../../src/data/types.js';

interface EpochBase {
  type: 'epoch';
  id: number;
  batchSize: number;
  dropLast: boolean;
  augment: BatchOptions['augment'];
  epoch: EpochPlan;
  depth: number;
}

/** Main thread → worker. */
export type JobMessage =
  | (EpochBase & { kind: 'image'; set: ImageSet; mean: number[]; std: number[] })
  | (EpochBase & { kind: 'event'; set: EventFrameSet })
  | { type: 'credit'; id: number }
  | { type: 'cancel'; id: number };

/** Worker → main thread. `timesteps` is 0 for image batches. */
export type WorkerReply =
  | { type: 'batch'; id: number; b: number; x: Float32Array; y: Int32Array; size: number; timesteps: number }
  | { type: 'error'; id: number; message: string };

export interface Prefetcher {
  /** The epoch's image batches; the epoch's randomness is drawn by this call. */
  images(set: ImageSet, opts: BatchOptions): AsyncGenerator<Batch>;
  /** The epoch's event-frame batches ([T, N, H, W, 2]); randomness drawn by this call. */
  events(set: EventFrameSet, opts: EventBatchOptions): AsyncGenerator<EventBatch>;
  /** Stops the worker. */
  close(): Promise<void>;
}

const sharedCopies = new WeakMap<object, Uint8Array | Uint16Array>();

/** The same values on a SharedArrayBuffer (the array itself if it already is on one). */
function shared<T extends Uint8Array | Uint16Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const known = sharedCopies.get(a);
  if (known) return known as T;
  const copy = (a instanceof Uint16Array ? new Uint16Array(new SharedArrayBuffer(a.byteLength)) : new Uint8Array(new SharedArrayBuffer(a.byteLength))) as T;
  copy.set(a);
  sharedCopies.set(a, copy);
  return copy;
}

/**
 * A prefetcher with one worker that stays `depth` batches ahead. One epoch runs at a time;
 * starting another cancels the one before. Call `close()` when done.
 */
export function createPrefetcher(depth = 4): Prefetcher {
  const worker = new Worker(new URL('./batchWorker.js', import.meta.url));
  worker.unref();
  let nextId = 0;
  type Listener = (m: WorkerReply | Error) => void;
  const listeners = new Map<number, Listener>();
  worker.on('message', (m: WorkerReply) => listeners.get(m.id)?.(m));
  worker.on('error', (e: Error) => {
    for (const l of listeners.values()) l(e);
  });

  async function* run<B>(start: (id: number) => JobMessage, total: number, make: (m: WorkerReply & { type: 'batch' }) => B): AsyncGenerator<B> {
    const id = ++nextId;
    const ready = new Map<number, B>();
    let failure: Error | null = null;
    let wake: (() => void) | null = null;
    listeners.set(id, (m) => {
      if (m instanceof Error) failure = m;
      else if (m.type === 'error') failure = new Error(`prefetch worker: ${m.message}`);
      else ready.set(m.b, make(m));
      wake?.();
    });
    worker.ref();
    try {
      worker.postMessage(start(id));
      for (let b = 0; b < total; b++) {
        while (!ready.has(b)) {
          if (failure) throw failure;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = null;
        }
        const batch = ready.get(b) as B;
        ready.delete(b);
        worker.postMessage({ type: 'credit', id } satisfies JobMessage);
        yield batch;
      }
    } finally {
      listeners.delete(id);
      worker.postMessage({ type: 'cancel', id } satisfies JobMessage);
      if (listeners.size === 0) worker.unref();
    }
  }

  return {
    images(set, opts) {
      check(set, opts);
      const epoch = planEpoch(set.count, opts);
      const data = { ...set, images: shared(set.images) };
      const total = batchCount(set.count, opts.batchSize, opts.dropLast);
      return run(
        (id) => ({ type: 'epoch', kind: 'image', id, set: data, batchSize: opts.batchSize, dropLast: opts.dropLast, augment: [...opts.augment], mean: [...opts.mean], std: [...opts.std], epoch, depth }),
        total,
        (m) => ({ x: m.x, y: m.y, size: m.size }),
      );
    },
    events(set, opts) {
      checkEventOptions(set, opts);
      const epoch = planEpoch(set.count, opts);
      const data = { ...set, frames: shared(set.frames) };
      const total = batchCount(set.count, opts.batchSize, opts.dropLast);
      return run(
        (id) => ({ type: 'epoch', kind: 'event', id, set: data, batchSize: opts.batchSize, dropLast: opts.dropLast, augment: [...opts.augment], epoch, depth }),
        total,
        (m) => ({ x: m.x, y: m.y, size: m.size, timesteps: m.timesteps }),
      );
    },
    async close() {
      await worker.terminate();
    },
  };
}
