/**
 * Registers the SNN kernels (src/engine/snnKernels.ts) of the active backend, once per backend:
 * its own implementations where this project has them (cpu, wasm with or without snn's addon),
 * the composed ones for every kernel still missing (any other backend: a GPU one, tfjs-node).
 * A backend registered by someone else before its first SNN op keeps its own kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { registerSnnGradients, SnnNeuronForward } from '../engine/snnKernels.js';
import { registerCpuSnnKernels } from './cpu/index.js';
import { registerMissingComposed } from './composed/index.js';
import { nativeStatus } from './wasm-native/native.js';
import { setNativeConvolutions } from './wasm-native/kernels/index.js';

const ready = new Set<string>();

export function ensureSnnKernels(): void {
  const name = tf.getBackend();
  if (ready.has(name)) return;
  registerSnnGradients();
  // wasm's SNN kernels follow its convolutions: native or not (tests switch them together).
  if (name === 'wasm' && tf.getKernel(SnnNeuronForward, 'wasm') === undefined) setNativeConvolutions(nativeStatus().addon);
  else if (name === 'cpu') registerCpuSnnKernels();
  registerMissingComposed(name);
  ready.add(name);
}
