/**
 * The pieces networks are assembled from, each recording itself in the model summary (output
 * shape, parameters, MACs) as it is built. A piece is a function [T·N, H, W, C] → same layout.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig, QuantConfig } from '../config/schema.js';
import { weightFn, type QuantSpec } from '../quant/index.js';
import { applyNeuron, neuronLayer, type ForwardContext } from '../snn/neuron.js';
import {
  addParam,
  addSameShape,
  applyBatchNorm,
  applyConv,
  applyLinear,
  batchNorm,
  conv,
  linear,
  type ParamStore,
} from './layers.js';
import type { LayerInfo } from './types.js';
import type { GraphTracer } from './trace.js';

export type Piece = (x: tf.Tensor4D, ctx: ForwardContext) => tf.Tensor4D;
/** How feature maps meet: `add` a + b, `iand` (1 − a) · b, `mean` of all. */
export type JoinOp = 'add' | 'iand' | 'mean';
export type Piece2D = (x: tf.Tensor2D, ctx: ForwardContext) => tf.Tensor2D;

/** Spatial size and channels of the feature map a piece produces. */
export interface FeatureShape {
  h: number;
  w: number;
  c: number;
}

export interface Builder {
  store: ParamStore;
  cfg: ModelConfig;
  /** Weight keys that are quantised, and how. */
  quantized: Map<string, QuantSpec>;
  layers: LayerInfo[];
  neuronLayers: string[];
  /** conv k×k (stride s, symmetric padding k//2) + BN. */
  convBn(key: string, input: FeatureShape, out: number, k: number, s: number, o?: ConvBnOptions): { piece: Piece; shape: FeatureShape };
  /** A spiking neuron layer (or ReLU for `neuron.type: relu`). */
  neuron(key: string, shape: FeatureShape | number[]): Piece;
  linear(key: string, inF: number, outF: number): Piece2D;
  /** A summary row; with `feeds` (default: joins) the next layer reads it (its `input`). */
  note(key: string, kind: LayerInfo['kind'], shape: FeatureShape | number[], text: string, feeds?: boolean): void;
  /** What the next conv or linear layer reads unless told otherwise: the last neuron layer or join. */
  current(): string | null;
  /**
   * Where feature maps meet (residual joins, dense sums): computes the join and records it in a
   * trace. When a layer reads the join and `ctx.tallies` is set, the join's mean value is tallied
   * under its key (the rate the energy estimate needs: A + S, (1 − A)·S, a sum of spike maps).
   */
  join(key: string, op: JoinOp, xs: tf.Tensor4D[], ctx?: ForwardContext): tf.Tensor4D;
  /** Tallies the mean value of `x` under `key` when `ctx.tallies` is set (see `join`). */
  tally(key: string, x: tf.Tensor, ctx: ForwardContext): void;
  /** Set while a forward pass is traced into a graph (export); null otherwise. */
  tracer: GraphTracer | null;
}

export interface ConvBnOptions {
  /** tdBN's α for this BN (1 unless two BNs are summed before a neuron). */
  tdAlpha?: number;
  /** What it reads: a neuron layer or join key (default: the last one built), null: real values. */
  source?: string | null;
  /** BN γ starts at 0 (a residual branch's last BN with `model.zeroInitResidual`). */
  zeroGamma?: boolean;
}

const dims = (s: FeatureShape | number[]): number[] => (Array.isArray(s) ? s : [s.h, s.w, s.c]);

/** First and last layers (stem conv, classifier) stay float unless `firstLast: quantized`. */
const EDGE_LAYERS = new Set(['stem', 'head']);

export function createBuilder(store: ParamStore, cfg: ModelConfig, smooth = false, quant: QuantConfig | null = null): Builder {
  const quantized = new Map<string, QuantSpec>();
  const specFor = (key: string): QuantSpec | null => {
    if (quant === null || quant.bits === 32) return null;
    if (quant.firstLast === 'full' && EDGE_LAYERS.has(key)) return null;
    return { bits: quant.bits, perChannel: quant.perChannel };
  };
  const layers: LayerInfo[] = [];
  const neuronLayers: string[] = [];
  let lastNeuron: string | null = null;
  /** The keys some conv or linear layer reads (fixed once the model is built). */
  let read: Set<string> | null = null;
  const threshold = cfg.neuron.type === 'relu' ? 1 : cfg.neuron.threshold;
  const self: Builder = {
    store,
    cfg,
    quantized,
    layers,
    neuronLayers,
    tracer: null,
    convBn(key, input, out, k, s, o = {}) {
      const tdAlpha = o.tdAlpha ?? 1;
      const c = conv(store, `${key}.conv`, input.c, out, k, s);
      const spec = specFor(key);
      if (spec) quantized.set(`${key}.conv.weight`, spec);
      const q = weightFn(spec);
      const bn = batchNorm(store, `${key}.bn`, out, cfg.tdBN ? tdAlpha * threshold : 1, o.zeroGamma ? 0 : 1);
      const pad = Math.floor(k / 2);
      const h = Math.floor((input.h + 2 * pad - k) / s) + 1;
      const w = Math.floor((input.w + 2 * pad - k) / s) + 1;
      const params = k * k * input.c * out;
      const from = o.source === undefined ? lastNeuron : o.source;
      layers.push({ key: c.key, kind: 'conv', outShape: [h, w, out], params, macs: params * h * w, input: from });
      layers.push({ key: bn.key, kind: 'bn', outShape: [h, w, out], params: 2 * out, macs: 0 });
      const convInfo = { kernel: k, stride: s, pad, inChannels: input.c, outChannels: out, bnScale: bn.scale, bnEps: bn.eps, quant: spec };
      return {
        piece: (x, ctx) => {
          // tidy: the convolution's output and the quantised weights are freed here unless the
          // backward pass saved them (inside a gradient tape every temporary otherwise lives
          // until the whole backward pass ends).
          const y = tf.tidy(() => applyBatchNorm(bn, applyConv(c, x, q ? (q(c.weight) as tf.Tensor4D) : undefined), ctx.training));
          return self.tracer ? self.tracer.record('conv', key, [x], y, { conv: convInfo }) : y;
        },
        shape: { h, w, c: out },
      };
    },
    neuron(key, shape) {
      const n = neuronLayer(key, cfg.neuron, (k, v, sh) => addParam(store, k, v, sh), smooth);
      if (n.type !== 'relu') neuronLayers.push(key);
      lastNeuron = n.type === 'relu' ? null : key;
      layers.push({ key, kind: 'neuron', outShape: dims(shape), params: n.w ? 1 : 0, macs: 0 });
      const c = cfg.neuron;
      const neuron = { type: c.type, tau: c.tau, threshold: c.threshold, vReset: c.vReset, reset: c.reset, wKey: n.w ? `${key}.w` : null };
      return (x, ctx) => {
        const y = applyNeuron(n, x, ctx);
        return self.tracer ? self.tracer.record('neuron', key, [x], y, { neuron }) : y;
      };
    },
    linear(key, inF, outF) {
      const l = linear(store, key, inF, outF);
      const spec = specFor(key);
      if (spec) quantized.set(`${key}.weight`, spec);
      const q = weightFn(spec);
      layers.push({ key, kind: 'linear', outShape: [outF], params: inF * outF + outF, macs: inF * outF, input: lastNeuron });
      const info = { inFeatures: inF, outFeatures: outF, quant: spec };
      return (x) => {
        const y = applyLinear(l, x, q ? (q(l.weight) as tf.Tensor2D) : undefined);
        return self.tracer ? self.tracer.record('linear', key, [x], y, { linear: info }) : y;
      };
    },
    note(key, kind, shape, text, feeds = kind === 'join') {
      layers.push({ key, kind, outShape: dims(shape), params: 0, macs: 0, note: text });
      if (feeds) lastNeuron = key;
    },
    current: () => lastNeuron,
    join(key, op, xs, ctx) {
      let y: tf.Tensor4D;
      if (xs.length === 1 && op !== 'iand') y = xs[0];
      else if (op === 'add') y = addSameShape(xs);
      else if (op === 'iand') y = tf.scalar(1).sub(xs[0]).mul(xs[1]);
      else y = addSameShape(xs).div(xs.length);
      if (ctx) self.tally(key, y, ctx);
      if (xs.length === 1) return y;
      return self.tracer ? self.tracer.record(op, key, xs, y) : y;
    },
    tally(key, x, ctx) {
      if (!ctx.tallies) return;
      read ??= new Set(layers.map((l) => l.input).filter((k): k is string => typeof k === 'string'));
      if (!read.has(key)) return;
      const t = ctx.tallies.get(key) ?? { spikes: 0, neurons: 0 };
      t.spikes += tf.tidy(() => x.sum().dataSync()[0]);
      t.neurons += x.size;
      ctx.tallies.set(key, t);
    },
  };
  return self;
}
