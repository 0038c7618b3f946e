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
