/**
 * The per-node loops of the reference runtime (reference.ts): ternary and float convolution and
 * linear layers, the LIF/IF neuron with its spike tally, and pooling, each compiled once into a
 * closure over its input and output buffers. The maths and arithmetic are described in
 * reference.ts's doc comment.
 */
import { size, type ConvNode, type LinearNode, type NeuronNode, type PoolNode } from '../model.js';

/** One node's work on its buffers for one image (or one time step). */
export type Kernel = () => void;

/** Ternary codes as index lists per input tap: the outputs to add to and to subtract from. */
export interface TapLists {
  plusStart: Int32Array;
  plus: Int32Array;
  minusStart: Int32Array;
  minus: Int32Array;
}

/** `codes` laid out [taps, out] (conv [kh, kw, in, out], linear [in, out]). */
export function tapLists(codes: Int8Array, out: number): TapLists {
  const taps = codes.length / out;
  const plusStart = new Int32Array(taps + 1);
  const minusStart = new Int32Array(taps + 1);
  let np = 0;
  let nm = 0;
  for (let j = 0; j < taps; j++) {
    for (let o = 0; o < out; o++) {
      const c = codes[j * out + o];
      if (c > 0) np++;
      else if (c < 0) nm++;
    }
    plusStart[j + 1] = np;
    minusStart[j + 1] = nm;
  }
  const plus = new Int32Array(np);
  const minus = new Int32Array(nm);
  np = 0;
  nm = 0;
  for (let j = 0; j < taps; j++) {
    for (let o = 0; o < out; o++) {
      const c = codes[j * out + o];
      if (c > 0) plus[np++] = o;
      else if (c < 0) minus[nm++] = o;
    }
  }
  return { plusStart, plus, minusStart, minus };
}

export function convKernel(n: ConvNode, x: Float32Array, y: Float32Array): Kernel {
  const [H, W, C] = n.inShape;
  const [OH, OW, O] = n.shape;
  const { kernel: K, stride: S, pad: P } = n;
  const acc = new Float32Array(O);
  const bias = n.bias;
  if (n.weights.kind === 'ternary') {
    // Event-driven: each non-zero input is added to (or subtracted from) the outputs it reaches.
    const { plusStart, plus, minusStart, minus } = tapLists(n.weights.codes, O);
    const scale = n.weights.scale;
    const sums = new Float32Array(OH * OW * O);
    return () => {
      sums.fill(0);
      for (let ih = 0; ih < H; ih++) {
        for (let iw = 0; iw < W; iw++) {
          const xBase = (ih * W + iw) * C;
          for (let c = 0; c < C; c++) {
            const v = x[xBase + c];
            if (v === 0) continue;
            for (let kh = 0; kh < K; kh++) {
              const ohS = ih + P - kh;
              if (ohS < 0 || ohS % S !== 0) continue;
              const oh = ohS / S;
              if (oh >= OH) continue;
              for (let kw = 0; kw < K; kw++) {
                const owS = iw + P - kw;
                if (owS < 0 || owS % S !== 0) continue;
                const ow = owS / S;
                if (ow >= OW) continue;
                const j = (kh * K + kw) * C + c;
                const base = (oh * OW + ow) * O;
                for (let p = plusStart[j], e = plusStart[j + 1]; p < e; p++) sums[base + plus[p]] += v;
                for (let p = minusStart[j], e = minusStart[j + 1]; p < e; p++) sums[base + minus[p]] -= v;
              }
            }
          }
        }
      }
      for (let i = 0, o = 0; i < sums.length; i++) {
        y[i] = sums[i] * scale[o] + bias[o];
        if (++o === O) o = 0;
      }
    };
  }
  const w = n.weights.values;
  return () => {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        acc.set(bias);
        for (let kh = 0; kh < K; kh++) {
          const ih = oh * S - P + kh;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < K; kw++) {
            const iw = ow * S - P + kw;
            if (iw < 0 || iw >= W) continue;
            const xBase = (ih * W + iw) * C;
            const tBase = (kh * K + kw) * C;
            for (let c = 0; c < C; c++) {
              const v = x[xBase + c];
              if (v === 0) continue;
              const wBase = (tBase + c) * O;
              for (let o = 0; o < O; o++) acc[o] += v * w[wBase + o];
            }
          }
        }
        y.set(acc, (oh * OW + ow) * O);
      }
    }
  };
}

export function linearKernel(n: LinearNode, x: Float32Array, y: Float32Array): Kernel {
  const I = n.inFeatures;
  const O = n.outFeatures;
  const acc = new Float32Array(O);
  const bias = n.bias;
  if (n.weights.kind === 'ternary') {
    const { plusStart, plus, minusStart, minus } = tapLists(n.weights.codes, O);
    const scale = n.weights.scale;
    return () => {
      acc.fill(0);
      for (let i = 0; i < I; i++) {
        const v = x[i];
        if (v === 0) continue;
        for (let p = plusStart[i], e = plusStart[i + 1]; p < e; p++) acc[plus[p]] += v;
        for (let p = minusStart[i], e = minusStart[i + 1]; p < e; p++) acc[minus[p]] -= v;
      }
      for (let o = 0; o < O; o++) y[o] = acc[o] * scale[o] + bias[o];
    };
  }
  const w = n.weights.values;
  return () => {
    acc.set(bias);
    for (let i = 0; i < I; i++) {
      const v = x[i];
      if (v === 0) continue;
      const base = i * O;
      for (let o = 0; o < O; o++) acc[o] += v * w[base + o];
    }
    y.set(acc);
  };
}

/** Spike counts of one neuron layer. */
export interface NeuronTally {
  spikes: number;
  /** Neuron-steps seen. */
  steps: number;
}

export function neuronKernel(n: NeuronNode, x: Float32Array, y: Float32Array, v: Float32Array, tally: NeuronTally): Kernel {
  const { decay: k, threshold: vth, vReset: vr } = n.neuron;
  const leak = n.neuron.model === 'lif';
  const hard = n.neuron.reset === 'hard';
  const m = y.length;
  return () => {
    let count = 0;
    for (let i = 0; i < m; i++) {
      const vi = v[i];
      const hi = leak ? vi + (x[i] - (vi - vr)) * k : vi + x[i];
      if (hi >= vth) {
        y[i] = 1;
        count++;
        v[i] = hard ? vr : hi - vth;
      } else {
        y[i] = 0;
        v[i] = hi;
      }
    }
    tally.spikes += count;
    tally.steps += m;
  };
}

export function poolKernel(n: PoolNode, x: Float32Array, y: Float32Array): Kernel {
  const [H, W, C] = n.inShape;
  if (n.op === 'avgpool') {
    const hw = H * W;
    const sum = new Float64Array(C);
    return () => {
      sum.fill(0);
      for (let p = 0; p < hw; p++) for (let c = 0; c < C; c++) sum[c] += x[p * C + c];
      for (let c = 0; c < C; c++) y[c] = sum[c] / hw;
    };
  }
  const [OH, OW] = n.shape;
  const { kernel: K, stride: S, pad: P } = n;
  return () => {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let c = 0; c < C; c++) {
          let best = -Infinity;
          for (let kh = 0; kh < K; kh++) {
            const ih = oh * S - P + kh;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < K; kw++) {
              const iw = ow * S - P + kw;
              if (iw < 0 || iw >= W) continue;
              const v = x[(ih * W + iw) * C + c];
              if (v > best) best = v;
            }
          }
          y[(oh * OW + ow) * C + c] = best;
        }
      }
    }
  };
}

