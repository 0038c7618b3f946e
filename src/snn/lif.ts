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
 * Why fused: composing this from tensor ops costs T × (about eight) small kernels forward and
 * more backward, each allocating a tensor; one pass over a typed array is far cheaper on CPU
 * engines. `lifComposed.ts` keeps the op-by-op version as the test oracle and for GPU engines.
 * On wasm with snn's native addon the same two loops run in C++ (native/snn_onednn.cc, all
 * cores, vectorised surrogates) on the heap in place, and H is kept outside the wasm heap;
 * elsewhere they run as the JS loops below.
 *
 * `smooth` (for gradient checks only) replaces Θ by the surrogate's smooth step g in the
 * forward pass; the backward formulas above are then the exact gradient.
 */
import * as tf from '@tensorflow/tfjs';
import type { NeuronConfig, SurrogateConfig } from '../config/schema.js';
import { customOp, releaseGradient } from '../engine/customOp.js';
import { nativeHeap, type NativeHeap } from '../engine/heap.js';
import { hostCopy, releaseHostArray, takeHostArray } from '../engine/hostArrays.js';
import { SURROGATE_KINDS } from '../engine/native.js';
import { SURROGATE_DEFAULT_ALPHA, surrogateDerivative, surrogatePrimitive, type SurrogateFn } from './surrogate.js';
import { surrogateGradTensor } from './surrogateTensor.js';

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
}

/** The decay 1/τ of a LIF/PLIF layer (1 for IF, where it is unused). */
const decayOf = (p: NeuronParams, plifDecay?: number): number =>
  p.type === 'if' ? 1 : p.type === 'plif' && plifDecay !== undefined ? plifDecay : 1 / p.tau;

/**
 * The forward recursion on raw arrays. `x` holds T blocks of m values; returns the spikes and
 * the charged membrane H (kept for the backward pass). `k` is 1/τ.
 */
export function lifForwardArrays(
  x: Float32Array,
  T: number,
  p: NeuronParams,
  k: number = decayOf(p),
): { s: Float32Array; h: Float32Array; count: number } {
  const m = x.length / T;
  const s = new Float32Array(x.length);
  const h = new Float32Array(x.length);
  const v = new Float32Array(m).fill(p.vReset);
  const { threshold: vth, vReset: vr } = p;
  const leak = p.type !== 'if';
  const hard = p.reset === 'hard';
  const g = p.smooth ? surrogatePrimitive(p.surrogateConfig.name, p.surrogateConfig.alpha) : null;
  let count = 0;
  for (let t = 0; t < T; t++) {
    const o = t * m;
    for (let i = 0; i < m; i++) {
      const vi = v[i];
      const hi = leak ? vi + (x[o + i] - (vi - vr)) * k : vi + x[o + i];
      h[o + i] = hi;
      if (g) {
        const si = g(hi - vth);
        s[o + i] = si;
        v[i] = hard ? hi * (1 - si) + vr * si : hi - vth * si;
      } else if (hi >= vth) {
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
 * every element (sgAll), returns ∂L/∂X and ∂L/∂(1/τ). The surrogate comes in precomputed
 * because it is the costly part (an exp per element for sigmoid), which the engine's
 * vectorised kernels do several times faster than a scalar loop. `x` is needed only for
 * ∂L/∂(1/τ) (PLIF); pass null otherwise.
 */
export function lifBackwardArrays(
  gs: Float32Array,
  h: Float32Array,
  s: Float32Array,
  sgAll: Float32Array,
  T: number,
  p: NeuronParams,
  k: number = decayOf(p),
  x: Float32Array | null = null,
): { gx: Float32Array; gk: number } {
  const m = gs.length / T;
  const gx = new Float32Array(gs.length);
  const gv = new Float32Array(m);
  const { vReset: vr, threshold: vth } = p;
  const leak = p.type !== 'if';
  const carry = leak ? 1 - k : 1;
  const kx = leak ? k : 1;
  const hard = p.reset === 'hard';
  const detach = p.detachReset;
  let gk = 0;
  for (let t = T - 1; t >= 0; t--) {
    const o = t * m;
    const po = o - m;
    for (let i = 0; i < m; i++) {
      const hi = h[o + i];
      const si = s[o + i];
      const sg = sgAll[o + i];
      let dvdh: number;
      if (hard) dvdh = detach ? 1 - si : 1 - si + (vr - hi) * sg;
      else dvdh = detach ? 1 : 1 - vth * sg;
      const gh = gs[o + i] * sg + gv[i] * dvdh;
      gx[o + i] = gh * kx;
      gv[i] = gh * carry;
      if (x) {
        // V_{t-1} from the previous step's saved H and S (V_reset before the first step).
        let vPrev = vr;
        if (t > 0) {
          const hp = h[po + i];
          const sp = s[po + i];
          vPrev = hard ? hp * (1 - sp) + vr * sp : hp - vth * sp;
        }
        gk += gh * (x[o + i] - (vPrev - vr));
      }
    }
  }
  return { gx, gk };
}

/** The recursion's constants as the native kernels take them (after T and m). */
function nativeArgs(p: NeuronParams, k: number): [boolean, boolean, boolean, number, number, number] {
  return [p.type !== 'if', p.reset === 'hard', p.detachReset, k, p.threshold, p.vReset];
}

/** Native backward (snn's addon, on the wasm heap in place): the same BPTT as lifBackwardArrays. */
function backwardNative(heap: NativeHeap, dy: tf.Tensor, hT: SavedH, sT: tf.Tensor | null, xT: SavedH | null, T: number, p: NeuronParams, k: number): { gx: tf.Tensor; gk: number } {
  const arr = (t: SavedH | null): Float32Array | null => (t === null ? null : t instanceof Float32Array ? t : heap.view(t));
  const gx = heap.alloc(dy.shape);
  const alpha = p.surrogateConfig.alpha ?? SURROGATE_DEFAULT_ALPHA[p.surrogateConfig.name];
  const gk = heap.addon.lifBackward(
    heap.view(dy), hT instanceof Float32Array ? hT : heap.view(hT), arr(sT), arr(xT), heap.view(gx),
    T, dy.size / T, ...nativeArgs(p, k), SURROGATE_KINDS.indexOf(p.surrogateConfig.name), alpha,
  );
  return { gx, gk };
}

/**
 * The charged membrane H kept for the backward pass: a tensor, or on the native path a plain
 * array outside the wasm heap (the heap stops at 4 GB; H is needed only by the backward pass).
 */
type SavedH = tf.Tensor | Float32Array;

/** ∂L/∂X and, when asked, ∂L/∂(1/τ) from the saved tensors of a forward pass. */
function backward(
  dy: tf.Tensor,
  hT: SavedH,
  sT: tf.Tensor | null,
  xT: SavedH | null,
  T: number,
  p: NeuronParams,
  k: number,
): { gx: tf.Tensor; gk: number } {
  const heap = nativeHeap();
  if (heap !== null) return backwardNative(heap, dy, hT, sT, xT, T, p, k);
  if (hT instanceof Float32Array || xT instanceof Float32Array || sT === null) {
    throw new Error('LIF: a native forward pass cannot be differentiated on another backend');
  }
  const sg = tf.tidy(() => surrogateGradTensor(hT.sub(p.threshold), p.surrogateConfig));
  const r = lifBackwardArrays(
    dy.dataSync() as Float32Array,
    hT.dataSync() as Float32Array,
    sT.dataSync() as Float32Array,
    sg.dataSync() as Float32Array,
    T,
    p,
    k,
    xT ? (xT.dataSync() as Float32Array) : null,
  );
  sg.dispose();
  return { gx: tf.tensor(r.gx, dy.shape, 'float32'), gk: r.gk };
}

/** The forward pass on a tensor: spikes and the charged membrane H as tensors, spikes tallied. */
function forwardTensors(input: tf.Tensor, T: number, p: NeuronParams, k: number, tally?: SpikeTally): { spikes: tf.Tensor; h: SavedH } {
  const heap = p.smooth ? null : nativeHeap();
  if (heap !== null) {
    const spikes = heap.alloc(input.shape);
    const h = takeHostArray(input.size);
    const count = heap.addon.lifForward(heap.view(input), heap.view(spikes), h, T, input.size / T, ...nativeArgs(p, k));
    if (tally) {
      tally.spikes += count;
      tally.neurons += input.size;
    }
    return { spikes, h };
  }
  const data = input.dataSync() as Float32Array;
  const { s, h, count } = lifForwardArrays(data, T, p, k);
  if (tally) {
    tally.spikes += count;
    tally.neurons += data.length;
  }
  return { spikes: tf.tensor(s, input.shape, 'float32'), h: tf.tensor(h, input.shape, 'float32') };
}

/**
 * Multi-step IF/LIF on a tensor shaped [T, ...]: returns spikes of the same shape.
 * `tally`, when given, receives the number of spikes and neuron-steps of this call. `T` may
 * be given for any other shape whose values are T equal blocks in time order ([T·N, H, W, C]),
 * which spares a reshape (tfjs's Reshape keeps its input alive for the backward pass).
 */
export function multiStepLif(x: tf.Tensor, p: NeuronParams, tally?: SpikeTally, T: number = x.shape[0]): tf.Tensor {
  const k = decayOf(p);
  // Read here: inside the op's forward function tfjs reports the tape as off.
  const recording = tf.engine().isTapeOn();
  const op = customOp((input, save) => {
    const { spikes, h } = forwardTensors(input, T, p, k, tally);
    // Native: nothing stays on the wasm heap for the backward pass (H is outside it and the
    // spikes are recomputed from H), so the spikes can be freed as soon as the next layer ran.
    if (!(h instanceof Float32Array)) save([spikes, h]);
    else if (!recording) releaseHostArray(h); // no backward pass will read it
    return {
      value: spikes,
      gradFunc: (dy, saved) => {
        const { gx } = backward(dy, saved[1] ?? h, saved[0] ?? null, null, T, p, k);
        if (h instanceof Float32Array) releaseHostArray(h);
        releaseGradient(dy);
        return gx;
      },
    };
  });
  return op(x);
}

/**
 * Multi-step PLIF: like `multiStepLif` with 1/τ = sigmoid(w), w a scalar tensor that receives
 * a gradient.
 */
export function multiStepPlif(x: tf.Tensor, w: tf.Tensor, p: NeuronParams, tally?: SpikeTally, T: number = x.shape[0]): tf.Tensor {
  const recording = tf.engine().isTapeOn();
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    const wt = args[1] as tf.Tensor;
    const save = args[2] as tf.GradSaveFunc;
    const k = 1 / (1 + Math.exp(-wt.dataSync()[0]));
    const { spikes, h } = forwardTensors(input, T, p, k, tally);
    const native = h instanceof Float32Array;
    // Native: the input (for ∂L/∂(1/τ)) is copied out of the heap like H; spikes recomputed.
    const inputView = native && recording ? nativeHeap()?.view(input) : undefined;
    const xSaved = inputView === undefined ? null : hostCopy(inputView);
    if (!native) save([spikes, input, h]);
    else if (!recording) releaseHostArray(h);
    return {
      value: spikes,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const r = backward(dy, saved[2] ?? h, saved[0] ?? null, saved[1] ?? xSaved, T, p, k);
        if (h instanceof Float32Array) releaseHostArray(h);
        if (xSaved !== null) releaseHostArray(xSaved);
        releaseGradient(dy);
        return [r.gx, tf.scalar(r.gk * k * (1 - k)).reshape(wt.shape)];
      },
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return op(x, w);
}
