/** What every architecture in the registry builds, and what the trainer and eval rely on. */
import type * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '../snn/neuron.js';
import type { QuantSpec } from '../quant/index.js';
import type { TraceNode } from './trace.js';

export interface InputSpec {
  height: number;
  width: number;
  channels: number;
  numClasses: number;
}

/** One row of a model summary: a layer, its output shape per time step, its cost. */
export interface LayerInfo {
  key: string;
  kind: 'conv' | 'bn' | 'neuron' | 'linear' | 'pool' | 'join' | 'encode';
  outShape: number[];
  params: number;
  /** Multiply-accumulates per image per time step. */
  macs: number;
  /** For joins: which tensors meet and how (e.g. `x + stage1.block0.bn2`). */
  note?: string;
  /** For conv/linear: the neuron layer whose spikes it reads, or null for real values (the image). */
  input?: string | null;
}

export interface SpikingModel {
  arch: string;
  /** The residual connection the network was built with. */
  connection: string;
  /** Trainable parameters by dotted key (e.g. `stage1.block0.conv1.weight`). */
  params: Map<string, tf.Variable>;
  /** Non-trainable state (BN running statistics). */
  buffers: Map<string, tf.Variable>;
  /** Names of the spiking layers, in forward order. */
  neuronLayers: string[];
  layers: LayerInfo[];
  /** Quantised weights: parameter key → how it is quantised (empty for a float model). */
  quantized: Map<string, QuantSpec>;
  /** Images [N, H, W, C] → logits [N, classes] (time-mean readout). */
  forward(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D;
  /** The network as a graph (for export): one eval-mode forward pass of `x` at T steps, recorded (trace.ts). */
  trace?(x: tf.Tensor4D, timesteps: number): TraceNode[];
  dispose(): void;
}
