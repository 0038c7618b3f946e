/**
 * The composed SNN kernels (standard tfjs ops only) for a backend that has no implementation of
 * its own: registered for each kernel of src/engine/snnKernels.ts the backend lacks.
 */
import * as tf from '@tensorflow/tfjs';
import { composedBatchNormKernels } from './batchNorm.js';
import { composedNeuronKernels } from './neuron.js';
import { composedOptimizerKernels } from './optimizer.js';

export function composedKernels(backendName: string): tf.KernelConfig[] {
  return [...composedNeuronKernels(backendName), ...composedBatchNormKernels(backendName), ...composedOptimizerKernels(backendName)];
}

/** Registers the composed kernel for every SNN kernel `backendName` does not have yet. */
export function registerMissingComposed(backendName: string): void {
  for (const config of composedKernels(backendName)) {
    if (tf.getKernel(config.kernelName, backendName) === undefined) tf.registerKernel(config);
  }
}
