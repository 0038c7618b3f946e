/**
 * The surrogate derivatives of `surrogate.ts` as tensor ops, so that the engine's vectorised
 * kernels evaluate them (used by the fused LIF's backward pass and the composed LIF).
 */
import * as tf from '@tensorflow/tfjs';
import type { SurrogateConfig } from '../config/schema.js';
import { SURROGATE_DEFAULT_ALPHA } from './surrogate.js';

/** g'(x) built from tensor ops, for each surrogate of `surrogate.ts`. */
export function surrogateGradTensor(x: tf.Tensor, cfg: SurrogateConfig): tf.Tensor {
  const a = cfg.alpha ?? SURROGATE_DEFAULT_ALPHA[cfg.name];
  switch (cfg.name) {
    case 'sigmoid': {
      const s = tf.sigmoid(x.mul(a));
      return s.mul(tf.scalar(1).sub(s)).mul(a);
    }
    case 'atan': {
      const k = x.mul((Math.PI / 2) * a);
      return tf.scalar(a / 2).div(k.square().add(1));
    }
    case 'rectangle':
      return tf.cast(tf.less(tf.abs(x), a / 2), 'float32').mul(1 / a);
    case 'triangle':
      return tf.relu(tf.scalar(a).sub(tf.abs(x).mul(a * a)));
  }
}

