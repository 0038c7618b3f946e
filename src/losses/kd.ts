/**
 * Knowledge distillation from a frozen teacher (Hinton et al. 2015):
 *
 *   kl:  L = (1 − α) CE(z_s, y) + α τ² · (1/N) Σ_n KL( softmax(z_t,n/τ) ‖ softmax(z_s,n/τ) )
 *   mse: L = (1 − α) CE(z_s, y) + α · (1/N) Σ_n Σ_k (z_s,nk − z_t,nk)²
 *
 * The MSE variant uses the same logit-matching term as TNA, so that the two can be compared
 * with only the partner network changing (frozen teacher vs co-trained twin).
 */
import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from './crossEntropy.js';

export interface KdTerms {
  total: tf.Scalar;
  ce: tf.Scalar;
  match: tf.Scalar;
}

/** (1/N) Σ_n KL(p_t ‖ p_s) at temperature τ, from logits. */
export function klDivergence(student: tf.Tensor2D, teacher: tf.Tensor2D, temperature: number): tf.Scalar {
  const logPs = tf.logSoftmax(student.div(temperature));
  const logPt = tf.logSoftmax(teacher.div(temperature));
  return tf.sum(tf.exp(logPt).mul(logPt.sub(logPs))).div(student.shape[0]) as tf.Scalar;
}

/** (1/N) Σ_n Σ_k (a − b)²: the squared logit distance per image. */
export function logitMatch(a: tf.Tensor2D, b: tf.Tensor2D): tf.Scalar {
  return tf.sum(tf.squaredDifference(a, b)).div(a.shape[0]) as tf.Scalar;
}

export function kdLoss(
  student: tf.Tensor2D,
  teacher: tf.Tensor2D,
  labels: tf.Tensor1D,
  o: { kind: 'kl' | 'mse'; temperature: number; alpha: number },
): KdTerms {
  const ce = crossEntropy(student, labels);
  const match =
    o.kind === 'kl'
      ? klDivergence(student, teacher, o.temperature).mul(o.temperature * o.temperature)
      : logitMatch(student, teacher);
  const total = ce.mul(1 - o.alpha).add(match.mul(o.alpha)) as tf.Scalar;
  return { total, ce, match: match as tf.Scalar };
}
