/**
 * Which SNN kernels wasm runs: with snn's addon the native ones and the host backward store;
 * without it the JS loops for the neuron (wasm's memory is host memory) and the composed
 * kernels for the rest.
 */
import * as tf from '@tensorflow/tfjs';
import { registerBackwardStore } from '../../engine/backwardStore.js';
import { SNN_KERNELS } from '../../engine/snnKernels.js';
import { registerMissingComposed } from '../composed/index.js';
import { neuronLoopKernels } from '../cpu/neuronLoops.js';
import { rewriteWasmId } from './heap.js';
import type { NativeAddon } from './native.js';
import { nativeSnnKernels } from './snnKernels.js';
import { hostStore } from './store.js';

export function useNativeSnn(addon: NativeAddon | null): void {
  for (const name of SNN_KERNELS) if (tf.getKernel(name, 'wasm') !== undefined) tf.unregisterKernel(name, 'wasm');
  const configs = addon === null ? neuronLoopKernels('wasm') : nativeSnnKernels(addon, rewriteWasmId);
  for (const config of configs) tf.registerKernel(config);
  registerMissingComposed('wasm');
  registerBackwardStore('wasm', addon === null ? null : hostStore());
}
