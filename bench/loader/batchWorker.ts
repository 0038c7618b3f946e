/**
 * The prefetch worker (see prefetch.ts): builds the batches of one epoch at a time from a plan
 * drawn on the main thread, staying at most `depth` batches ahead of the consumer, and hands
 * each batch's buffers over without a copy.
 */
import { parentPort } from 'node:worker_threads';
import { eventBatch, eventBatcher } from '../../src/data/eventLoader.js';
import { batchCount, imageBatch, imageBatcher } from '../../src/data/loader.js';
import type { JobMessage, WorkerReply } from './prefetch.js';

interface Job {
  id: number;
  next: number;
  total: number;
  build: (b: number) => WorkerReply & { type: 'batch' };
}

const port = parentPort;
if (port === null) throw new Error('batchWorker.js runs as a worker thread only');
let job: Job | null = null;

function produce(k: number): void {
  for (let j = 0; j < k && job !== null && job.next < job.total; j++) {
    const reply = job.build(job.next++);
    const transfer = [reply.x.buffer, reply.y.buffer] as ArrayBuffer[];
    port?.postMessage(reply, transfer);
  }
}

port.on('message', (m: JobMessage) => {
  try {
    if (m.type === 'cancel') {
      if (job?.id === m.id) job = null;
    } else if (m.type === 'credit') {
      if (job?.id === m.id) produce(1);
    } else if (m.kind === 'image') {
      const k = imageBatcher(m.set, m);
      job = {
        id: m.id,
        next: 0,
        total: batchCount(m.set.count, m.batchSize, m.dropLast),
        build: (b) => ({ type: 'batch', id: m.id, b, ...imageBatch(m.set, m.batchSize, m.epoch, b, k), timesteps: 0 }),
      };
      produce(m.depth);
    } else {
      const k = eventBatcher(m.set, m);
      job = {
        id: m.id,
        next: 0,
        total: batchCount(m.set.count, m.batchSize, m.dropLast),
        build: (b) => ({ type: 'batch', id: m.id, b, ...eventBatch(m.set, m.batchSize, m.epoch, b, k) }),
      };
      produce(m.depth);
    }
  } catch (e) {
    port.postMessage({ type: 'error', id: m.id, message: (e as Error).message } satisfies WorkerReply);
  }
});
