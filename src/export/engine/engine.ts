/**
 * The inference engine of exported networks: plain loops over typed arrays, no TensorFlow.js.
 *
 * One image at a time, time step by time step, layer by layer, with the neuron state carried
 * across steps (the trainer runs layer by layer over all steps at once; for a feed-forward
 * graph the two orders compute the same values):
 *
 * - before `repeat` (direct encoding: the stem conv): computed once per image;
 * - between `repeat` and `timeMean`: at every step t = 0 … T−1;
 * - `timeMean` averages its input over the steps, and what follows it runs once.
 *
 * Ternary layers are additions and subtractions: for every input value x ≠ 0 (a spike is 1),
 * x is added to the outputs whose code is +1 and subtracted from those whose code is −1 (index
 * lists built once from the codes); each output is then multiplied once by its channel scale
 * and shifted by its bias (BN folded). Float layers (the stem and the classifier when they
 * were trained in float) multiply as usual.
 *
 * Neurons use the trainer's maths (src/snn/lif.ts), in the same arithmetic: the membrane is
 * stored as float32, charged in double precision, and fires when H ≥ V_th (Θ(0) = 1):
 *   H_t = V_{t−1} + (X_t − (V_{t−1} − V_reset))·(1/τ)   (IF: H_t = V_{t−1} + X_t)
 *   hard reset V_t = V_reset where it fired, soft V_t = H_t − V_th; V_{−1} = V_reset.
 */
import { size, type ConvNode, type ExportModel, type ExportNode, type LinearNode, type NeuronNode, type PoolNode } from '../model.js';

type Kernel = () => void;

interface Compiled {
  static: Kernel[];
  step: Kernel[];
  final: Kernel[];
  /** Called before each image: neuron states to V_reset, readout accumulators to 0. */
  reset: Kernel[];
  /** Called after the last step (readout means). */
  finish: Kernel[];
}

/** Ternary codes as index lists per input tap: the outputs to add to and to subtract from. */
interface TapLists {
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

function convKernel(n: ConvNode, x: Float32Array, y: Float32Array): Kernel {
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

function linearKernel(n: LinearNode, x: Float32Array, y: Float32Array): Kernel {
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

function neuronKernel(n: NeuronNode, x: Float32Array, y: Float32Array, v: Float32Array, tally: NeuronTally): Kernel {
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

function poolKernel(n: PoolNode, x: Float32Array, y: Float32Array): Kernel {
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

export interface EngineResult {
  logits: Float32Array;
}

/**
 * A compiled network. `run` takes one normalised image ([H, W, C] floats) and returns its
 * logits (the time-mean readout); spike counts accumulate in `tallies` until `resetTallies`.
 */
export class Engine {
  readonly tallies = new Map<string, NeuronTally>();
  readonly neuronLayers: string[] = [];
  private readonly compiled: Compiled;
  private readonly buffers = new Map<string, Float32Array>();
  private readonly inputBuffer: Float32Array;
  private readonly outputBuffer: Float32Array;
  private readonly T: number;

  constructor(readonly model: ExportModel, timesteps = model.timesteps) {
    if (!Number.isInteger(timesteps) || timesteps < 1) throw new Error(`engine: timesteps must be a positive integer, got ${timesteps}`);
    this.T = timesteps;
    this.compiled = { static: [], step: [], final: [], reset: [], finish: [] };
    const phase = new Map<string, 'static' | 'step' | 'final'>();
    const byId = new Map<string, ExportNode>();
    for (const n of model.nodes) {
      if (byId.has(n.id)) throw new Error(`engine: node ${n.id} appears twice`);
      for (const i of n.inputs) if (!byId.has(i)) throw new Error(`engine: node ${n.id} reads ${i}, which does not come before it`);
      byId.set(n.id, n);
      const ins = n.inputs.map((i) => phase.get(i)!);
      let p: 'static' | 'step' | 'final';
      if (n.op === 'input') p = 'static';
      else if (n.op === 'repeat') {
        if (ins[0] !== 'static') throw new Error(`engine: ${n.id} repeats a value that already changes over time`);
        p = 'step';
      } else if (n.op === 'timeMean') {
        if (ins[0] === 'final') throw new Error(`engine: ${n.id} averages over time twice`);
        p = 'final';
      } else if (ins.includes('final')) {
        if (ins.some((q) => q !== 'final')) throw new Error(`engine: ${n.id} mixes per-step values with the time-mean readout`);
        p = 'final';
      } else if (ins.includes('step')) {
        if (ins.includes('static')) throw new Error(`engine: ${n.id} mixes per-step and constant inputs`);
        p = 'step';
      } else p = 'static';
      if (n.op === 'neuron' && p !== 'step') throw new Error(`engine: neuron layer ${n.id} must run at every time step`);
      phase.set(n.id, p);
      this.compile(n, p);
    }
    const input = model.nodes[0];
    if (input?.op !== 'input') throw new Error('engine: the first node must be the input');
    this.inputBuffer = this.buffers.get(input.id)!;
    const out = this.buffers.get(model.output);
    if (!out) throw new Error(`engine: output node ${model.output} not found`);
    if (phase.get(model.output) !== 'final') throw new Error(`engine: output node ${model.output} must follow the time-mean readout`);
    if (out.length !== model.numClasses) throw new Error(`engine: output ${model.output} has ${out.length} values for ${model.numClasses} classes`);
    this.outputBuffer = out;
  }

  private compile(n: ExportNode, p: 'static' | 'step' | 'final'): void {
    const buf = (id: string): Float32Array => this.buffers.get(id)!;
    const x = n.inputs.length > 0 ? buf(n.inputs[0]) : null;
    const list = this.compiled[p];
    let y: Float32Array;
    switch (n.op) {
      case 'input':
        y = new Float32Array(size(n.shape));
        break;
      case 'repeat':
      case 'flatten':
        // Same values in the same (H, W, C) order: share the buffer.
        y = x!;
        break;
      case 'conv':
        y = new Float32Array(size(n.shape));
        list.push(convKernel(n, x!, y));
        break;
      case 'linear':
        y = new Float32Array(size(n.shape));
        list.push(linearKernel(n, x!, y));
        break;
      case 'neuron': {
        y = new Float32Array(size(n.shape));
        const v = new Float32Array(y.length);
        const tally = { spikes: 0, steps: 0 };
        this.tallies.set(n.id, tally);
        this.neuronLayers.push(n.id);
        const vr = n.neuron.vReset;
        this.compiled.reset.push(() => v.fill(vr));
        list.push(neuronKernel(n, x!, y, v, tally));
        break;
      }
      case 'add': {
        // Two inputs at a residual join, more where DANet's dense links meet.
        y = new Float32Array(size(n.shape));
        const xs = n.inputs.map(buf);
        list.push(() => {
          y.set(xs[0]);
          for (let j = 1; j < xs.length; j++) {
            const xj = xs[j];
            for (let i = 0; i < y.length; i++) y[i] += xj[i];
          }
        });
        break;
      }
      case 'iand': {
        y = new Float32Array(size(n.shape));
        const a = x!;
        const b = buf(n.inputs[1]);
        list.push(() => {
          for (let i = 0; i < y.length; i++) y[i] = Math.fround(1 - a[i]) * b[i];
        });
        break;
      }
      case 'mean': {
        y = new Float32Array(size(n.shape));
        const xs = n.inputs.map(buf);
        const k = xs.length;
        list.push(() => {
          y.set(xs[0]);
          for (let j = 1; j < k; j++) {
            const xj = xs[j];
            for (let i = 0; i < y.length; i++) y[i] += xj[i];
          }
          for (let i = 0; i < y.length; i++) y[i] /= k;
        });
        break;
      }
      case 'maxpool':
      case 'avgpool':
        y = new Float32Array(size(n.shape));
        list.push(poolKernel(n, x!, y));
        break;
      case 'timeMean': {
        y = new Float32Array(size(n.shape));
        const sum = new Float64Array(y.length);
        const src = x!;
        const T = this.T;
        this.compiled.reset.push(() => sum.fill(0));
        this.compiled.step.push(() => {
          for (let i = 0; i < sum.length; i++) sum[i] += src[i];
        });
        this.compiled.finish.push(() => {
          for (let i = 0; i < sum.length; i++) y[i] = sum[i] / T;
        });
        break;
      }
    }
    this.buffers.set(n.id, y);
  }

  /** Logits of one normalised image ([H, W, C] floats), at T steps; the array is reused by the next call. */
  run(image: Float32Array): Float32Array {
    if (image.length !== this.inputBuffer.length) throw new Error(`engine: image has ${image.length} values, expected ${this.inputBuffer.length}`);
    this.inputBuffer.set(image);
    const c = this.compiled;
    for (const k of c.reset) k();
    for (const k of c.static) k();
    for (let t = 0; t < this.T; t++) for (const k of c.step) k();
    for (const k of c.finish) k();
    for (const k of c.final) k();
    return this.outputBuffer;
  }

  resetTallies(): void {
    for (const t of this.tallies.values()) {
      t.spikes = 0;
      t.steps = 0;
    }
  }

  /** The output of a node after the last `run` (its last time step for per-step nodes). */
  outputOf(id: string): Float32Array {
    const b = this.buffers.get(id);
    if (!b) throw new Error(`engine: no node ${id}`);
    return b;
  }
}
