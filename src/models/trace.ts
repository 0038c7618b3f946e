/**
 * The network as a graph, recorded from one forward pass: export (src/export/) needs the nodes
 * (each conv + BN, neuron layer, linear layer, pooling, flatten) and the edges between them,
 * including every residual join, and the pieces of `builder.ts` only exist as closures.
 *
 * While a tracer is set on the builder, each piece records itself as a node whose inputs are
 * the nodes that produced its input tensors (tfjs tensors carry a unique `id`). Joins go through
 * `Builder.join`, so they are recorded too, and the few tensor ops of `resnet.ts` outside the
 * pieces (repeat over time, pooling, flatten, time-mean readout) record themselves. A tensor the
 * tracer has not seen produced is an error: a graph is never written with a missing edge.
 */
import type * as tf from '@tensorflow/tfjs';
import type { QuantSpec } from '../quant/index.js';

export type TraceOp =
  | 'input'
  | 'conv'
  | 'neuron'
  | 'linear'
  | 'add'
  | 'iand'
  | 'mean'
  | 'maxpool'
  | 'avgpool'
  | 'flatten'
  | 'repeat'
  | 'timeMean';

export interface TraceConv {
  kernel: number;
  stride: number;
  pad: number;
  inChannels: number;
  outChannels: number;
  /** tdBN's α·V_th multiplying the normalised value (1 for plain BN). */
  bnScale: number;
  bnEps: number;
  /** How the weight is quantised in the forward pass (null: float). */
  quant: QuantSpec | null;
}

export interface TraceLinear {
  inFeatures: number;
  outFeatures: number;
  quant: QuantSpec | null;
}

export interface TraceNeuron {
  type: 'lif' | 'if' | 'plif' | 'relu';
  tau: number;
  threshold: number;
  vReset: number;
  reset: 'hard' | 'soft';
  /** PLIF: the parameter key of w (1/τ = sigmoid(w)). */
  wKey: string | null;
}

export interface TracePool {
  kernel: number;
  stride: number;
  pad: number;
}

export interface TraceNode {
  id: number;
  op: TraceOp;
  /** The layer key (`stage1.block0.conv1`, `stem.sn`, `head`, `stage1.block0.join`, ...). */
  key: string;
  /** Ids of the nodes whose outputs this node reads, in order (for iand: the spikes a, then s). */
  inputs: number[];
  /** Output shape per image per time step: [H, W, C] or [features]. */
  shape: number[];
  conv?: TraceConv;
  linear?: TraceLinear;
  neuron?: TraceNeuron;
  pool?: TracePool;
}

export class GraphTracer {
  readonly nodes: TraceNode[] = [];
  private readonly producer = new Map<number, number>();

  /** The node that produced `t`; an error if none did (an op the trace does not cover). */
  private source(t: tf.Tensor, key: string): number {
    const id = this.producer.get(t.id);
    if (id === undefined) throw new Error(`graph trace: ${key} reads a tensor that no recorded layer produced`);
    return id;
  }

  /** Records a node reading `inputs` and producing `output`; returns `output`. */
  record<T extends tf.Tensor>(op: TraceOp, key: string, inputs: tf.Tensor[], output: T, extra: Partial<TraceNode> = {}): T {
    const node: TraceNode = {
      ...extra,
      id: this.nodes.length,
      op,
      key,
      inputs: inputs.map((t) => this.source(t, key)),
      shape: output.shape.slice(1),
    };
    this.nodes.push(node);
    this.producer.set(output.id, node.id);
    return output;
  }

  /** `to` holds the same values as `from` in another shape (a reshape between pieces). */
  alias<T extends tf.Tensor>(from: tf.Tensor, to: T): T {
    this.producer.set(to.id, this.source(from, 'reshape'));
    return to;
  }
}
