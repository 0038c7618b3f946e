/**
 * Kernels snn registers for the 'webgpu' backend (tfjs-backend-webgpu 4.22): the neuron kernels
 * of the engine boundary in WGSL (neuron.ts), and a MaxPoolGrad that breaks ties as the cpu
 * backend does (maxPoolGrad.ts). The other gradient kernels training uses (Conv2DBackpropFilter
 * and Input, AvgPoolGrad, UnsortedSegmentSum) ship with tfjs-backend-webgpu and equal the cpu
 * backend's (test/webgpuGradKernels.test.ts); the other SNN kernels (training BatchNorm, the
 * optimizer updates) run composed from tfjs ops (src/backends/composed).
 */
import * as tf from '@tensorflow/tfjs';
import { webgpuMaxPoolGradConfig } from './maxPoolGrad.js';
import { webgpuNeuronKernels } from './neuron.js';

const CONFIGS: readonly tf.KernelConfig[] = [...webgpuNeuronKernels, webgpuMaxPoolGradConfig];

/** Kernel names snn registers for 'webgpu'. */
export const WEBGPU_SNN_KERNELS: readonly string[] = CONFIGS.map((k) => k.kernelName);

/** Registers snn's WGSL kernels for 'webgpu', replacing any earlier registration. Idempotent. */
export function registerWebgpuTrainingKernels(): void {
  for (const config of CONFIGS) {
    if (tf.getKernel(config.kernelName, 'webgpu') === config) continue;
    if (tf.getKernel(config.kernelName, 'webgpu') !== undefined) tf.unregisterKernel(config.kernelName, 'webgpu');
    tf.registerKernel(config);
  }
}
