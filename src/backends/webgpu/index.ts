/**
 * Kernels snn registers for the 'webgpu' backend (tfjs-backend-webgpu 4.22):
 * - the engine boundary's neuron kernels in WGSL (neuron.ts);
 * - MaxPoolGrad that routes tied maxima as the cpu backend does (maxPoolGrad.ts);
 * - Transpose, and the reductions Sum, Mean, Max, Min, wrapping the shipped ones, for 2-D
 *   transposes too large for the shipped dispatch (transpose.ts).
 * The other gradient kernels training uses (Conv2DBackpropFilter and Input, AvgPoolGrad,
 * UnsortedSegmentSum) ship with tfjs-backend-webgpu and equal the cpu backend's
 * (test/webgpuGradKernels.test.ts); training BatchNorm and the optimizer updates run as the
 * boundary's composed kernels (src/backends/composed).
 */
import * as tf from '@tensorflow/tfjs';
import { webgpuMaxPoolGradConfig } from './maxPoolGrad.js';
import { webgpuNeuronKernels } from './neuron.js';
import { webgpuReduceConfig, webgpuTransposeConfig } from './transpose.js';

const CONFIGS: readonly tf.KernelConfig[] = [...webgpuNeuronKernels, webgpuMaxPoolGradConfig];

/** Kernel names snn registers for 'webgpu'. */
export const WEBGPU_SNN_KERNELS: readonly string[] = CONFIGS.map((k) => k.kernelName);

let wrapped = false;

/** Replaces a shipped 'webgpu' kernel by `wrap` of it. */
function wrapShipped(name: string, wrap: (shipped: tf.KernelConfig) => tf.KernelConfig): void {
  const shipped = tf.getKernel(name, 'webgpu');
  if (shipped === undefined) throw new Error(`tfjs-backend-webgpu is not loaded: ${name} is missing`);
  tf.unregisterKernel(name, 'webgpu');
  tf.registerKernel(wrap(shipped));
}

/** Registers snn's WGSL kernels for 'webgpu', replacing any earlier registration. Idempotent. */
export function registerWebgpuTrainingKernels(): void {
  if (!wrapped) {
    wrapShipped(tf.Transpose, webgpuTransposeConfig);
    for (const name of [tf.Sum, tf.Mean, tf.Max, tf.Min]) wrapShipped(name, webgpuReduceConfig);
    wrapped = true;
  }
  for (const config of CONFIGS) {
    if (tf.getKernel(config.kernelName, 'webgpu') === config) continue;
    if (tf.getKernel(config.kernelName, 'webgpu') !== undefined) tf.unregisterKernel(config.kernelName, 'webgpu');
    tf.registerKernel(config);
  }
}
