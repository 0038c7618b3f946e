/**
 * Stateless layer functions over parameters held in a `ParamStore`: convolution, batch norm,
 * linear. Tensors between layers are shaped [T·N, H, W, C] (time folded into the batch), so
 * BatchNorm statistics are taken over T×N, as the design asks.
 *
 * Parameters are initialised from the project's seeded Rng (not tfjs's random ops), so the same
 * seed builds the same network on every backend and machine.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.js';
import { releaseGradient } from '../engine/customOp.js';
import { nativeHeap, type NativeHeap } from '../engine/heap.js';
import { hostCopy, releaseHostArray } from '../engine/hostArrays.js';
import { restoreInput, saveInput } from '../engine/savedInput.js';

let scopeCounter = 0;

/** Trainable parameters and non-trainable buffers of one model, keyed by a dotted path. */
export interface ParamStore {
  /** Unique prefix of this model's tfjs variable names (tfjs names are global). */
  scope: string;
  rng: Rng;
  params: Map<string, tf.Variable>;
  buffers: Map<string, tf.Variable>;
}

export function createParamStore(rng: Rng, label = 'model'): ParamStore {
  scopeCounter += 1;
  return { scope: `${label}${scopeCounter}`, rng, params: new Map(), buffers: new Map() };
}

export function addParam(store: ParamStore, key: string, values: Float32Array, shape: number[]): tf.Variable {
  if (store.params.has(key)) throw new Error(`parameter ${key} defined twice`);
  const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), true, `${store.scope}/${key}`));
  store.params.set(key, v);
  return v;
}

function addBuffer(store: ParamStore, key: string, values: Float32Array, shape: number[]): tf.Variable {
  // Inside tidy, so the initial tensor is released (the variable keeps the data).
  const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), false, `${store.scope}/${key}`));
  store.buffers.set(key, v);
  return v;
}

function normalArray(rng: Rng, n: number, std: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
  return a;
}

function uniformArray(rng: Rng, n: number, bound: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * bound;
  return a;
}

export interface Conv {
  kind: 'conv';
  key: string;
  weight: tf.Variable; // [kh, kw, in, out]
  stride: number;
  pad: number;
  kernel: number;
  inChannels: number;
  outChannels: number;
}

/**
 * A k×k convolution without bias (BN follows), Kaiming-normal initialised (fan-out, gain √2)
 * as torchvision's ResNets are. Symmetric explicit padding, as PyTorch's `padding=k//2`, so that
 * stride-2 layers align with PyTorch and with exported graphs ('same' would pad asymmetrically).
 */
export function conv(
  store: ParamStore,
  key: string,
  inChannels: number,
  outChannels: number,
  kernel: number,
  stride: number,
): Conv {
  const fanOut = kernel * kernel * outChannels;
  const weight = addParam(
    store,
    `${key}.weight`,
    normalArray(store.rng, kernel * kernel * inChannels * outChannels, Math.sqrt(2 / fanOut)),
    [kernel, kernel, inChannels, outChannels],
  );
  return { kind: 'conv', key, weight, stride, pad: Math.floor(kernel / 2), kernel, inChannels, outChannels };
}

export function applyConv(c: Conv, x: tf.Tensor4D, weight: tf.Tensor4D = c.weight as tf.Tensor4D): tf.Tensor4D {
  const p = c.pad;
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [p, p],
    [p, p],
    [0, 0],
  ];
  const padding = p === 0 ? 'valid' : pad;
  const heap = nativeHeap();
  // Without a gradient tape (inference) there is no backward pass to prepare for.
  if (heap === null || !tf.engine().isTapeOn()) return tf.conv2d(x, weight, c.stride, padding);
  return convReleasingGradient(heap, x, weight, c.stride, padding);
}

type Pad4 = 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/**
 * tf.conv2d with its gradient written out (the same two kernels tfjs's own gradient runs), for
 * the wasm heap's 4 GB: the output's gradient is released as soon as both are computed (see
 * releaseGradient), and the input the filter gradient needs is kept outside the heap (as bits
 * when it is spikes, see savedInput.ts) and copied back for that one kernel, so the input (a
 * neuron layer's spikes) can be freed in between.
 */
function convReleasingGradient(heap: NativeHeap, x: tf.Tensor4D, weight: tf.Tensor4D, stride: number, pad: Pad4): tf.Tensor4D {
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xt, wt] = args as [tf.Tensor4D, tf.Tensor4D];
    const save = args[2] as tf.GradSaveFunc;
    save([wt]);
    const xSaved = saveInput(heap, heap.view(xt));
    const xShape = xt.shape;
    return {
      value: tf.conv2d(xt, wt, stride, pad),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sw] = saved as [tf.Tensor4D];
        const common = { strides: stride, pad, dataFormat: 'NHWC' };
        const dx = tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: sw }, { ...common, inputShape: xShape }) as tf.Tensor;
        const sx = heap.alloc(xShape);
        restoreInput(heap, xSaved, heap.view(sx));
        const dw = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: sx, dy }, { ...common, filterShape: sw.shape }) as tf.Tensor;
        sx.dispose();
        releaseGradient(dy);
        return [dx, dw];
      },
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return op(x, weight) as tf.Tensor4D;
}

export interface BatchNorm {
  kind: 'bn';
  key: string;
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
  channels: number;
  eps: number;
  momentum: number;
  /** tdBN's α·V_th multiplying the normalised value (1 for plain BN). */
  scale: number;
}

/**
 * BatchNorm over every axis but the last (channels); PyTorch's defaults (eps 1e-5, momentum
 * 0.1; γ starts at `gamma0`, 1 unless zero-initialised). `scale` ≠ 1 makes it threshold-dependent BN (Zheng et al. 2021):
 * y = γ · α V_th (x − μ)/√(σ² + ε) + β.
 */
export function batchNorm(store: ParamStore, key: string, channels: number, scale = 1, gamma0 = 1): BatchNorm {
  return {
    scale,
    kind: 'bn',
    key,
    gamma: addParam(store, `${key}.weight`, new Float32Array(channels).fill(gamma0), [channels]),
    beta: addParam(store, `${key}.bias`, new Float32Array(channels), [channels]),
    runningMean: addBuffer(store, `${key}.running_mean`, new Float32Array(channels), [channels]),
    runningVar: addBuffer(store, `${key}.running_var`, new Float32Array(channels).fill(1), [channels]),
    channels,
    eps: 1e-5,
    momentum: 0.1,
  };
}

/**
 * y = (x - μ) / √(σ² + ε) · γ + β, written as one scale and one shift per channel. Built from
 * broadcasting ops rather than FusedBatchNorm: on wasm the fused kernel's gradient goes through
 * a slow Tile. In training, μ and σ² are the batch's (biased σ²) and the running statistics move
 * towards them with the unbiased σ², as PyTorch does.
 */
export function applyBatchNorm<R extends tf.Rank>(bn: BatchNorm, x: tf.Tensor<R>, training: boolean): tf.Tensor<R> {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  let mean: tf.Tensor;
  let variance: tf.Tensor;
  if (training) {
    const heap = nativeHeap();
    if (heap !== null) return batchNormTrainNative(heap, bn, x);
    const m = tf.moments(x, axes);
    mean = m.mean;
    variance = m.variance;
    updateRunningStats(bn, mean, variance, x.size / bn.channels);
  } else {
    mean = bn.runningMean;
    variance = bn.runningVar;
  }
  const g = bn.scale === 1 ? bn.gamma : bn.gamma.mul(bn.scale);
  const scale = g.mul(tf.rsqrt(variance.add(bn.eps)));
  const shift = bn.beta.sub(mean.mul(scale));
  return x.mul(scale).add(shift) as tf.Tensor<R>;
}

/** Running statistics move towards the batch's, with the unbiased σ², as PyTorch does. */
function updateRunningStats(bn: BatchNorm, mean: tf.Tensor, variance: tf.Tensor, n: number): void {
  const unbiased = n > 1 ? n / (n - 1) : 1;
  const mom = bn.momentum;
  tf.tidy(() => {
    bn.runningMean.assign(bn.runningMean.mul(1 - mom).add(mean.mul(mom)));
    bn.runningVar.assign(bn.runningVar.mul(1 - mom).add(variance.mul(mom * unbiased)));
  });
}

/**
 * Training BatchNorm as one native op forward and one backward (snn's addon, in place on the
 * wasm heap): the same maths as the composed version above, with the closed-form gradient
 * dβ = Σ dy, dγ = Σ dy·x̂, dx = γ/(M σ̃) · (M dy − dβ − x̂ dγ), σ̃ = √(σ² + ε), M rows.
 */
function batchNormTrainNative<R extends tf.Rank>(heap: NativeHeap, bn: BatchNorm, x: tf.Tensor<R>): tf.Tensor<R> {
  const C = bn.channels;
  const M = x.size / C;
  const mean = heap.alloc([C]);
  const variance = heap.alloc([C]);
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xt, g, beta] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
    const save = args[3] as tf.GradSaveFunc;
    const y = heap.alloc(xt.shape);
    const xView = heap.view(xt);
    heap.addon.bnForward(xView, heap.view(g), heap.view(beta), heap.view(y), heap.view(mean), heap.view(variance), M, C, bn.eps);
    // x for the backward pass, kept outside the wasm heap (it stops at 4 GB): the heap copy,
    // the convolution's output, is then freed with the block's other temporaries.
    const xSaved = hostCopy(xView);
    save([g, mean, variance]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sg, sm, sv] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dx = heap.alloc(dy.shape);
        const dg = heap.alloc([C]);
        const db = heap.alloc([C]);
        heap.addon.bnBackward(xSaved, heap.view(dy), heap.view(sg), heap.view(sm), heap.view(sv), heap.view(dx), heap.view(dg), heap.view(db), M, C, bn.eps);
        releaseHostArray(xSaved);
        releaseGradient(dy);
        return [dx, dg, db];
      },
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  const g = bn.scale === 1 ? bn.gamma : bn.gamma.mul(bn.scale);
  const y = op(x, g, bn.beta) as tf.Tensor<R>;
  updateRunningStats(bn, mean, variance, M);
  return y;
}

export interface Linear {
  kind: 'linear';
  key: string;
  weight: tf.Variable; // [in, out]
  bias: tf.Variable;
  inFeatures: number;
  outFeatures: number;
}

/** Fully connected layer with PyTorch's default init: U(-1/√fan_in, 1/√fan_in) for weight and bias. */
export function linear(store: ParamStore, key: string, inFeatures: number, outFeatures: number): Linear {
  const bound = 1 / Math.sqrt(inFeatures);
  return {
    kind: 'linear',
    key,
    weight: addParam(store, `${key}.weight`, uniformArray(store.rng, inFeatures * outFeatures, bound), [
      inFeatures,
      outFeatures,
    ]),
    bias: addParam(store, `${key}.bias`, uniformArray(store.rng, outFeatures, bound), [outFeatures]),
    inFeatures,
    outFeatures,
  };
}

export function applyLinear(l: Linear, x: tf.Tensor2D, weight: tf.Tensor2D = l.weight as tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.matMul(x, weight), l.bias) as tf.Tensor2D;
}

/**
 * Σ xs of one shape. On the native path as a custom op whose gradient passes dy to every input
 * without keeping them: tfjs's Add and AddN keep their inputs alive until the end of the
 * backward pass only to read their shapes (for broadcasting, which equal shapes do not need).
 */
export function addSameShape<R extends tf.Rank>(xs: tf.Tensor<R>[]): tf.Tensor<R> {
  const plain = (ts: tf.Tensor<R>[]): tf.Tensor<R> => (ts.length === 2 ? tf.add(ts[0], ts[1]) : tf.addN(ts));
  if (nativeHeap() === null || xs.some((x) => !tf.util.arraysEqual(x.shape, xs[0].shape))) return plain(xs);
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const inputs = args.slice(0, xs.length) as tf.Tensor<R>[];
    return {
      value: plain(inputs),
      gradFunc: (dy: tf.Tensor) => {
        const grads = inputs.map(() => dy.clone()); // clones share dy's data
        releaseGradient(dy);
        return grads;
      },
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return op(...xs) as tf.Tensor<R>;
}
