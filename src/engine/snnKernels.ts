/**
 * The engine boundary: the SNN operations as tfjs kernels, one name each, which every backend
 * implements (src/backends/<backend>/) and registers in tfjs's kernel registry
 * (`tf.registerKernel({ kernelName, backendName, kernelFunc })`). Model, neuron, loss and
 * training code call them only through src/engine/snnOps.ts, never a backend module. A
 * backend without its own implementation gets the composed one (src/backends/composed/,
 * standard tfjs ops only, no reads back to the host).
 *
 * Conventions, for every kernel below:
 * - all tensors are float32; a kernel never reads tensor values on the host unless its backend
 *   keeps them there (cpu, wasm);
 * - attributes are numbers, booleans or strings only (a GPU kernel puts them in a uniform);
 * - inputs and outputs are listed in order; an output listed as [A, B] is returned as an array;
 * - names and signatures are stable: a change here is a change for every backend.
 *
 * ---------------------------------------------------------------------------------------------
 * SnnNeuronForward — multi-step IF/LIF/PLIF neuron over T time steps (SpikingJelly's multi-step
 * convention)
 *   inputs  x      [T·…]  any shape whose size is T·m, the T blocks of m values in time order
 *                         ([T, N, …] or time folded into the batch, [T·N, H, W, C])
 *           decay  []     k = 1/τ (LIF; PLIF: sigmoid(w)); read only when `leak`
 *   attrs   NeuronAttrs
 *   outputs [s, h]        both shaped like x: the spikes S and the charged membrane H
 *   equations, per neuron i, t = 0 … T−1, V_{−1} = V_reset:
 *     H_t = V_{t−1} + k (X_t − (V_{t−1} − V_reset))      (leak)
 *     H_t = V_{t−1} + X_t                                 (no leak: IF)
 *     S_t = Θ(H_t − V_th), Θ(0) = 1                       (firing 'heaviside')
 *     S_t = g(H_t − V_th), g the surrogate's smooth step  (firing 'smooth', gradient checks only;
 *                                                          a backend may throw on it)
 *     V_t = H_t (1 − S_t) + V_reset S_t                   (reset 'hard')
 *     V_t = H_t − V_th S_t                                (reset 'soft')
 *   H is the backward kernel's input, not a value to differentiate: the registered gradient
 *   ignores ∂L/∂H.
 *
 * SnnNeuronBackward — back-propagation through time of SnnNeuronForward
 *   inputs  dy     [T·…]  ∂L/∂S
 *           h      [T·…]  H from the forward kernel
 *           decay  []     k, as forward
 *           x      [T·…]  the forward input; only when attrs.decayGrad (absent otherwise)
 *   attrs   NeuronAttrs & { decayGrad: boolean }
 *   outputs [dx, dDecay]  ∂L/∂X shaped like dy; ∂L/∂k shaped [] (0 when !decayGrad)
 *   equations (S_t recomputed from H_t as forward; g' the surrogate derivative at H_t − V_th;
 *   going backwards from t = T−1 with ∂L/∂V_{T−1} = 0):
 *     ∂V_t/∂H_t   = (1 − S_t) + (V_reset − H_t) g'_t      (hard)
 *                 = 1 − V_th g'_t                         (soft)
 *                   with detachReset the g'_t term is dropped: 1 − S_t (hard), 1 (soft)
 *     ∂L/∂H_t     = ∂L/∂S_t g'_t + ∂L/∂V_t ∂V_t/∂H_t
 *     ∂L/∂X_t     = k ∂L/∂H_t,   ∂L/∂V_{t−1} = (1 − k) ∂L/∂H_t      (leak)
 *     ∂L/∂X_t     = ∂L/∂H_t,     ∂L/∂V_{t−1} = ∂L/∂H_t              (IF)
 *     ∂L/∂k       = Σ_{t,i} ∂L/∂H_t (X_t − (V_{t−1} − V_reset))      (decayGrad)
 *   surrogates g'(u), α = attrs.alpha:
 *     sigmoid   α σ(αu)(1 − σ(αu))          atan      α / (2 (1 + (π/2 α u)²))
 *     rectangle 1/α if |u| < α/2 else 0     triangle  max(0, α − |u|) / α²
 *
 * SnnBatchNormTrain — training BatchNorm over every axis but the last (channels)
 *   inputs  x [M…, C], gamma [C], beta [C]
 *   attrs   { epsilon: number }
 *   outputs [y, mean, variance]   y shaped like x; the batch mean [C] and biased variance [C]
 *   equations, M rows: μ = Σ x / M,  σ² = Σ (x − μ)² / M,  x̂ = (x − μ)/√(σ² + ε),  y = γ x̂ + β
 *   (mean and variance are statistics, not differentiated: their gradients are ignored)
 *
 * SnnBatchNormTrainGrad — the gradient of SnnBatchNormTrain's y
 *   inputs  dy [M…, C], x [M…, C], gamma [C], mean [C], variance [C]  (the forward's outputs)
 *   attrs   { epsilon: number }
 *   outputs [dx, dGamma, dBeta]
 *   equations: σ̃ = √(σ² + ε);  dβ = Σ dy;  dγ = Σ dy x̂;  dx = γ/(M σ̃) (M dy − dβ − x̂ dγ)
 *
 * SnnAdamUpdate — one Adam/AdamW step (PyTorch's update rule)
 *   inputs  w, g, m, v     same shape: weights, gradient, first and second moments
 *   attrs   { lr, beta1, beta2, epsilon, step (t ≥ 1), weightDecay, decoupled: boolean }
 *   outputs [w', m', v']
 *   equations: g ← g + λw (λ > 0 and not decoupled);  m' = β₁m + (1−β₁)g;  v' = β₂v + (1−β₂)g²;
 *     w' = w(1 − ηλ) (decoupled, λ > 0; else w) − η (m'/(1−β₁ᵗ)) / (√(v'/(1−β₂ᵗ)) + ε)
 *
 * SnnSgdUpdate — one SGD step (PyTorch's, momentum and Nesterov)
 *   inputs  w, g, and buf (the momentum buffer) when attrs.momentum > 0
 *   attrs   { lr, weightDecay, momentum, nesterov: boolean, first: boolean (t = 1) }
 *   outputs [w'] without momentum, [w', buf'] with
 *   equations: g ← g + λw;  buf' = g (first) or μ buf + g;  w' = w − η (nesterov ? g + μ buf' : buf')
 *
 * The two update kernels may write w, m, v, buf in place and return them (same data) when no
 * other tensor shares their data (the wasm+native backend does; see src/engine/snnOps.ts).
 * ---------------------------------------------------------------------------------------------
 */
import * as tf from '@tensorflow/tfjs';

export const SnnNeuronForward = 'SnnNeuronForward';
export const SnnNeuronBackward = 'SnnNeuronBackward';
export const SnnBatchNormTrain = 'SnnBatchNormTrain';
export const SnnBatchNormTrainGrad = 'SnnBatchNormTrainGrad';
export const SnnAdamUpdate = 'SnnAdamUpdate';
export const SnnSgdUpdate = 'SnnSgdUpdate';

/** Every kernel a backend provides (its own or the composed one). */
export const SNN_KERNELS = [SnnNeuronForward, SnnNeuronBackward, SnnBatchNormTrain, SnnBatchNormTrainGrad, SnnAdamUpdate, SnnSgdUpdate] as const;
export type SnnKernelName = (typeof SNN_KERNELS)[number];

/** The surrogates, in the order native/snn_onednn.cc numbers them. */
export const SURROGATE_NAMES = ['sigmoid', 'atan', 'rectangle', 'triangle'] as const;
export type SurrogateName = (typeof SURROGATE_NAMES)[number];

/** Attributes of both neuron kernels. */
export interface NeuronAttrs {
  /** T: the input holds T equal blocks in time order. */
  timesteps: number;
  /** true: LIF/PLIF charge with decay k; false: IF (no leak, `decay` unread). */
  leak: boolean;
  reset: 'hard' | 'soft';
  /** Drop the gradient through S_t in the reset term. */
  detachReset: boolean;
  threshold: number;
  vReset: number;
  surrogate: SurrogateName;
  /** The surrogate's α, resolved (never a default left to the kernel). */
  alpha: number;
  firing: 'heaviside' | 'smooth';
}

export interface NeuronBackwardAttrs extends NeuronAttrs {
  /** Compute ∂L/∂k (PLIF); the `x` input is given exactly when this is true. */
  decayGrad: boolean;
}

export interface BatchNormAttrs {
  epsilon: number;
}

export interface AdamAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  step: number;
  weightDecay: number;
  decoupled: boolean;
}

export interface SgdAttrs {
  lr: number;
  weightDecay: number;
  momentum: number;
  nesterov: boolean;
  first: boolean;
}

/** tfjs types attributes as a loose map; kernels read them back through these. */
export const neuronAttrsOf = (attrs: tf.NamedAttrMap): NeuronBackwardAttrs => attrs as unknown as NeuronBackwardAttrs;
export const batchNormAttrsOf = (attrs: tf.NamedAttrMap): BatchNormAttrs => attrs as unknown as BatchNormAttrs;
export const adamAttrsOf = (attrs: tf.NamedAttrMap): AdamAttrs => attrs as unknown as AdamAttrs;
export const sgdAttrsOf = (attrs: tf.NamedAttrMap): SgdAttrs => attrs as unknown as SgdAttrs;
export const asAttrs = (a: object): tf.NamedAttrMap => a as unknown as tf.NamedAttrMap;

/** Runs a kernel that returns several outputs. */
export function runKernels(name: SnnKernelName, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor[] {
  return tf.engine().runKernel(name, inputs, asAttrs(attrs)) as unknown as tf.Tensor[];
}

let gradientsRegistered = false;

/**
 * The gradients of the two forward kernels, for any caller that runs them directly under a
 * gradient tape (snnOps.ts wraps them in tf.customGrad instead, to choose what is kept).
 * Backend-independent: each runs the matching backward kernel.
 */
export function registerSnnGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  tf.registerGradient({
    kernelName: SnnNeuronForward,
    inputsToSave: ['x', 'decay'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved, attrs) => {
      const [x, decay, h] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const dy = Array.isArray(dys) ? dys[0] : dys;
      const a = neuronAttrsOf(attrs);
      const [dx, dDecay] = runKernels(SnnNeuronBackward, { dy, h, decay, x }, { ...a, decayGrad: true });
      return { x: () => dx, decay: () => dDecay };
    },
  });
  tf.registerGradient({
    kernelName: SnnBatchNormTrain,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [x, gamma, mean, variance] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const dy = Array.isArray(dys) ? dys[0] : dys;
      const [dx, dGamma, dBeta] = runKernels(SnnBatchNormTrainGrad, { dy, x, gamma, mean, variance }, batchNormAttrsOf(attrs));
      return { x: () => dx, gamma: () => dGamma, beta: () => dBeta };
    },
  });
}
