/**
 * Batches of an image folder, decoded by a worker thread (folderWorker.ts) ahead of the
 * training step, and handed to a synchronous consumer: the trainer iterates a plain Generator,
 * and sharp only decodes asynchronously, so the main thread waits for each batch with
 * Atomics.wait and takes it with receiveMessageOnPort. While the model works on batch b, the
 * worker decodes b + 1 … b + depth.
 *
 * Determinism: all of an epoch's randomness is drawn on the calling thread when `batches` is
 * called, as the in-memory loaders do: the permutation, then one 32-bit seed per position.
 * The worker derives a sample's crop and flip from its seed and the decoded size alone, so the
 * batches do not depend on timing, on the cache, or on how far a consumer iterates.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { DataConfig } from '../config/schema.js';
import { UserError } from '../util/errors.js';
import { permutation, type Rng } from '../util/rng.js';
import { evalResizeSide, type TrainTransform } from './folderTransforms.js';
import type { FolderIndex } from './imageFolder.js';
import { batchCount } from './loader.js';
import type { Batch } from './types.js';

export type FolderSplitName = 'train' | 'test';

/** Given to the worker once, at its start. */
export interface FolderWorkerData {
  port: MessagePort;
  signal: SharedArrayBuffer;
  files: Record<FolderSplitName, string[]>;
  labels: Record<FolderSplitName, Int32Array>;
  imageSize: number;
  decodeSide: number;
  evalSide: number;
  scale: [number, number];
  ratio: [number, number];
  cacheBytes: number;
  limits: { maxFileBytes: number; maxPixels: number };
  mean: number[];
  std: number[];
}

/** One epoch of one split; `seeds` null means the evaluation transform. */
export interface FolderEpoch {
  type: 'epoch';
  id: number;
  split: FolderSplitName;
  count: number;
  total: number;
  batchSize: number;
  order: Int32Array | null;
  seeds: Uint32Array | null;
  transform: Pick<TrainTransform, 'crop' | 'flip'>;
  depth: number;
}

export type FolderRequest = FolderEpoch | { type: 'credit'; id: number } | { type: 'cancel'; id: number };

export type FolderReply =
  | { type: 'batch'; id: number; b: number; x: Float32Array; y: Int32Array; size: number }
  | { type: 'error'; id: number; message: string; user: boolean };

export interface FolderBatchOptions {
  batchSize: number;
  shuffle: boolean;
  rng: Rng | null;
  /** Random-resized crop (else the evaluation centre crop) and random horizontal flip. */
  crop: boolean;
  flip: boolean;
  dropLast: boolean;
}

export interface FolderReader {
  count: Record<FolderSplitName, number>;
  /** The epoch's batches; its randomness is drawn by this call, before the first batch. */
  batches(split: FolderSplitName, o: FolderBatchOptions): Generator<Batch>;
  close(): Promise<void>;
}

/** No reply for this long means the worker is gone (it reports its own errors otherwise). */
const STALL_MS = 600_000;

export function openFolderReader(index: FolderIndex, cfg: DataConfig, mean: number[], std: number[]): FolderReader {
  const { port1, port2 } = new MessageChannel();
  const signal = new SharedArrayBuffer(4);
  const flag = new Int32Array(signal);
  const f = cfg.imagefolder;
  const evalSide = evalResizeSide(cfg.imageSize);
  const init: FolderWorkerData = {
    port: port2,
    signal,
    files: { train: index.train.files, test: index.test.files },
    labels: { train: index.train.labels, test: index.test.labels },
    imageSize: cfg.imageSize,
    decodeSide: f.resizeSide ?? evalSide,
    evalSide,
    scale: [f.scale[0], f.scale[1]],
    ratio: [f.ratio[0], f.ratio[1]],
    cacheBytes: Math.floor(f.cacheMB * 2 ** 20),
    limits: { maxFileBytes: Math.floor(f.maxFileMB * 2 ** 20), maxPixels: f.maxPixels },
    mean,
    std,
  };
  const worker = new Worker(new URL('./folderWorker.js', import.meta.url), { workerData: init, transferList: [port2] });
  worker.unref();
  port1.unref();
  let nextId = 0;

  function receive(id: number): FolderReply {
    let waited = 0;
    for (;;) {
      const seen = Atomics.load(flag, 0);
      const got = receiveMessageOnPort(port1);
      if (got !== undefined) {
        const m = got.message as FolderReply;
        if (m.id === id || m.id === -1) return m;
        continue; // a stale reply of a cancelled epoch
      }
      if (Atomics.wait(flag, 0, seen, 1000) === 'timed-out') {
        waited += 1000;
        if (waited >= STALL_MS) throw new Error(`image decoding worker: no batch for ${STALL_MS / 1000} s`);
      } else waited = 0;
    }
  }

  function* run(job: FolderEpoch): Generator<Batch> {
    try {
      worker.postMessage(job satisfies FolderRequest);
      for (let b = 0; b < job.total; b++) {
        const m = receive(job.id);
        if (m.type === 'error') throw m.user ? new UserError(m.message) : new Error(m.message);
        if (m.b !== b) throw new Error(`image decoding worker: batch ${m.b} arrived where ${b} was due`);
        worker.postMessage({ type: 'credit', id: job.id } satisfies FolderRequest);
        yield { x: m.x, y: m.y, size: m.size };
      }
    } finally {
      worker.postMessage({ type: 'cancel', id: job.id } satisfies FolderRequest);
    }
  }

  return {
    count: { train: index.train.files.length, test: index.test.files.length },
    batches(split, o) {
      if (!Number.isInteger(o.batchSize) || o.batchSize <= 0) throw new Error(`batchSize must be a positive integer, got ${o.batchSize}`);
      const random = o.shuffle || o.crop || o.flip;
      if (random && o.rng === null) throw new Error('shuffle and augment need an rng');
      const count = index[split].files.length;
      const order = o.shuffle && o.rng ? permutation(count, o.rng) : null;
      let seeds: Uint32Array | null = null;
      if ((o.crop || o.flip) && o.rng) {
        seeds = new Uint32Array(count);
        for (let i = 0; i < count; i++) seeds[i] = Math.floor(o.rng.next() * 2 ** 32);
      }
      const total = batchCount(count, o.batchSize, o.dropLast);
      const depth = Math.max(1, cfg.imagefolder.prefetch);
      return run({ type: 'epoch', id: ++nextId, split, count, total, batchSize: o.batchSize, order, seeds, transform: { crop: o.crop, flip: o.flip }, depth });
    },
    async close() {
      port1.close();
      await worker.terminate();
    },
  };
}
