/**
 * Twin network augmentation (Deckers et al. 2024): the SNN and a twin of the same
 * architecture, initialised independently, train together on
 *
 *   L = CE(z_snn, y) + CE(z_twin, y) + λ · (1/N) Σ_n Σ_k (z_snn,nk − z_twin,nk)²
 *
 * with gradients flowing into both networks through every term (the matching term pulls each
 * towards the other). Only the SNN is kept for inference.
 */
import type * as tf from '@tensorflow/tfjs';
import { crossEntropy } from './crossEntropy.js';
import { logitMatch } from './kd.js';

export interface TnaTerms {
  total: tf.Scalar;
  ce: tf.Scalar;
  twinCe: tf.Scalar;
  match: tf.Scalar;
}

export function tnaLoss(snn: tf.Tensor2D, twin: tf.Tensor2D, labels: tf.Tensor1D, lambda: number): TnaTerms {
  const ce = crossEntropy(snn, labels);
  const twinCe = crossEntropy(twin, labels);
  const match = logitMatch(snn, twin);
  return { total: ce.add(twinCe).add(match.mul(lambda)) as tf.Scalar, ce, twinCe, match };
}
