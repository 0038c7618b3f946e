/**
 * The SNN operations as model, neuron and training code call them: each runs the kernels of
 * snnKernels.ts on whatever backend is active (registered on first use, src/backends/register.ts)
 * and chooses what the backward pass keeps — on the device, or through the backend's
 * BackwardStore (backwardStore.ts) outside it. No backend is named here.
 */
import * as tf from '@tensorflow/tfjs';
import { ensureSnnKernels } from '../backends/register.js';
import { backwardStore, type BackwardStore, type Kept } from './backwardStore.js';
import { releaseGradient } from './customOp.js';
import {
  runKernels, SnnAdamUpdate, SnnBatchNormTrain, SnnBatchNormTrainGrad, SnnNeuronBackward, SnnNeuronForward, SnnSgdUpdate,
  type AdamAttrs, type NeuronAttrs, type SgdAttrs,
} from './snnKernels.js';

type CustomGradFn = Parameters<typeof tf.customGrad>[0];

/** The store to use for an op starting now: none outside a gradient tape. */
function storeNow(): BackwardStore | null {
  return tf.engine().isTapeOn() ? backwardStore() : null;
}

/** Kept values back on the device (a new tensor), or the tensor the tape saved. */
const bring = (store: BackwardStore | null, kept: Kept | null, saved: tf.Tensor | undefined): tf.Tensor => {
  if (store !== null && kept !== null) return store.restore(kept);
  if (saved === undefined) throw new Error('SNN op: a tensor for the backward pass was not kept');
  return saved;
};

/**
 * The multi-step neuron (SnnNeuronForward): spikes shaped like x. `decay` is k = 1/τ, a number
 * (LIF, IF: no gradient) or a scalar tensor that receives ∂L/∂k (PLIF's sigmoid(w)).
 */
export function multiStepNeuron(x: tf.Tensor, attrs: NeuronAttrs, decay: number | tf.Tensor): tf.Tensor {
  ensureSnnKernels();
  const learn = typeof decay !== 'number';
  const store = storeNow();
  const k = typeof decay === 'number' ? tf.scalar(decay) : decay;
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xt, kt] = args as [tf.Tensor, tf.Tensor];
    const save = args[2] as tf.GradSaveFunc;
    const [s, h] = runKernels(SnnNeuronForward, { x: xt, decay: kt }, attrs);
    const keptH = store === null ? null : store.keep(h, 'values');
    const keptX = store === null || !learn ? null : store.keep(xt, 'values');
    // Saved: [k, h?, x?] — h and x only when no store keeps them.
    save(store === null ? (learn ? [kt, h, xt] : [kt, h]) : [kt]);
    return {
      value: s,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const h2 = bring(store, keptH, saved[1]);
        const x2 = learn ? bring(store, keptX, saved[2]) : null;
        const inputs: tf.NamedTensorMap = x2 === null ? { dy, h: h2, decay: saved[0] } : { dy, h: h2, decay: saved[0], x: x2 };
        const [dx, dk] = runKernels(SnnNeuronBackward, inputs, { ...attrs, decayGrad: learn });
        if (store !== null) tf.dispose([h2, ...(x2 === null ? [] : [x2])]);
        releaseGradient(dy);
        return [dx, dk];
      },
    };
  }) as CustomGradFn);
  const spikes = op(x, k);
  if (k !== decay) k.dispose();
  return spikes;
}

/**
 * Training BatchNorm (SnnBatchNormTrain): y, and the batch mean and biased variance, which the
 * caller disposes (they feed the running statistics, not the gradient).
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  ensureSnnKernels();
  const store = storeNow();
  let stats: [tf.Tensor, tf.Tensor] | undefined;
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xt, g, b] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
    const save = args[3] as tf.GradSaveFunc;
    const [y, mean, variance] = runKernels(SnnBatchNormTrain, { x: xt, gamma: g, beta: b }, { epsilon });
    stats = [tf.keep(mean), tf.keep(variance)];
    const keptX = store === null ? null : store.keep(xt, 'values');
    // Saved: [gamma, mean, variance, x?].
    save(store === null ? [g, mean, variance, xt] : [g, mean, variance]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sg, sm, sv] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const sx = bring(store, keptX, saved[3]);
        const [dx, dGamma, dBeta] = runKernels(SnnBatchNormTrainGrad, { dy, x: sx, gamma: sg, mean: sm, variance: sv }, { epsilon });
        if (store !== null) sx.dispose();
        releaseGradient(dy);
        return [dx, dGamma, dBeta];
      },
    };
  }) as CustomGradFn);
  const y = op(x, gamma, beta);
  if (stats === undefined) throw new Error('SNN op: BatchNorm forward did not run');
  return { y, mean: stats[0], variance: stats[1] };
}

/** A variable takes an update kernel's output (nothing to do when the kernel wrote it in place). */
function take(variable: tf.Variable, out: tf.Tensor): void {
  if (out.dataId !== variable.dataId) variable.assign(out);
  out.dispose();
}

/** One Adam/AdamW step (SnnAdamUpdate) on w and its moments m, v. */
export function adamUpdate(w: tf.Variable, g: tf.Tensor, m: tf.Variable, v: tf.Variable, attrs: AdamAttrs): void {
  ensureSnnKernels();
  const [w2, m2, v2] = runKernels(SnnAdamUpdate, { w, g, m, v }, attrs);
  take(w, w2);
  take(m, m2);
  take(v, v2);
}

/** One SGD step (SnnSgdUpdate) on w and, with momentum, its buffer. */
export function sgdUpdate(w: tf.Variable, g: tf.Tensor, buf: tf.Variable | null, attrs: SgdAttrs): void {
  ensureSnnKernels();
  const outs = runKernels(SnnSgdUpdate, buf === null ? { w, g } : { w, g, buf }, attrs);
  take(w, outs[0]);
  if (buf !== null) take(buf, outs[1]);
}

type Pad4 = 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/**
 * tf.conv2d for training. With a BackwardStore, its gradient is written out (the same two
 * kernels tfjs's own gradient runs) so that the input the filter gradient needs is kept off the
 * device (as bits when it is spikes) and the input itself can be freed in between, and the
 * output's gradient is released as soon as both are computed (see releaseGradient).
 */
export function conv2dTrain(x: tf.Tensor4D, weight: tf.Tensor4D, stride: number, pad: Pad4): tf.Tensor4D {
  const store = storeNow();
  if (store === null) return tf.conv2d(x, weight, stride, pad);
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xt, wt] = args as [tf.Tensor4D, tf.Tensor4D];
    const save = args[2] as tf.GradSaveFunc;
    save([wt]);
    const kept = store.keep(xt, 'spikes');
    const xShape = xt.shape;
    return {
      value: tf.conv2d(xt, wt, stride, pad),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sw] = saved as [tf.Tensor4D];
        const common = { strides: stride, pad, dataFormat: 'NHWC' };
        const dx = tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: sw }, { ...common, inputShape: xShape }) as tf.Tensor;
        const sx = store.restore(kept);
        const dw = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: sx, dy }, { ...common, filterShape: sw.shape }) as tf.Tensor;
        sx.dispose();
        releaseGradient(dy);
        return [dx, dw];
      },
    };
  }) as CustomGradFn);
  return op(x, weight) as tf.Tensor4D;
}
