/**
 * The surrogate's smooth step g(u) and derivative g'(u) as tensor ops, α resolved (equations in
 * src/engine/snnKernels.ts and src/snn/surrogate.ts), for the composed neuron kernels and the
 * vectorised part of the JS-loop ones.
 */
import * as tf from '@tensorflow/tfjs';
import type { SurrogateName } from '../../engine/snnKernels.js';

/** g'(u). */
export function surrogateGrad(u: tf.Tensor, name: SurrogateName, a: number): tf.Tensor {
  switch (name) {
    case 'sigmoid': {
      const s = tf.sigmoid(u.mul(a));
      return s.mul(tf.scalar(1).sub(s)).mul(a);
    }
    case 'atan': {
      const k = u.mul((Math.PI / 2) * a);
      return tf.scalar(a / 2).div(k.square().add(1));
    }
    case 'rectangle':
      return tf.cast(tf.less(tf.abs(u), a / 2), 'float32').mul(1 / a);
    case 'triangle':
      return tf.relu(tf.scalar(a).sub(tf.abs(u))).mul(1 / (a * a));
  }
}

/** g(u), the smooth step whose derivative g' is: fires in 'smooth' mode (gradient checks). */
export function surrogateStep(u: tf.Tensor, name: SurrogateName, a: number): tf.Tensor {
  switch (name) {
    case 'sigmoid':
      return tf.sigmoid(u.mul(a));
    case 'atan':
      return tf.atan(u.mul((Math.PI / 2) * a)).div(Math.PI).add(0.5);
    case 'rectangle':
      return tf.clipByValue(u.div(a).add(0.5), 0, 1);
    case 'triangle': {
      const c = tf.clipByValue(u, -a, a);
      const below = c.add(a).square().div(2 * a * a);
      const above = tf.scalar(1).sub(tf.scalar(a).sub(c).square().div(2 * a * a));
      return tf.where(tf.less(c, 0), below, above);
    }
  }
}
