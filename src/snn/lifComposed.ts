/**
 * The multi-step LIF/IF neuron composed from tensor ops, time step by time step (same maths as
 * `lif.ts`). It is the oracle the fused op is tested against, and the path for engines where
 * reading tensors back to JavaScript is expensive (GPU).
 *
 * The Heaviside gets its surrogate gradient through `spikeFn`; `detachReset` routes S_t through
 * an identity whose gradient is zero, so the reset term passes no gradient through the spike.
 */
import * as tf from '@tensorflow/tfjs';
import type { SurrogateConfig } from '../config/schema.js';
import { customOp } from '../engine/customOp.js';
import { SURROGATE_DEFAULT_ALPHA } from './surrogate.js';

export interface ComposedNeuronParams {
  type: 'lif' | 'if';
  tau: number;
  threshold: number;
  vReset: number;
  reset: 'hard' | 'soft';
  detachReset: boolean;
  surrogate: SurrogateConfig;
}

/** g'(x) built from tensor ops, for each surrogate of `surrogate.ts`. */
export function surrogateGradTensor(x: tf.Tensor, cfg: SurrogateConfig): tf.Tensor {
  const a = cfg.alpha ?? SURROGATE_DEFAULT_ALPHA[cfg.name];
  switch (cfg.name) {
    case 'sigmoid': {
      const s = tf.sigmoid(x.mul(a));
      return s.mul(tf.scalar(1).sub(s)).mul(a);
    }
    case 'atan': {
      const k = x.mul((Math.PI / 2) * a);
      return tf.scalar(a / 2).div(k.square().add(1));
    }
    case 'rectangle':
      return tf.cast(tf.less(tf.abs(x), a / 2), 'float32').mul(1 / a);
    case 'triangle':
      return tf.relu(tf.scalar(a).sub(tf.abs(x))).mul(1 / (a * a));
  }
}

/** Θ(x) forward (Θ(0) = 1), surrogate g'(x) backward. */
export function spikeFn(cfg: SurrogateConfig): (x: tf.Tensor) => tf.Tensor {
  return customOp((x, save) => {
    save([x]);
    return {
      value: tf.cast(tf.greaterEqual(x, 0), 'float32'),
      gradFunc: (dy, saved) => dy.mul(surrogateGradTensor(saved[0], cfg)),
    };
  });
}

const detach = customOp((x) => ({
  value: x.clone(),
  gradFunc: (dy) => tf.zerosLike(dy),
}));

export function multiStepLifComposed(x: tf.Tensor, p: ComposedNeuronParams): tf.Tensor {
  const T = x.shape[0];
  const fire = spikeFn(p.surrogate);
  const steps = tf.unstack(x, 0);
  let v: tf.Tensor = tf.fill(steps[0].shape, p.vReset);
  const out: tf.Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const h =
      p.type === 'lif' ? v.add(steps[t].sub(v.sub(p.vReset)).div(p.tau)) : v.add(steps[t]);
    const s = fire(h.sub(p.threshold));
    const sr = p.detachReset ? detach(s) : s;
    v =
      p.reset === 'hard'
        ? h.mul(tf.scalar(1).sub(sr)).add(sr.mul(p.vReset))
        : h.sub(sr.mul(p.threshold));
    out.push(s);
  }
  return tf.stack(out, 0);
}
