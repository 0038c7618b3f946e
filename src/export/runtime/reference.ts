/**
 * The reference runtime of exported networks: plain loops over typed arrays, no TensorFlow.js.
 * The fast runtime (runtime.ts: bit-packed kernels in wasm or native code) must reproduce it
 * bit for bit; it is selectable with `snn eval --exported --runtime reference`.
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
import { size, type ExportModel, type ExportNode } from '../model.js';
import { convKernel, linearKernel, neuronKernel, poolKernel, type Kernel, type NeuronTally } from './referenceKernels.js';

export type { NeuronTally } from './referenceKernels.js';

interface Compiled {
  static: Kernel[];
  step: Kernel[];
  final: Kernel[];
  /** Called before each image: neuron states to V_reset, readout accumulators to 0. */
  reset: Kernel[];
  /** Called after the last step (readout means). */
  finish: Kernel[];
}

export type Phase = 'static' | 'step' | 'final';

/**
 * When each node runs: 'static' once per image (before `repeat`), 'step' at every time step,
 * 'final' once after `timeMean`. Throws on a graph the runtimes cannot run.
 */
export function assignPhases(model: ExportModel): Map<string, Phase> {
  const phase = new Map<string, Phase>();
  for (const n of model.nodes) {
    if (phase.has(n.id)) throw new Error(`runtime: node ${n.id} appears twice`);
    for (const i of n.inputs) if (!phase.has(i)) throw new Error(`runtime: node ${n.id} reads ${i}, which does not come before it`);
    const ins = n.inputs.map((i) => phase.get(i)!);
    let p: Phase;
    if (n.op === 'input') p = 'static';
    else if (n.op === 'repeat') {
      if (ins[0] !== 'static') throw new Error(`runtime: ${n.id} repeats a value that already changes over time`);
      p = 'step';
    } else if (n.op === 'timeMean') {
      if (ins[0] === 'final') throw new Error(`runtime: ${n.id} averages over time twice`);
      p = 'final';
    } else if (ins.includes('final')) {
      if (ins.some((q) => q !== 'final')) throw new Error(`runtime: ${n.id} mixes per-step values with the time-mean readout`);
      p = 'final';
    } else if (ins.includes('step')) {
      if (ins.includes('static')) throw new Error(`runtime: ${n.id} mixes per-step and constant inputs`);
      p = 'step';
    } else p = 'static';
    if (n.op === 'neuron' && p !== 'step') throw new Error(`runtime: neuron layer ${n.id} must run at every time step`);
    phase.set(n.id, p);
  }
  if (model.nodes[0]?.op !== 'input') throw new Error('runtime: the first node must be the input');
  if (!phase.has(model.output)) throw new Error(`runtime: output node ${model.output} not found`);
  if (phase.get(model.output) !== 'final') throw new Error(`runtime: output node ${model.output} must follow the time-mean readout`);
  return phase;
}

/**
 * A compiled network. `run` takes one normalised image ([H, W, C] floats) and returns its
 * logits (the time-mean readout); spike counts accumulate in `tallies` until `resetTallies`.
 */
export class ReferenceRuntime {
  readonly tallies = new Map<string, NeuronTally>();
  readonly neuronLayers: string[] = [];
  private readonly compiled: Compiled;
  private readonly buffers = new Map<string, Float32Array>();
  private readonly inputBuffer: Float32Array;
  private readonly outputBuffer: Float32Array;
  private readonly T: number;

  constructor(readonly model: ExportModel, timesteps = model.timesteps) {
    if (!Number.isInteger(timesteps) || timesteps < 1) throw new Error(`runtime: timesteps must be a positive integer, got ${timesteps}`);
    this.T = timesteps;
    this.compiled = { static: [], step: [], final: [], reset: [], finish: [] };
    const phase = assignPhases(model);
    for (const n of model.nodes) this.compile(n, phase.get(n.id)!);
    this.inputBuffer = this.buffers.get(model.nodes[0].id)!;
    const out = this.buffers.get(model.output)!;
    if (out.length !== model.numClasses) throw new Error(`runtime: output ${model.output} has ${out.length} values for ${model.numClasses} classes`);
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
    if (image.length !== this.inputBuffer.length) throw new Error(`runtime: image has ${image.length} values, expected ${this.inputBuffer.length}`);
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
    if (!b) throw new Error(`runtime: no node ${id}`);
    return b;
  }
}
