/** The cpu backend's SNN kernels: the neuron as JS loops, the rest composed. */
import * as tf from '@tensorflow/tfjs';
import { registerMissingComposed } from '../composed/index.js';
import { neuronLoopKernels } from './neuronLoops.js';

export function registerCpuSnnKernels(): void {
  for (const config of neuronLoopKernels('cpu')) {
    if (tf.getKernel(config.kernelName, 'cpu') === undefined) tf.registerKernel(config);
  }
  registerMissingComposed('cpu');
}
