/**
 * Kernels snn registers for the 'webgpu' backend (tfjs-backend-webgpu 4.22): the neuron kernels
 * of the engine boundary in WGSL (neuron.ts). tfjs-backend-webgpu has every gradient kernel
 * training uses (Conv2DBackpropFilter/Input, MaxPoolGrad, AvgPoolGrad, UnsortedSegmentSum,
 * DepthwiseConv2dNativeBackprop*); test/webgpu*.test.ts check them against the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import { webgpuNeuronKernels } from './neuron.js';

/** Kernel names snn registers for 'webgpu'. */
export const WEBGPU_SNN_KERNELS: readonly string[] = webgpuNeuronKernels.map((k) => k.kernelName);

/** Registers snn's WGSL kernels for 'webgpu', replacing any earlier registration. Idempotent. */
export function registerWebgpuTrainingKernels(): void {
  for (const config of webgpuNeuronKernels) {
    if (tf.getKernel(config.kernelName, 'webgpu') === config) continue;
    if (tf.getKernel(config.kernelName, 'webgpu') !== undefined) tf.unregisterKernel(config.kernelName, 'webgpu');
    tf.registerKernel(config);
  }
}
