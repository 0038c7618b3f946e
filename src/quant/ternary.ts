/**
 * Ternary weights, TWN (Li, Zhang and Liu 2016, "Ternary Weight Networks"):
 *
 *   Δ = 0.7 · mean|W|                      threshold
 *   c_i = sign(W_i) · [|W_i| > Δ]           codes in {−1, 0, +1}
 *   α = mean |W_i| over {i : |W_i| > Δ}     scale (0 when no weight passes Δ)
 *   W ≈ α c
 *
 * Per layer (one Δ and α for the tensor) or per output channel (the last axis of conv
 * [kh, kw, in, out] and linear [in, out] weights: one Δ and α per output).
 */
import * as tf from '@tensorflow/tfjs';

export interface Ternary {
  /** {−1, 0, +1}, the weight's shape. */
  codes: tf.Tensor;
  /** α: a scalar, or [out] per channel. */
  scale: tf.Tensor;
  /** Δ, shaped like scale. */
  threshold: tf.Tensor;
}

/** Axes a scale is shared over: all (per layer) or all but the last (per output channel). */
export const reduceAxes = (rank: number, perChannel: boolean): number[] =>
  Array.from({ length: perChannel ? rank - 1 : rank }, (_, i) => i);

export function ternarize(w: tf.Tensor, perChannel: boolean): Ternary {
  return tf.tidy(() => {
    const axes = reduceAxes(w.rank, perChannel);
    const abs = tf.abs(w);
    const threshold = abs.mean(axes).mul(0.7);
    const mask = tf.cast(tf.greater(abs, threshold), 'float32');
    const codes = tf.sign(w).mul(mask);
    const count = mask.sum(axes);
    const scale = tf.divNoNan(abs.mul(mask).sum(axes), count);
    return { codes, scale, threshold };
  });
}

/** α c, broadcast back to the weight's shape. */
export function ternaryWeight(w: tf.Tensor, perChannel: boolean): tf.Tensor {
  return tf.tidy(() => {
    const t = ternarize(w, perChannel);
    return t.codes.mul(t.scale);
  });
}
