/**
 * Binary weights (XNOR-Net style): W ≈ mean|W| · sign(W), with sign(0) = +1 so every weight is
 * ±1. Per layer or per output channel (last axis).
 */
import * as tf from '@tensorflow/tfjs';
import { reduceAxes } from './ternary.js';

export function binaryWeight(w: tf.Tensor, perChannel: boolean): tf.Tensor {
  return tf.tidy(() => {
    const alpha = tf.abs(w).mean(reduceAxes(w.rank, perChannel));
    const sign = tf.where(tf.greaterEqual(w, 0), tf.onesLike(w), tf.onesLike(w).neg());
    return sign.mul(alpha);
  });
}
