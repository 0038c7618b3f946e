/**
 * SnnNeuronForward and SnnNeuronBackward as one loop over all T time steps on typed arrays
 * (equations in src/engine/snnKernels.ts), for backends whose tensors live in host memory
 * (cpu; wasm without snn's addon). Composing the recursion from tensor ops costs T × (about
 * eight) small kernels forward and more backward, each allocating a tensor; one pass over a typed
 * array is far cheaper on a CPU engine. 'smooth' firing (gradient checks) runs the composed
 * kernels instead.
 */
import * as tf from '@tensorflow/tfjs';
import { neuronAttrsOf, SnnNeuronBackward, SnnNeuronForward, type NeuronAttrs } from '../../engine/snnKernels.js';
import { input, optionalInput } from '../composed/io.js';
import { neuronBackward, neuronForward } from '../composed/neuron.js';
import { surrogateGrad } from '../composed/surrogate.js';

/** Forward on raw arrays: `x` holds T blocks of m values; returns S, H and the spike count. */
export function lifForwardArrays(x: Float32Array, a: NeuronAttrs, k: number): { s: Float32Array; h: Float32Array; count: number } {
  const T = a.timesteps;
  const m = x.length / T;
  const s = new Float32Array(x.length);
  const h = new Float32Array(x.length);
  const v = new Float32Array(m).fill(a.vReset);
  const { threshold: vth, vReset: vr } = a;
  const hard = a.reset === 'hard';
  let count = 0;
  for (let t = 0; t < T; t++) {
    const o = t * m;
    for (let i = 0; i < m; i++) {
      const vi = v[i];
      const hi = a.leak ? vi + (x[o + i] - (vi - vr)) * k : vi + x[o + i];
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
 * BPTT on raw arrays, S recomputed from H, the surrogate g'(H − V_th) given precomputed at every
 * element (`sgAll`: the costly part, an exp per element for sigmoid, which the engine's
 * vectorised ops do faster than a scalar loop). `x` only for ∂L/∂k (null otherwise).
 */
export function lifBackwardArrays(
  gs: Float32Array,
  h: Float32Array,
  sgAll: Float32Array,
  a: NeuronAttrs,
  k: number,
  x: Float32Array | null,
): { gx: Float32Array; gk: number } {
  const T = a.timesteps;
  const m = gs.length / T;
  const gx = new Float32Array(gs.length);
  const gv = new Float32Array(m);
  const { vReset: vr, threshold: vth, detachReset: detach } = a;
  const carry = a.leak ? 1 - k : 1;
  const kx = a.leak ? k : 1;
  const hard = a.reset === 'hard';
  let gk = 0;
  for (let t = T - 1; t >= 0; t--) {
    const o = t * m;
    const po = o - m;
    for (let i = 0; i < m; i++) {
      const hi = h[o + i];
      const si = hi >= vth ? 1 : 0;
      const sg = sgAll[o + i];
      let dvdh: number;
      if (hard) dvdh = detach ? 1 - si : 1 - si + (vr - hi) * sg;
      else dvdh = detach ? 1 : 1 - vth * sg;
      const gh = gs[o + i] * sg + gv[i] * dvdh;
      gx[o + i] = gh * kx;
      gv[i] = gh * carry;
      if (x) {
        // V_{t-1} from the previous step's H (V_reset before the first step).
        let vPrev = vr;
        if (t > 0) {
          const hp = h[po + i];
          const sp = hp >= vth ? 1 : 0;
          vPrev = hard ? hp * (1 - sp) + vr * sp : hp - vth * sp;
        }
        gk += gh * (x[o + i] - (vPrev - vr));
      }
    }
  }
  return { gx, gk };
}

const values = (t: tf.Tensor): Float32Array => t.dataSync() as Float32Array;

export const neuronLoopKernels = (backendName: string): tf.KernelConfig[] => [
  {
    kernelName: SnnNeuronForward,
    backendName,
    kernelFunc: ({ inputs, attrs }) => {
      const a = neuronAttrsOf(attrs ?? {});
      const x = input(inputs, 'x');
      const decay = input(inputs, 'decay');
      if (a.firing === 'smooth') return neuronForward(x, decay, a);
      const { s, h } = lifForwardArrays(values(x), a, values(decay)[0]);
      return [tf.tensor(s, x.shape, 'float32'), tf.tensor(h, x.shape, 'float32')];
    },
  },
  {
    kernelName: SnnNeuronBackward,
    backendName,
    kernelFunc: ({ inputs, attrs }) => {
      const a = neuronAttrsOf(attrs ?? {});
      const dy = input(inputs, 'dy');
      const h = input(inputs, 'h');
      const decay = input(inputs, 'decay');
      const x = a.decayGrad ? optionalInput(inputs, 'x') : null;
      if (a.decayGrad && x === null) throw new Error(`${SnnNeuronBackward}: decayGrad needs the input x`);
      if (a.firing === 'smooth') return neuronBackward(dy, h, decay, x, a);
      const sg = tf.tidy(() => surrogateGrad(h.sub(a.threshold), a.surrogate, a.alpha));
      const r = lifBackwardArrays(values(dy), values(h), values(sg), a, values(decay)[0], x === null ? null : values(x));
      sg.dispose();
      return [tf.tensor(r.gx, dy.shape, 'float32'), tf.scalar(r.gk)];
    },
  },
];
