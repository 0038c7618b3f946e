/**
 * The native fused ops' path: on the wasm backend with snn's addon loaded, tensors are written
 * and read in place in the wasm heap (no dataSync copy out, no tf.tensor copy back in).
 * `nativeHeap()` is null anywhere else, and callers keep their portable implementation.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeStatus, type NativeAddon } from './native.js';

export interface NativeHeap {
  addon: NativeAddon;
  /** A new float32 tensor whose contents the caller fills through `view` before anyone reads it. */
  alloc(shape: number[]): tf.Tensor;
  /** The tensor's bytes in the heap. Take views after the last `alloc`: heap growth detaches them. */
  view(t: tf.Tensor): Float32Array;
}

export function nativeHeap(): NativeHeap | null {
  if (tf.getBackend() !== 'wasm') return null;
  const { addon } = nativeStatus();
  if (addon === null) return null;
  const backend = tf.backend();
  if (!(backend instanceof BackendWasm)) return null;
  return {
    addon,
    alloc: (shape) => tf.engine().makeTensorFromTensorInfo(backend.makeOutput(shape, 'float32')),
    view: (t) => {
      if (t.dtype !== 'float32') throw new Error(`native op: expected float32, got ${t.dtype}`);
      return backend.typedArrayFromHeap(t) as Float32Array;
    },
  };
}
