/**
 * Reading tensor values on the host. The cpu and wasm engines read synchronously
 * (`dataSync`); the WebGPU engine in Node cannot (tfjs-backend-webgpu's synchronous read needs
 * a browser's OffscreenCanvas, and WebGPU maps buffers only asynchronously). Code on the
 * training path reads through these helpers, which await the values: one wait per call on a
 * GPU, a resolved promise elsewhere.
 */
import * as tf from '@tensorflow/tfjs';

/** Whether `dataSync` works on the active backend. */
export function syncReadsWork(): boolean {
  return tf.getBackend() !== 'webgpu';
}

/** The first value of each tensor, read together. */
export async function readScalars(ts: readonly tf.Tensor[]): Promise<number[]> {
  // Where reads are synchronous, read so: tfjs's async data() costs a training step of the
  // quickstart ~25 % more on wasm (measured: 1,170–1,310 against 1,470–1,730 img/s).
  if (syncReadsWork()) return ts.map((t) => Number(t.dataSync()[0]));
  const values = await Promise.all(ts.map((t) => t.data()));
  return values.map((v) => Number(v[0]));
}

/**
 * Brings the tensors' values to the host ahead of synchronous code that reads them (the
 * WebGPU backend keeps a tensor's values once read, so a later `dataSync` returns them).
 */
export async function prefetch(ts: Iterable<tf.Tensor>): Promise<void> {
  if (syncReadsWork()) return;
  await Promise.all([...ts].map((t) => t.data()));
}
