/**
 * Softmax cross-entropy of logits against integer labels, averaged over the batch:
 *   CE(z, y) = −(1/N) Σ_n log softmax(z_n)[y_n]
 * Built on logSoftmax (numerically stable) and a one-hot mask.
 */
import * as tf from '@tensorflow/tfjs';

export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const k = logits.shape[1];
  const onehot = tf.oneHot(labels, k).toFloat();
  return tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)))).div(logits.shape[0]) as tf.Scalar;
}
