/**
 * An exported network in memory: the graph of layers with BatchNorm folded in, ternary layers as
 * codes {−1, 0, +1} with one float scale per output channel, everything else float32. The
 * exporter (graph.ts) builds it from a trained model, the `snn` format (snnFormat.ts) writes and
 * reads it, the engine (engine/) runs it and the NIR writer (nir.ts) translates it.
 *
 * This module and everything the engine imports is free of TensorFlow.js.
 *
 * Layouts follow the trainer's (TensorFlow's): feature maps are [H, W, C] per image and time
 * step, conv weights [kh, kw, in, out], linear weights [in, out]; flattening is in H, W, C order.
 */

/** Weights of one conv or linear layer, in its layout, with BN already folded into the scale. */
export type LayerWeights =
  | {
      kind: 'ternary';
      /** Codes in {−1, 0, +1}, one per weight. */
      codes: Int8Array;
      /** Per output channel: α·γ/σ after folding (α alone when no BN follows). */
      scale: Float32Array;
    }
  | {
      kind: 'float32';
      /** W·γ/σ per output channel (W when no BN follows). */
      values: Float32Array;
    };

export interface NeuronSpec {
  /** lif (also PLIF, with its learned τ) or if. */
  model: 'lif' | 'if';
  /** 1/τ used in the charge equation (1 for IF). */
  decay: number;
  threshold: number;
  vReset: number;
  reset: 'hard' | 'soft';
  /** The layer was a PLIF layer; `decay` is its trained sigmoid(w). */
  learnedTau: boolean;
}

interface Base {
  id: string;
  /** Ids of the nodes this one reads, in order. */
  inputs: string[];
  /** Output per image per time step: [H, W, C] or [features]. */
  shape: number[];
}

export interface ConvNode extends Base {
  op: 'conv';
  kernel: number;
  stride: number;
  pad: number;
  inChannels: number;
  outChannels: number;
  /** Input feature map [H, W, C]. */
  inShape: number[];
  weights: LayerWeights;
  bias: Float32Array;
  /** The bits the layer was trained with (32: float). */
  trainedBits: number;
  bnFolded: boolean;
}

export interface LinearNode extends Base {
  op: 'linear';
  inFeatures: number;
  outFeatures: number;
  weights: LayerWeights;
  bias: Float32Array;
  trainedBits: number;
  bnFolded: false;
}

export interface NeuronNode extends Base {
  op: 'neuron';
  neuron: NeuronSpec;
}

export interface JoinNode extends Base {
  /** add: a + b; iand: (1 − a) · b (a the first input); mean: the average of all inputs. */
  op: 'add' | 'iand' | 'mean';
}

export interface PoolNode extends Base {
  /** maxpool: k×k max with stride and padding (padding never wins); avgpool: global average over H, W. */
  op: 'maxpool' | 'avgpool';
  kernel: number;
  stride: number;
  pad: number;
  inShape: number[];
}

export interface PlainNode extends Base {
  /**
   * input: the normalised image; flatten: [H, W, C] → [H·W·C]; repeat: the value of its input
   * at every time step (direct encoding: what comes before it is computed once per image);
   * timeMean: the mean over the T steps of its input (the readout; what follows runs once).
   */
  op: 'input' | 'flatten' | 'repeat' | 'timeMean';
}

export type ExportNode = ConvNode | LinearNode | NeuronNode | JoinNode | PoolNode | PlainNode;

export interface ExportInput {
  height: number;
  width: number;
  channels: number;
  /** Per-channel mean and std on the [0, 1] pixel scale: x = (pixel/255 − mean)/std. */
  mean: number[];
  std: number[];
  encoding: 'direct';
}

export interface ExportModel {
  input: ExportInput;
  numClasses: number;
  timesteps: number;
  /** In an order where every node comes after its inputs. */
  nodes: ExportNode[];
  /** The node whose output are the logits. */
  output: string;
}

/** Weight count of a conv or linear node. */
export function weightCount(n: ConvNode | LinearNode): number {
  return n.op === 'conv' ? n.kernel * n.kernel * n.inChannels * n.outChannels : n.inFeatures * n.outFeatures;
}

export const outChannels = (n: ConvNode | LinearNode): number => (n.op === 'conv' ? n.outChannels : n.outFeatures);

export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Bytes of the network if every weight, scale and bias were float32 (the float reference size). */
export function float32Bytes(m: ExportModel): number {
  let n = 0;
  for (const node of m.nodes) {
    if (node.op === 'conv' || node.op === 'linear') n += 4 * (weightCount(node) + node.bias.length);
  }
  return n;
}
