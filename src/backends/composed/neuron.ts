/**
 * SnnNeuronForward and SnnNeuronBackward from standard tfjs ops, one small group of ops per time
 * step (equations in src/engine/snnKernels.ts): nothing is read back to the host, so any
 * backend (a GPU one) runs them as they are.
 */
import * as tf from '@tensorflow/tfjs';
import { neuronAttrsOf, SnnNeuronBackward, SnnNeuronForward, type NeuronAttrs } from '../../engine/snnKernels.js';
import { input, optionalInput } from './io.js';
import { surrogateGrad, surrogateStep } from './surrogate.js';

/** S_t from H_t, as the forward kernel fires. */
export function fire(h: tf.Tensor, a: NeuronAttrs): tf.Tensor {
  return a.firing === 'smooth' ? surrogateStep(h.sub(a.threshold), a.surrogate, a.alpha) : tf.cast(tf.greaterEqual(h, a.threshold), 'float32');
}

/** V_t from H_t and S_t. */
export function resetMembrane(h: tf.Tensor, s: tf.Tensor, a: NeuronAttrs): tf.Tensor {
  return a.reset === 'hard' ? h.mul(tf.scalar(1).sub(s)).add(s.mul(a.vReset)) : h.sub(s.mul(a.threshold));
}

/** Splits [T·m] values into T tensors of [1, m]. */
const steps = (t: tf.Tensor, T: number): tf.Tensor[] => tf.split(t.reshape([T, t.size / T]), T, 0);

export function neuronForward(x: tf.Tensor, decay: tf.Tensor, a: NeuronAttrs): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const T = a.timesteps;
    const xs = steps(x, T);
    let v: tf.Tensor = tf.fill([1, x.size / T], a.vReset);
    const ss: tf.Tensor[] = [];
    const hs: tf.Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const h = a.leak ? v.add(xs[t].sub(v.sub(a.vReset)).mul(decay)) : v.add(xs[t]);
      const s = fire(h, a);
      v = resetMembrane(h, s, a);
      ss.push(s);
      hs.push(h);
    }
    return [tf.concat(ss, 0).reshape(x.shape), tf.concat(hs, 0).reshape(x.shape)];
  });
}

export function neuronBackward(dy: tf.Tensor, h: tf.Tensor, decay: tf.Tensor, x: tf.Tensor | null, a: NeuronAttrs): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const T = a.timesteps;
    const gs = steps(dy, T);
    const hs = steps(h, T);
    const xs = x === null ? null : steps(x, T);
    const keep = a.leak ? tf.scalar(1).sub(decay) : null;
    let gv: tf.Tensor = tf.zeros([1, dy.size / T]);
    let gk: tf.Tensor = tf.scalar(0);
    const gx: tf.Tensor[] = new Array<tf.Tensor>(T);
    let s = fire(hs[T - 1], a);
    for (let t = T - 1; t >= 0; t--) {
      const sg = surrogateGrad(hs[t].sub(a.threshold), a.surrogate, a.alpha);
      let dvdh: tf.Tensor;
      if (a.reset === 'hard') dvdh = a.detachReset ? tf.scalar(1).sub(s) : tf.scalar(1).sub(s).add(tf.scalar(a.vReset).sub(hs[t]).mul(sg));
      else dvdh = a.detachReset ? tf.onesLike(sg) : tf.scalar(1).sub(sg.mul(a.threshold));
      const gh = gs[t].mul(sg).add(gv.mul(dvdh));
      gx[t] = a.leak ? gh.mul(decay) : gh;
      gv = keep === null ? gh : gh.mul(keep);
      const sPrev = t > 0 ? fire(hs[t - 1], a) : null;
      if (xs !== null) {
        const vPrev = sPrev === null ? tf.scalar(a.vReset) : resetMembrane(hs[t - 1], sPrev, a);
        gk = gk.add(gh.mul(xs[t].sub(vPrev.sub(a.vReset))).sum());
      }
      if (sPrev !== null) s = sPrev;
    }
    return [tf.concat(gx, 0).reshape(dy.shape), gk];
  });
}

export const composedNeuronKernels = (backendName: string): tf.KernelConfig[] => [
  {
    kernelName: SnnNeuronForward,
    backendName,
    kernelFunc: ({ inputs, attrs }) => neuronForward(input(inputs, 'x'), input(inputs, 'decay'), neuronAttrsOf(attrs ?? {})),
  },
  {
    kernelName: SnnNeuronBackward,
    backendName,
    kernelFunc: ({ inputs, attrs }) => {
      const a = neuronAttrsOf(attrs ?? {});
      const x = a.decayGrad ? optionalInput(inputs, 'x') : null;
      if (a.decayGrad && x === null) throw new Error(`${SnnNeuronBackward}: decayGrad needs the input x`);
      return neuronBackward(input(inputs, 'dy'), input(inputs, 'h'), input(inputs, 'decay'), x, a);
    },
  },
];
