/**
 * The runtimes behind one interface: `reference` (reference.ts, one image at a time), `wasm`
 * (WebAssembly SIMD; with threads > 1 a pool of worker threads, each running its share of a
 * batch on its own instance) and `native` (the addon's kernels on OpenMP threads). `auto` is
 * native where the addon is built, else wasm.
 */
import { Worker } from 'node:worker_threads';
import { size, type ExportModel } from '../model.js';
import { nativeBackend, nativeUnavailable, wasmBackend } from './backends.js';
import { BatchRuntime } from './batchRuntime.js';
import { ReferenceRuntime, type NeuronTally } from './reference.js';
import type { WorkerReply, WorkerSetup } from './worker.js';

export const RUNTIMES = ['auto', 'native', 'wasm', 'reference'] as const;
export type RuntimeChoice = (typeof RUNTIMES)[number];

export interface Runner {
  /** 'reference', 'wasm simd128, 2 threads', 'native avx512, 2 threads'. */
  readonly description: string;
  readonly kind: 'reference' | 'wasm' | 'native';
  readonly batch: number;
  readonly neuronLayers: string[];
  /** Bytes of weights resident in the runtime (per worker for the wasm pool); null for the reference. */
  readonly weightBytes: number | null;
  /** Logits [n, classes] of n ≤ batch normalised images [n, H, W, C]. */
  run(images: Float32Array, n: number): Promise<Float32Array>;
  tallies(): Map<string, NeuronTally>;
  resetTallies(): void;
  close(): Promise<void>;
}

export interface RunnerOptions {
  runtime?: RuntimeChoice;
  batch?: number;
  threads?: number;
  timesteps?: number;
}

function referenceRunner(model: ExportModel, T: number, batch: number): Runner {
  const rt = new ReferenceRuntime(model, T);
  const px = size([model.input.height, model.input.width, model.input.channels]);
  const C = model.numClasses;
  return {
    description: 'reference (JavaScript, one image at a time)',
    kind: 'reference',
    batch,
    neuronLayers: rt.neuronLayers,
    weightBytes: null,
    run: async (images, n) => {
      const out = new Float32Array(n * C);
      for (let i = 0; i < n; i++) out.set(rt.run(images.subarray(i * px, (i + 1) * px)), i * C);
      return out;
    },
    tallies: () => rt.tallies,
    resetTallies: () => rt.resetTallies(),
    close: async () => {},
  };
}

function inProcess(rt: BatchRuntime, description: string): Runner {
  return {
    description,
    kind: rt.backend.kind,
    batch: rt.batch,
    neuronLayers: rt.neuronLayers,
    weightBytes: rt.plan.weightBytes,
    run: async (images, n) => rt.run(images, n),
    tallies: () => rt.counts,
    resetTallies: () => rt.resetTallies(),
    close: async () => {},
  };
}

/** wasm on `threads` workers: a batch is split into contiguous shares, one per worker. */
async function wasmPool(model: ExportModel, T: number, batch: number, threads: number): Promise<Runner> {
  const share = Math.ceil(batch / threads);
  const setup: WorkerSetup = { model, timesteps: T, batch: share };
  const workers = Array.from({ length: threads }, () => new Worker(new URL('./worker.js', import.meta.url), { workerData: setup }));
  await Promise.all(workers.map((w) => new Promise<void>((ok, fail) => { w.once('message', () => ok()); w.once('error', fail); })));
  // Plan facts (layer order, weight bytes) from a plan compiled here too: the workers compile the same one.
  const probe = new BatchRuntime(model, T, 1, wasmBackend());
  const counts = new Map<string, NeuronTally>(probe.neuronLayers.map((id) => [id, { spikes: 0, steps: 0 }]));
  const sizes = probe.plan.tallies.map((t) => t.size);
  const px = probe.plan.input.size;
  const C = model.numClasses;
  const ask = (w: Worker, images: Float32Array, n: number): Promise<WorkerReply> =>
    new Promise((ok, fail) => {
      // One listener pair per request, both removed when either fires (no listeners pile up).
      const onMessage = (r: WorkerReply): void => {
        w.off('error', onError);
        ok(r);
      };
      const onError = (e: Error): void => {
        w.off('message', onMessage);
        fail(e);
      };
      w.once('message', onMessage);
      w.once('error', onError);
      w.postMessage({ images, n });
    });
  return {
    description: `wasm ${probe.backend.isa}, ${threads} worker threads`,
    kind: 'wasm',
    batch,
    neuronLayers: probe.neuronLayers,
    weightBytes: probe.plan.weightBytes,
    async run(images, n) {
      const parts: Promise<WorkerReply>[] = [];
      for (let k = 0, start = 0; start < n; k++, start += share) {
        const m = Math.min(share, n - start);
        parts.push(ask(workers[k], images.slice(start * px, (start + m) * px), m));
      }
      const replies = await Promise.all(parts);
      const out = new Float32Array(n * C);
      replies.forEach((r, k) => {
        out.set(r.logits, k * share * C);
        probe.neuronLayers.forEach((id, j) => {
          const c = counts.get(id)!;
          c.spikes += r.spikes[j];
          c.steps += sizes[j] * T * (r.logits.length / C);
        });
      });
      return out;
    },
    tallies: () => counts,
    resetTallies: () => counts.forEach((c) => ((c.spikes = 0), (c.steps = 0))),
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

export async function createRunner(model: ExportModel, o: RunnerOptions = {}): Promise<Runner> {
  const T = o.timesteps ?? model.timesteps;
  const batch = o.batch ?? 32;
  const threads = o.threads ?? 1;
  let choice = o.runtime ?? 'auto';
  if (choice === 'auto') choice = nativeUnavailable() === null ? 'native' : 'wasm';
  if (choice === 'reference') return referenceRunner(model, T, batch);
  if (choice === 'native') {
    const rt = new BatchRuntime(model, T, batch, nativeBackend(threads));
    return inProcess(rt, `native ${rt.backend.isa}, ${threads} thread${threads > 1 ? 's' : ''}`);
  }
  if (threads > 1 && batch > 1) return wasmPool(model, T, batch, Math.min(threads, batch));
  const rt = new BatchRuntime(model, T, batch, wasmBackend());
  return inProcess(rt, `wasm ${rt.backend.isa}, 1 thread`);
}
