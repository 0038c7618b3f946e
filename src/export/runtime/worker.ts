/**
 * One worker thread of the wasm runtime's pool (pool.ts): its own wasm instance and arena,
 * running the share of each batch the main thread sends it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ExportModel } from '../model.js';
import { wasmBackend } from './backends.js';
import { BatchRuntime } from './batchRuntime.js';

export interface WorkerSetup {
  model: ExportModel;
  timesteps: number;
  batch: number;
}

export interface WorkerReply {
  logits: Float32Array;
  /** Spikes of this run, per neuron layer in plan order. */
  spikes: number[];
}

const setup = workerData as WorkerSetup;
const rt = new BatchRuntime(setup.model, setup.timesteps, setup.batch, wasmBackend());
parentPort!.on('message', (msg: { images: Float32Array; n: number }) => {
  rt.resetTallies();
  const logits = rt.run(msg.images, msg.n);
  const reply: WorkerReply = { logits, spikes: rt.neuronLayers.map((id) => rt.counts.get(id)!.spikes) };
  parentPort!.postMessage(reply, [logits.buffer as ArrayBuffer]);
});
parentPort!.postMessage('ready');
