/**
 * The multi-step LIF/IF neuron composed from tensor ops, time step by time step (same maths as
 * `lif.ts`), with autodiff for its gradient: the oracle the engine's neuron kernels are tested
 * against (test/engineBoundary.test.ts; src/backends/composed/neuron.ts is the kernel version
 * that runs on any backend).
 *
 * The Heaviside gets its surrogate gradient through `spikeFn`; `detachReset` routes S_t through
 * an identity whose gradient is zero, so the reset term passes no gradient through the spike.
 */
import * as tf from '@tensorflow/tfjs';
import type { SurrogateConfig } from '../config/schema.js';
import { customOp } from '../engine/customOp.js';
import { surrogateGradTensor } from './surrogateTensor.js';

export interface ComposedNeuronParams {
  /** plif runs here as lif with its current tau. */
  type: 'lif' | 'if' | 'plif' | 'relu';
  tau: number;
  threshold: number;
  vReset: number;
  reset: 'hard' | 'soft';
  detachReset: boolean;
  surrogate: SurrogateConfig;
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
  if (p.type === 'relu') throw new Error('relu is not a spiking neuron');
  const T = x.shape[0];
  const fire = spikeFn(p.surrogate);
  const steps = tf.unstack(x, 0);
  let v: tf.Tensor = tf.fill(steps[0].shape, p.vReset);
  const out: tf.Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const h =
      p.type !== 'if' ? v.add(steps[t].sub(v.sub(p.vReset)).div(p.tau)) : v.add(steps[t]);
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
