/**
 * SnnAdamUpdate and SnnSgdUpdate from standard tfjs ops (equations in src/engine/snnKernels.ts),
 * the same float32 operations in the same order as the native in-place versions.
 */
import * as tf from '@tensorflow/tfjs';
import { adamAttrsOf, sgdAttrsOf, SnnAdamUpdate, SnnSgdUpdate, type AdamAttrs, type SgdAttrs } from '../../engine/snnKernels.js';
import { input, optionalInput } from './io.js';

export function adamUpdate(w: tf.Tensor, g0: tf.Tensor, m: tf.Tensor, v: tf.Tensor, a: AdamAttrs): tf.Tensor[] {
  return tf.tidy(() => {
    const wd = a.weightDecay;
    const g = !a.decoupled && wd > 0 ? g0.add(w.mul(wd)) : g0;
    const m2 = m.mul(a.beta1).add(g.mul(1 - a.beta1));
    const v2 = v.mul(a.beta2).add(g.square().mul(1 - a.beta2));
    const c1 = 1 - Math.pow(a.beta1, a.step);
    const c2 = 1 - Math.pow(a.beta2, a.step);
    const base = a.decoupled && wd > 0 ? w.mul(1 - a.lr * wd) : w;
    const upd = m2.div(c1).div(v2.div(c2).sqrt().add(a.epsilon)).mul(a.lr);
    return [base.sub(upd), m2, v2];
  });
}

export function sgdUpdate(w: tf.Tensor, g0: tf.Tensor, buf: tf.Tensor | null, a: SgdAttrs): tf.Tensor[] {
  return tf.tidy(() => {
    const g = a.weightDecay > 0 ? g0.add(w.mul(a.weightDecay)) : g0;
    if (buf === null) return [w.sub(g.mul(a.lr))];
    const nb = a.first ? g : buf.mul(a.momentum).add(g);
    const d = a.nesterov ? g.add(nb.mul(a.momentum)) : nb;
    // A clone when nb is g itself: an output must not be one of the inputs' tensors.
    return [w.sub(d.mul(a.lr)), nb === g0 ? nb.clone() : nb];
  });
}

export const composedOptimizerKernels = (backendName: string): tf.KernelConfig[] => [
  {
    kernelName: SnnAdamUpdate,
    backendName,
    kernelFunc: ({ inputs, attrs }) =>
      adamUpdate(input(inputs, 'w'), input(inputs, 'g'), input(inputs, 'm'), input(inputs, 'v'), adamAttrsOf(attrs ?? {})),
  },
  {
    kernelName: SnnSgdUpdate,
    backendName,
    kernelFunc: ({ inputs, attrs }) => {
      const a = sgdAttrsOf(attrs ?? {});
      return sgdUpdate(input(inputs, 'w'), input(inputs, 'g'), a.momentum > 0 ? optionalInput(inputs, 'buf') : null, a);
    },
  },
];
