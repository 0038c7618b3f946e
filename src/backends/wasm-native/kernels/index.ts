/**
 * Training kernels for the wasm backend: the gradients it lacks, a correct MaxPoolGrad and a
 * faster stride-1 Conv2DBackpropInput, all built on kernels wasm already has.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { conv2DBackpropFilterConfig } from './conv2DBackpropFilter.js';
import { makeConv2DBackpropInputConfig } from './conv2DBackpropInput.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './depthwiseConv2dNativeBackpropFilter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './depthwiseConv2dNativeBackpropInput.js';
import { maxPoolGradConfig } from './maxPoolGrad.js';
import { identityConfig } from './identity.js';
import { unsortedSegmentSumConfig } from './unsortedSegmentSum.js';
import { NATIVE_KERNEL_NAMES, onednnConvConfigs } from './onednnConv.js';
import type { NativeAddon } from '../native.js';
import { useNativeSnn } from '../snnSetup.js';

/** Kernel names this module (re)registers for wasm. */
export const WASM_TRAINING_KERNELS: readonly string[] = [
  tf.Conv2DBackpropFilter,
  tf.Conv2DBackpropInput,
  tf.MaxPoolGrad,
  tf.DepthwiseConv2dNativeBackpropFilter,
  tf.DepthwiseConv2dNativeBackpropInput,
  tf.UnsortedSegmentSum,
  tf.Identity,
];

let registered = false;

/** Replaces an existing wasm kernel; unregistering first avoids tfjs's "already registered" warning. */
function replace(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, 'wasm') !== undefined) tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel(config);
}

/**
 * Registers the kernels for backend 'wasm'. Idempotent, and safe before or after the backend
 * initialises (the kernel registry is global, looked up at each call).
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  const originalInput = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
  if (originalInput === undefined) throw new Error('wasm backend is not loaded: Conv2DBackpropInput is missing');
  replace(conv2DBackpropFilterConfig);
  replace(makeConv2DBackpropInputConfig(originalInput));
  replace(maxPoolGradConfig);
  replace(depthwiseConv2dNativeBackpropFilterConfig);
  replace(depthwiseConv2dNativeBackpropInputConfig);
  replace(unsortedSegmentSumConfig);
  replace(identityConfig);
  registered = true;
}

/** The wasm-only convolution kernels, kept when the oneDNN ones replace them. */
let wasmConvs: tf.KernelConfig[] | undefined;

/**
 * Switches wasm's Conv2D and its two gradients, AvgPool and its gradient, and the SNN kernels
 * (snnSetup.ts) between snn's addon (`addon`) and the wasm/JS kernels (`null`). Registers the
 * training kernels first if needed.
 */
export function setNativeConvolutions(addon: NativeAddon | null): void {
  registerWasmTrainingKernels();
  if (wasmConvs === undefined) {
    wasmConvs = NATIVE_KERNEL_NAMES.map((name) => {
      const config = tf.getKernel(name, 'wasm');
      if (config === undefined) throw new Error(`wasm kernel '${name}' is not registered`);
      return config;
    });
  }
  const originals = wasmConvs;
  // The replacements keep the originals' setup (wasm binds its C functions there, once, when the
  // backend initialises), so switching back later finds the original kernels ready.
  const configs = addon === null
    ? originals
    : onednnConvConfigs(addon).map((config, i) => ({ ...config, setupFunc: originals[i]?.setupFunc, disposeFunc: originals[i]?.disposeFunc }));
  for (const config of configs) replace(config);
  useNativeSnn(addon);
}
