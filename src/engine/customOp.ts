/**
 * A typed wrapper of `tf.customGrad` for one-input ops: tfjs types the callback's arguments as
 * a union of tensors and the save function, which strict TypeScript cannot narrow by position.
 */
import * as tf from '@tensorflow/tfjs';

export interface CustomOpResult {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor;
}

export function customOp(f: (x: tf.Tensor, save: tf.GradSaveFunc) => CustomOpResult): (x: tf.Tensor) => tf.Tensor {
  const wrapped = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) =>
    f(args[0] as tf.Tensor, args[1] as tf.GradSaveFunc)) as Parameters<typeof tf.customGrad>[0]);
  return (x) => wrapped(x);
}

/**
 * Frees the gradient a custom op's backward function received, once it has computed its own.
 * tfjs keeps every intermediate gradient until the whole backward pass ends (they live in the
 * gradient tape's map and are disposed with its scope), so a deep network holds one gradient per
 * activation at the end. The gradient of an op's output is read only by that op's backward
 * function, so releasing it there is safe; the engine's later dispose of it is a no-op.
 */
export function releaseGradient(dy: tf.Tensor): void {
  dy.dispose();
}
