/**
 * Symmetric uniform k-bit weights: s = max|W| / (2^(k−1) − 1), W ≈ s · round(W / s), the
 * integer codes in [−(2^(k−1) − 1), 2^(k−1) − 1] (the most negative code is left unused so the
 * grid is symmetric); rounding ties go to even, as in PyTorch. Per layer or per output channel.
 */
import * as tf from '@tensorflow/tfjs';
import { reduceAxes } from './ternary.js';

export function uniformWeight(w: tf.Tensor, bits: number, perChannel: boolean): tf.Tensor {
  return tf.tidy(() => {
    const levels = 2 ** (bits - 1) - 1;
    const s = tf.abs(w).max(reduceAxes(w.rank, perChannel)).div(levels);
    return tf.round(tf.divNoNan(w, s)).clipByValue(-levels, levels).mul(s);
  });
}
