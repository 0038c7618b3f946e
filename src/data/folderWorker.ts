/**
 * The decoding worker of an image folder (see folderReader.ts): decodes, crops and normalises
 * the batches of one epoch at a time, at most `depth` batches ahead of the consumer, and keeps
 * decoded images (at the decode side, before cropping) in memory up to a byte bound.
 *
 * The cache keeps the first images decoded until it is full and evicts nothing: under the
 * uniformly shuffled order of training every policy hits with probability cache / data set,
 * and this one never spends work on churn.
 *
 * Replies go through a MessagePort that the main thread reads synchronously
 * (receiveMessageOnPort); after each, the worker bumps a shared counter and notifies it, which
 * is what the main thread's Atomics.wait sleeps on.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { createRng } from '../util/rng.js';
import type { Decoded } from './folderDecode.js';
import type { FolderEpoch, FolderReply, FolderRequest, FolderWorkerData } from './folderReader.js';
import { drawTrain } from './folderTransforms.js';
import { normalisationTable } from './loader.js';

const data = workerData as FolderWorkerData;
const out: MessagePort = data.port;
const signal = new Int32Array(data.signal);

function reply(m: FolderReply, transfer: ArrayBuffer[] = []): void {
  out.postMessage(m, transfer);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

process.on('uncaughtException', (e) => reply({ type: 'error', id: -1, message: `image decoding worker: ${e.message}`, user: false }));

// sharp is loaded here rather than statically so that a failure to load it is reported too.
const decode = await import('./folderDecode.js').catch((e: Error) => {
  reply({ type: 'error', id: -1, message: `image decoding worker: cannot load sharp (${e.message})`, user: false });
  return null;
});
const cache = new Map<string, Decoded>();
let cached = 0;
const lut = normalisationTable(data.mean, data.std);

async function decoded(split: 'train' | 'test', idx: number): Promise<Decoded> {
  const key = `${split}:${idx}`;
  const hit = cache.get(key);
  if (hit) return hit;
  if (decode === null) throw new Error('sharp is not available');
  const d = await decode.decodeResized(data.files[split][idx], data.decodeSide, data.limits);
  if (cached + d.data.length <= data.cacheBytes) {
    // A copy that owns its bytes: sharp's buffer may be a slice of a larger pool.
    const own = { ...d, data: d.data.slice() };
    cache.set(key, own);
    cached += own.data.length;
  }
  return d;
}

async function sample(job: FolderEpoch, pos: number): Promise<Uint8Array> {
  if (decode === null) throw new Error('sharp is not available');
  const idx = job.order ? job.order[pos] : pos;
  const d = await decoded(job.split, idx);
  const size = data.imageSize;
  if (job.seeds === null) return decode.evalCrop(d, data.evalSide, size, false);
  const draw = drawTrain(d.height, d.width, { ...job.transform, scale: data.scale, ratio: data.ratio }, createRng(job.seeds[pos]));
  if (draw.box === null) return decode.evalCrop(d, data.evalSide, size, draw.flip);
  return decode.cropResize(d, draw.box, size, draw.flip);
}

async function build(job: FolderEpoch, b: number): Promise<FolderReply & { type: 'batch' }> {
  const start = b * job.batchSize;
  const n = Math.min(job.batchSize, job.count - start);
  const size = data.imageSize * data.imageSize * 3;
  const x = new Float32Array(n * size);
  const y = new Int32Array(n);
  const labels = data.labels[job.split];
  const pixels = await Promise.all(Array.from({ length: n }, (_, i) => sample(job, start + i)));
  for (let i = 0; i < n; i++) {
    const pos = start + i;
    y[i] = labels[job.order ? job.order[pos] : pos];
    const px = pixels[i];
    const o = i * size;
    for (let ch = 0; ch < 3; ch++) {
      const base = ch << 8;
      for (let p = ch; p < size; p += 3) x[o + p] = lut[base | px[p]];
    }
  }
  return { type: 'batch', id: job.id, b, x, y, size: n };
}

let job: FolderEpoch | null = null;
let credit = 0;
let next = 0;
let running = false;

/** Builds batches while the current job has credit; one at a time, each image in parallel. */
async function pump(): Promise<void> {
  if (running) return;
  running = true;
  try {
    while (job !== null && credit > 0 && next < job.total) {
      const current = job;
      const b = next++;
      credit--;
      try {
        const batch = await build(current, b);
        if (job === current) reply(batch, [batch.x.buffer as ArrayBuffer, batch.y.buffer as ArrayBuffer]);
      } catch (e) {
        const user = e instanceof Error && e.name === 'BadImageError';
        if (job === current) reply({ type: 'error', id: current.id, message: (e as Error).message, user });
        job = null;
      }
    }
  } finally {
    running = false;
  }
}

parentPort?.on('message', (m: FolderRequest) => {
  if (m.type === 'epoch') {
    job = m;
    credit = m.depth;
    next = 0;
  } else if (m.type === 'credit') {
    if (job?.id === m.id) credit++;
  } else if (job?.id === m.id) {
    job = null;
  }
  void pump();
});
