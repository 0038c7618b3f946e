/**
 * Multi-step LIF and IF neurons as one fused op over all T time steps (SpikingJelly's
 * `MultiStepLIFNode` convention; input and output shaped [T, ...]):
 *
 *   charge      H_t = V_{t-1} + (X_t - (V_{t-1} - V_reset)) / τ        (LIF)
 *               H_t = V_{t-1} + X_t                                     (IF: no leak)
 *   fire        S_t = Θ(H_t - V_th)                                     (Θ(0) = 1)
 *   hard reset  V_t = H_t (1 - S_t) + V_reset S_t
 *   soft reset  V_t = H_t - V_th S_t
 *   start       V_{-1} = V_reset
 *
 * Backward is back-propagation through time over the membrane recursion, with the surrogate
 * g'(H_t - V_th) in place of Θ':
 *
 *   ∂L/∂H_t     = ∂L/∂S_t · g'_t + ∂L/∂V_t · ∂V_t/∂H_t
 *   ∂V_t/∂H_t   = (1 - S_t) + (V_reset - H_t) g'_t     (hard)   or  1 - V_th g'_t   (soft)
 *                 where `detachReset` drops the g'_t term (no gradient through S_t in the reset)
 *   ∂L/∂X_t     = ∂L/∂H_t / τ            ∂L/∂V_{t-1} = ∂L/∂H_t (1 - 1/τ)     (LIF)
 *   ∂L/∂X_t     = ∂L/∂H_t                ∂L/∂V_{t-1} = ∂L/∂H_t               (IF)
 *
 * Why fused: composing this from tensor ops costs T × (about eight) small kernels forward and
 * more backward, each allocating a tensor; one pass over a typed array is far cheaper on CPU
 * engines. `lifComposed.ts` keeps the op-by-op version as the test oracle and for GPU engines.
 */
import * as tf from '@tensorflow/tfjs';
import type { NeuronConfig, SurrogateConfig } from '../config/schema.js';
import { customOp } from '../engine/customOp.js';
import { surrogateDerivative, type SurrogateFn } from './surrogate.js';
import { surrogateGradTensor } from './surrogateTensor.js';

export interface NeuronParams {
  type: 'lif' | 'if';
  tau: number;
  threshold: number;
  vReset: number;
  reset: 'hard' | 'soft';
  detachReset: boolean;
  /** g'(x) as a scalar function (reference and tests). */
  surrogate: SurrogateFn;
  /** The surrogate by name and α, for the vectorised g' of the backward pass. */
  surrogateConfig: SurrogateConfig;
}

export function neuronParams(cfg: NeuronConfig): NeuronParams {
  return {
    type: cfg.type,
    tau: cfg.tau,
    threshold: cfg.threshold,
    vReset: cfg.vReset,
    reset: cfg.reset,
    detachReset: cfg.detachReset,
    surrogate: surrogateDerivative(cfg.surrogate.name, cfg.surrogate.alpha),
    surrogateConfig: cfg.surrogate,
  };
}

/** Spike counts seen by a neuron layer, for firing-rate reports. */
export interface SpikeTally {
  spikes: number;
  neurons: number;
}

/**
 * The forward recursion on raw arrays. `x` holds T blocks of m values; returns the spikes and
 * the charged membrane H (kept for the backward pass).
 */
export function lifForwardArrays(
  x: Float32Array,
  T: number,
  p: NeuronParams,
): { s: Float32Array; h: Float32Array; count: number } {
  const m = x.length / T;
  const s = new Float32Array(x.length);
  const h = new Float32Array(x.length);
  const v = new Float32Array(m).fill(p.vReset);
  const { threshold: vth, vReset: vr } = p;
  const k = p.type === 'lif' ? 1 / p.tau : 1;
  const leak = p.type === 'lif';
  const hard = p.reset === 'hard';
  let count = 0;
  for (let t = 0; t < T; t++) {
    const o = t * m;
    for (let i = 0; i < m; i++) {
      const vi = v[i];
      const hi = leak ? vi + (x[o + i] - (vi - vr)) * k : vi + x[o + i];
      h[o + i] = hi;
      if (hi >= vth) {
        s[o + i] = 1;
        count++;
        v[i] = hard ? vr : hi - vth;
      } else {
        v[i] = hi;
      }
    }
  }
  return { s, h, count };
}

/**
 * BPTT on raw arrays: given ∂L/∂S (gs), the saved H and S, and the surrogate g'(H − V_th) at
 * every element (sg), returns ∂L/∂X. The surrogate comes in precomputed because it is the
 * costly part (an exp per element for sigmoid), which the engine's vectorised kernels do
 * several times faster than a scalar loop.
 */
export function lifBackwardArrays(
  gs: Float32Array,
  h: Float32Array,
  s: Float32Array,
  sgAll: Float32Array,
  T: number,
  p: NeuronParams,
): Float32Array {
  const m = gs.length / T;
  const gx = new Float32Array(gs.length);
  const gv = new Float32Array(m);
  const { vReset: vr, threshold: vth } = p;
  const leak = p.type === 'lif';
  const k = leak ? 1 / p.tau : 1;
  const carry = leak ? 1 - 1 / p.tau : 1;
  const hard = p.reset === 'hard';
  const detach = p.detachReset;
  for (let t = T - 1; t >= 0; t--) {
    const o = t * m;
    for (let i = 0; i < m; i++) {
      const hi = h[o + i];
      const si = s[o + i];
      const sg = sgAll[o + i];
      let dvdh: number;
      if (hard) dvdh = detach ? 1 - si : 1 - si + (vr - hi) * sg;
      else dvdh = detach ? 1 : 1 - vth * sg;
      const gh = gs[o + i] * sg + gv[i] * dvdh;
      gx[o + i] = gh * k;
      gv[i] = gh * carry;
    }
  }
  return gx;
}

/**
 * Multi-step neuron on a tensor shaped [T, ...]: returns spikes of the same shape.
 * `tally`, when given, receives the number of spikes and neuron-steps of this call.
 */
export function multiStepLif(x: tf.Tensor, p: NeuronParams, tally?: SpikeTally): tf.Tensor {
  const T = x.shape[0];
  const op = customOp((input, save) => {
    const data = input.dataSync() as Float32Array;
    const { s, h, count } = lifForwardArrays(data, T, p);
    if (tally) {
      tally.spikes += count;
      tally.neurons += data.length;
    }
    const spikes = tf.tensor(s, input.shape, 'float32');
    save([tf.tensor(h, input.shape, 'float32'), spikes]);
    return {
      value: spikes,
      gradFunc: (dy, saved) => {
        const [hT, sT] = saved;
        const sg = tf.tidy(() => surrogateGradTensor(hT.sub(p.threshold), p.surrogateConfig));
        const gx = lifBackwardArrays(
          dy.dataSync() as Float32Array,
          hT.dataSync() as Float32Array,
          sT.dataSync() as Float32Array,
          sg.dataSync() as Float32Array,
          T,
          p,
        );
        sg.dispose();
        return tf.tensor(gx, dy.shape, 'float32');
      },
    };
  });
  return op(x);
}
