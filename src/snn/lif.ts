/**
 * Multi-step IF, LIF and PLIF neurons as one fused op over all T time steps (SpikingJelly's
 * multi-step convention; input and output shaped [T, ...]):
 *
 *   charge      H_t = V_{t-1} + (X_t - (V_{t-1} - V_reset)) / τ        (LIF, PLIF)
 *               H_t = V_{t-1} + X_t                                     (IF: no leak)
 *   fire        S_t = Θ(H_t - V_th)                                     (Θ(0) = 1)
 *   hard reset  V_t = H_t (1 - S_t) + V_reset S_t
 *   soft reset  V_t = H_t - V_th S_t
 *   start       V_{-1} = V_reset
 *
 * PLIF (Fang et al. 2021) learns 1/τ = sigmoid(w), one w per layer.
 *
 * Backward is back-propagation through time over the membrane recursion, with the surrogate
 * g'(H_t - V_th) in place of Θ':
 *
 *   ∂L/∂H_t     = ∂L/∂S_t · g'_t + ∂L/∂V_t · ∂V_t/∂H_t
 *   ∂V_t/∂H_t   = (1 - S_t) + (V_reset - H_t) g'_t     (hard)   or  1 - V_th g'_t   (soft)
 *                 where `detachReset` drops the g'_t term (no gradient through S_t in the reset)
 *   ∂L/∂X_t     = ∂L/∂H_t / τ            ∂L/∂V_{t-1} = ∂L/∂H_t (1 - 1/τ)     (LIF, PLIF)
 *   ∂L/∂X_t     = ∂L/∂H_t                ∂L/∂V_{t-1} = ∂L/∂H_t               (IF)
 *   ∂L/∂(1/τ)   = Σ_t ∂L/∂H_t (X_t - (V_{t-1} - V_reset)),   ∂(1/τ)/∂w = σ(w)(1 - σ(w))   (PLIF)
 *
 * The recursion runs as the engine's SnnNeuronForward / SnnNeuronBackward kernels
 * (src/engine/snnKernels.ts), which each backend implements: one fused loop on CPU engines and
 * natively on wasm with snn's addon, composed tensor ops elsewhere. `lifComposed.ts` keeps the
 * op-by-op version as the test oracle.
 *
 * `smooth` (for gradient checks only) replaces Θ by the surrogate's smooth step g in the
 * forward pass; the backward formulas above are then the exact gradient.
 */
import * as tf from '@tensorflow/tfjs';
import type { NeuronConfig, SurrogateConfig } from '../config/schema.js';
import type { NeuronAttrs } from '../engine/snnKernels.js';
import { multiStepNeuron } from '../engine/snnOps.js';
import { readScalars, syncReadsWork } from '../engine/hostReads.js';
import { SURROGATE_DEFAULT_ALPHA, surrogateDerivative, type SurrogateFn } from './surrogate.js';

export interface NeuronParams {
  type: 'lif' | 'if' | 'plif';
  tau: number;
  threshold: number;
  vReset: number;
  reset: 'hard' | 'soft';
  detachReset: boolean;
  /** g'(x) as a scalar function (reference and tests). */
  surrogate: SurrogateFn;
  /** The surrogate by name and α, for the vectorised g' of the backward pass. */
  surrogateConfig: SurrogateConfig;
  /** Gradient checks only: fire g(H - V_th) instead of Θ(H - V_th). */
  smooth?: boolean;
}

export function neuronParams(cfg: NeuronConfig, smooth = false): NeuronParams {
  if (cfg.type === 'relu') throw new Error('relu is not a spiking neuron');
  return {
    type: cfg.type,
    tau: cfg.tau,
    threshold: cfg.threshold,
    vReset: cfg.vReset,
    reset: cfg.reset,
    detachReset: cfg.detachReset,
    surrogate: surrogateDerivative(cfg.surrogate.name, cfg.surrogate.alpha),
    surrogateConfig: cfg.surrogate,
    smooth,
  };
}

/** Spike counts seen by a neuron layer, for firing-rate reports. */
export interface SpikeTally {
  spikes: number;
  neurons: number;
  /** Counts not yet read, on an engine that reads only asynchronously (`settleTally` adds them). */
  pending?: tf.Tensor[];
}

/** Adds the tally's pending counts to `spikes`. */
export async function settleTally(tally: SpikeTally): Promise<void> {
  const pending = tally.pending ?? [];
  tally.pending = [];
  for (const n of await readScalars(pending)) tally.spikes += n;
  tf.dispose(pending);
}

/** The kernels' attributes for a layer whose input holds T blocks in time order. */
export function neuronAttrs(p: NeuronParams, T: number): NeuronAttrs {
  const name = p.surrogateConfig.name;
  return {
    timesteps: T,
    leak: p.type !== 'if',
    reset: p.reset,
    detachReset: p.detachReset,
    threshold: p.threshold,
    vReset: p.vReset,
    surrogate: name,
    alpha: p.surrogateConfig.alpha ?? SURROGATE_DEFAULT_ALPHA[name],
    firing: p.smooth ? 'smooth' : 'heaviside',
  };
}

/** Adds the spikes of one call to `tally` (evaluation only: it reads the count back). */
function count(spikes: tf.Tensor, tally: SpikeTally | undefined): void {
  if (tally === undefined) return;
  const n = tf.tidy(() => tf.sum(tf.cast(spikes, 'int32')));
  tally.neurons += spikes.size;
  if (!syncReadsWork()) {
    (tally.pending ??= []).push(tf.keep(n));
    return;
  }
  tally.spikes += n.dataSync()[0];
  n.dispose();
}

/**
 * Multi-step IF/LIF on a tensor shaped [T, ...]: returns spikes of the same shape.
 * `tally`, when given, receives the number of spikes and neuron-steps of this call. `T` may
 * be given for any other shape whose values are T equal blocks in time order ([T·N, H, W, C]),
 * which spares a reshape (tfjs's Reshape keeps its input alive for the backward pass).
 */
export function multiStepLif(x: tf.Tensor, p: NeuronParams, tally?: SpikeTally, T: number = x.shape[0]): tf.Tensor {
  const spikes = multiStepNeuron(x, neuronAttrs(p, T), p.type === 'if' ? 1 : 1 / p.tau);
  count(spikes, tally);
  return spikes;
}

/**
 * Multi-step PLIF: like `multiStepLif` with 1/τ = sigmoid(w), w a scalar tensor that receives
 * a gradient.
 */
export function multiStepPlif(x: tf.Tensor, w: tf.Tensor, p: NeuronParams, tally?: SpikeTally, T: number = x.shape[0]): tf.Tensor {
  const spikes = multiStepNeuron(x, neuronAttrs(p, T), tf.sigmoid(w.reshape([])));
  count(spikes, tally);
  return spikes;
}
