/**
 * From a trained model (TensorFlow.js) to an ExportModel: trace one eval-mode forward pass into
 * a graph (src/models/trace.ts), then give every conv + BN its folded weights (fold.ts), every
 * quantised layer its codes, and every neuron layer its parameters.
 *
 * Which weights a layer gets:
 * - trained ternary (quant.bits 2) and `ternary` asked: TWN codes and scale, computed with the
 *   same function the forward pass uses (so the codes are the ones `snn eval` runs);
 * - any other quantised layer: the quantised values q(W), as float32;
 * - float layers (and first/last layers kept float): W, as float32.
 */
import * as tf from '@tensorflow/tfjs';
import type { SpikingModel } from '../models/types.js';
import type { TraceNode } from '../models/trace.js';
import { quantizeValue, type QuantSpec } from '../quant/index.js';
import { ternarize } from '../quant/ternary.js';
import { UserError } from '../util/errors.js';
import { bnAffine, foldFloatWeights, foldTernaryScale } from './fold.js';
import type { ExportInput, ExportModel, ExportNode, LayerWeights, NeuronSpec } from './model.js';

export interface GraphOptions {
  /** Write ternary layers as codes + scales (else every layer as float32). */
  ternary: boolean;
}

const values = (t: tf.Tensor): Float32Array => Float32Array.from(t.dataSync() as Float32Array);

function param(model: SpikingModel, key: string): tf.Tensor {
  const v = model.params.get(key) ?? model.buffers.get(key);
  if (!v) throw new Error(`export: the model has no tensor ${key}`);
  return v;
}

/** Weights as the forward pass sees them, before BN folding: codes + α, or float values. */
function layerWeights(w: tf.Tensor, quant: QuantSpec | null, ternary: boolean): { codes: Int8Array; alpha: Float32Array } | Float32Array {
  if (quant && quant.bits === 2 && ternary) {
    const t = ternarize(w, quant.perChannel);
    try {
      return { codes: Int8Array.from(t.codes.dataSync()), alpha: values(t.scale) };
    } finally {
      tf.dispose([t.codes, t.scale, t.threshold]);
    }
  }
  if (quant && quant.bits !== 32) {
    const q = quantizeValue(w, quant);
    try {
      return values(q);
    } finally {
      q.dispose();
    }
  }
  return values(w);
}

function neuronSpec(model: SpikingModel, n: NonNullable<TraceNode['neuron']>, key: string): NeuronSpec {
  if (n.type === 'relu') throw new UserError(`export: ${key} is a ReLU (model.neuron.type: relu builds an ANN); export writes spiking networks`);
  let decay = n.type === 'if' ? 1 : 1 / n.tau;
  if (n.type === 'plif') {
    if (!n.wKey) throw new Error(`export: PLIF layer ${key} has no w`);
    // As lif.ts computes it: 1/τ = sigmoid(w).
    decay = 1 / (1 + Math.exp(-param(model, n.wKey).dataSync()[0]));
  }
  return {
    model: n.type === 'if' ? 'if' : 'lif',
    decay,
    threshold: n.threshold,
    vReset: n.vReset,
    reset: n.reset,
    learnedTau: n.type === 'plif',
  };
}

/**
 * The model as an ExportModel. `input` gives the image shape and its normalisation; the trace
 * runs at T = 1 (the graph does not depend on T), `timesteps` is what the export runs at.
 */
export function exportModel(model: SpikingModel, input: Omit<ExportInput, 'encoding'>, numClasses: number, timesteps: number, opts: GraphOptions): ExportModel {
  if (!model.trace) throw new UserError(`export: architecture ${model.arch} cannot be traced into a graph`);
  const x = tf.zeros([1, input.height, input.width, input.channels]) as tf.Tensor4D;
  let trace: TraceNode[];
  try {
    trace = model.trace(x, 1);
  } finally {
    x.dispose();
  }
  const ids = trace.map((n) => n.key);
  if (new Set(ids).size !== ids.length) throw new Error(`export: duplicate layer keys in the traced graph`);
  const nodes: ExportNode[] = [];
  for (const t of trace) {
    const inputs = t.inputs.map((i) => trace[i].key);
    const base = { id: t.key, inputs, shape: t.shape };
    switch (t.op) {
      case 'conv': {
        const c = t.conv!;
        const w = param(model, `${t.key}.conv.weight`);
        const bn = bnAffine(
          values(param(model, `${t.key}.bn.weight`)),
          values(param(model, `${t.key}.bn.bias`)),
          values(param(model, `${t.key}.bn.running_mean`)),
          values(param(model, `${t.key}.bn.running_var`)),
          c.bnEps,
          c.bnScale,
        );
        const lw = layerWeights(w, c.quant, opts.ternary);
        const weights: LayerWeights =
          lw instanceof Float32Array
            ? { kind: 'float32', values: foldFloatWeights(lw, bn.scale) }
            : { kind: 'ternary', codes: lw.codes, scale: foldTernaryScale(lw.alpha, bn.scale) };
        const src = trace[t.inputs[0]];
        nodes.push({
          ...base,
          op: 'conv',
          kernel: c.kernel,
          stride: c.stride,
          pad: c.pad,
          inChannels: c.inChannels,
          outChannels: c.outChannels,
          inShape: src.shape,
          weights,
          bias: bn.shift,
          trainedBits: c.quant?.bits ?? 32,
          bnFolded: true,
        });
        break;
      }
      case 'linear': {
        const l = t.linear!;
        const lw = layerWeights(param(model, `${t.key}.weight`), l.quant, opts.ternary);
        const weights: LayerWeights = lw instanceof Float32Array ? { kind: 'float32', values: lw } : { kind: 'ternary', codes: lw.codes, scale: foldTernaryScale(lw.alpha, new Float32Array(l.outFeatures).fill(1)) };
        nodes.push({
          ...base,
          op: 'linear',
          inFeatures: l.inFeatures,
          outFeatures: l.outFeatures,
          weights,
          bias: values(param(model, `${t.key}.bias`)),
          trainedBits: l.quant?.bits ?? 32,
          bnFolded: false,
        });
        break;
      }
      case 'neuron':
        // Elementwise: the shape of what it reads (an FC layer's [F], not the [1, 1, F] it was reshaped to).
        nodes.push({ ...base, shape: trace[t.inputs[0]].shape, op: 'neuron', neuron: neuronSpec(model, t.neuron!, t.key) });
        break;
      case 'maxpool':
        nodes.push({ ...base, op: 'maxpool', kernel: t.pool!.kernel, stride: t.pool!.stride, pad: t.pool!.pad, inShape: trace[t.inputs[0]].shape });
        break;
      case 'avgpool': {
        const inShape = trace[t.inputs[0]].shape;
        nodes.push({ ...base, op: 'avgpool', kernel: inShape[0], stride: inShape[0], pad: 0, inShape });
        break;
      }
      case 'add':
      case 'iand':
      case 'mean':
      case 'input':
      case 'flatten':
      case 'repeat':
      case 'timeMean':
        nodes.push({ ...base, op: t.op });
        break;
    }
  }
  const last = nodes[nodes.length - 1];
  if (nodes[0]?.op !== 'input' || !(last.op === 'linear' || last.op === 'timeMean')) {
    throw new Error('export: the traced graph does not run from the input to a linear readout');
  }
  return { input: { ...input, encoding: 'direct' }, numClasses, timesteps, nodes, output: last.id };
}
