/**
 * Tensors of the wasm backend written and read in place in the wasm heap (no dataSync copy out,
 * no tf.tensor copy back in), for the native kernels and the backward store of this folder.
 * `nativeHeap()` is null unless wasm is active with snn's addon loaded.
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
  /** No other tensor shares `t`'s data (a clone, an assign's source), so writing it in place is safe. */
  sole(t: tf.Tensor): boolean;
  /**
   * Call after writing `t`'s data in place: the wasm backend's XNNPACK kernels (MatMul, and
   * Conv2D where oneDNN does not take it) cache their operator, with the weights packed into
   * it, under the weight tensor's id, and would go on using the old values.
   */
  rewritten(t: tf.Tensor): void;
}

/**
 * The same memory under a new id: the C++ side's dispose_data drops the id and its cached
 * operators (the memory itself is freed only by the JS side, which this does not call).
 */
export function rewriteWasmId(backend: BackendWasm, t: tf.TensorInfo): void {
  const data = backend.dataIdMap.get(t.dataId);
  if (data === undefined) throw new Error('native op: tensor has no data on the wasm backend');
  const internals = backend as unknown as WasmInternals;
  internals.wasm.tfjs.disposeData(data.id);
  data.id = internals.dataIdNextNumber++;
  internals.wasm.tfjs.registerTensor(data.id, tf.util.sizeFromShape(t.shape), data.memoryOffset);
}

/** What `rewritten` needs of tfjs-backend-wasm 4.x beyond its typed API. */
interface WasmInternals {
  dataIdNextNumber: number;
  wasm: { tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void } };
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
    sole: (t) => backend.refCount(t.dataId) === 1,
    rewritten: (t) => rewriteWasmId(backend, t),
  };
}
