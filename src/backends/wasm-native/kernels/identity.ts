/**
 * A zero-copy Identity for wasm. tfjs clones every tensor a gradient function saves through the
 * Identity kernel; wasm's copies the data, which doubled the memory of saved activations in a
 * training step. Tensors are immutable (variables change by swapping their data id), so the
 * clone can share the data and count a reference, as the cpu backend's Identity does.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, type Info, type KernelArgs } from './wasmOps.js';

function identity(args: KernelArgs): Info {
  const backend = asWasm(args.backend);
  const { x } = args.inputs as { x: Info };
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: identity as unknown as tf.KernelFunc,
};
