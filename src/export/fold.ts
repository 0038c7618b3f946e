/**
 * BatchNorm folding (eval mode, running statistics). A conv followed by BN computes
 *
 *   y_o = s_o · conv(x, W)_o + b_o,   s_o = γ_o·k / √(σ²_o + ε),   b_o = β_o − μ_o s_o
 *
 * (k is tdBN's α·V_th, 1 for plain BN), which is one conv with per-output-channel weights and a
 * bias: W'_{…,o} = W_{…,o} s_o and b'_o = b_o. A ternary weight W = α c (codes c in {−1, 0, +1},
 * scale α per layer or per channel) folds into the scale alone: W' = (α s_o) c, so the codes do
 * not change and the layer still needs no weight multiplications, only one multiply per output
 * by its channel scale α s_o.
 *
 * Arrays are in the trainer's layouts, output channel last ([kh, kw, in, out], [in, out]).
 * Products are rounded to float32, as the engine stores them.
 */

export interface BnAffine {
  /** s_o per output channel. */
  scale: Float32Array;
  /** b_o per output channel. */
  shift: Float32Array;
}

/** s and b of a BN layer, the way the trainer computes them in eval mode. */
export function bnAffine(gamma: Float32Array, beta: Float32Array, mean: Float32Array, variance: Float32Array, eps: number, k = 1): BnAffine {
  const n = gamma.length;
  const scale = new Float32Array(n);
  const shift = new Float32Array(n);
  for (let o = 0; o < n; o++) {
    const g = Math.fround(gamma[o] * k);
    scale[o] = Math.fround(g * Math.fround(1 / Math.sqrt(Math.fround(variance[o] + eps))));
    shift[o] = Math.fround(beta[o] - Math.fround(mean[o] * scale[o]));
  }
  return { scale, shift };
}

/** W' = W · s per output channel (the last axis). */
export function foldFloatWeights(w: Float32Array, scale: Float32Array): Float32Array {
  const out = scale.length;
  if (w.length % out !== 0) throw new Error(`fold: ${w.length} weights do not split into ${out} output channels`);
  const r = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) r[i] = w[i] * scale[i % out];
  return r;
}

/** The per-channel scale of folded ternary codes: α (scalar or per channel) times s_o. */
export function foldTernaryScale(alpha: Float32Array, scale: Float32Array): Float32Array {
  const out = scale.length;
  if (alpha.length !== 1 && alpha.length !== out) throw new Error(`fold: ${alpha.length} ternary scales for ${out} channels`);
  const r = new Float32Array(out);
  for (let o = 0; o < out; o++) r[o] = (alpha.length === 1 ? alpha[0] : alpha[o]) * scale[o];
  return r;
}
