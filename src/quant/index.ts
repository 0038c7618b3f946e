/**
 * Weight quantisation by bit width: 32 float (none), 8 and 4 symmetric uniform, 2 ternary
 * (TWN), 1 binary; applied with the straight-through estimator in training, and to the same
 * latent float weights at evaluation (checkpoints keep the float weights).
 */
import type * as tf from '@tensorflow/tfjs';
import { binaryWeight } from './binary.js';
import { straightThrough } from './ste.js';
import { ternaryWeight } from './ternary.js';
import { uniformWeight } from './uniform.js';

export type Bits = 32 | 8 | 4 | 2 | 1;

export interface QuantSpec {
  bits: Bits;
  perChannel: boolean;
}

/** q(W) without the STE (for reports and export). */
export function quantizeValue(w: tf.Tensor, q: QuantSpec): tf.Tensor {
  switch (q.bits) {
    case 32:
      return w.clone();
    case 2:
      return ternaryWeight(w, q.perChannel);
    case 1:
      return binaryWeight(w, q.perChannel);
    default:
      return uniformWeight(w, q.bits, q.perChannel);
  }
}

/** The weight function a layer applies in its forward pass: identity, or q with the STE. */
export function weightFn(q: QuantSpec | null): ((w: tf.Tensor) => tf.Tensor) | null {
  if (q === null || q.bits === 32) return null;
  return straightThrough((w) => quantizeValue(w, q));
}

/** Bits a weight costs in storage: k per weight plus one float32 scale per layer or channel. */
export function storageBits(count: number, outChannels: number, q: QuantSpec | null): number {
  if (q === null || q.bits === 32) return 32 * count;
  return q.bits * count + 32 * (q.perChannel ? outChannels : 1);
}
