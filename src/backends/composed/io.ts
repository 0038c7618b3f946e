/**
 * Kernel inputs as tensors, for kernels written with tfjs ops. The engine hands kernels the
 * tensors the caller passed to runKernel; anything else is a caller's mistake.
 */
import * as tf from '@tensorflow/tfjs';

export function input(inputs: tf.NamedTensorInfoMap, name: string): tf.Tensor {
  const t = inputs[name];
  if (!(t instanceof tf.Tensor)) throw new Error(`SNN kernel: input '${name}' is missing or not a tensor`);
  return t;
}

export function optionalInput(inputs: tf.NamedTensorInfoMap, name: string): tf.Tensor | null {
  return inputs[name] === undefined ? null : input(inputs, name);
}
