/**
 * The pieces networks are assembled from, each recording itself in the model summary (output
 * shape, parameters, MACs) as it is built. A piece is a function [T·N, H, W, C] → same layout.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../config/schema.js';
import { applyNeuron, neuronLayer, type ForwardContext } from '../snn/neuron.js';
import {
  addParam,
  applyBatchNorm,
  applyConv,
  applyLinear,
  batchNorm,
  conv,
  linear,
  type ParamStore,
} from './layers.js';
import type { LayerInfo } from './types.js';

export type Piece = (x: tf.Tensor4D, ctx: ForwardContext) => tf.Tensor4D;
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
  layers: LayerInfo[];
  neuronLayers: string[];
  /** conv k×k (stride s, symmetric padding k//2) + BN; `tdAlpha` is tdBN's α for this BN. */
  convBn(key: string, input: FeatureShape, out: number, k: number, s: number, tdAlpha?: number): { piece: Piece; shape: FeatureShape };
  /** A spiking neuron layer (or ReLU for `neuron.type: relu`). */
  neuron(key: string, shape: FeatureShape | number[]): Piece;
  linear(key: string, inF: number, outF: number): Piece2D;
  note(key: string, kind: LayerInfo['kind'], shape: FeatureShape | number[], text: string): void;
}

const dims = (s: FeatureShape | number[]): number[] => (Array.isArray(s) ? s : [s.h, s.w, s.c]);

export function createBuilder(store: ParamStore, cfg: ModelConfig, smooth = false): Builder {
  const layers: LayerInfo[] = [];
  const neuronLayers: string[] = [];
  const threshold = cfg.neuron.type === 'relu' ? 1 : cfg.neuron.threshold;
  return {
    store,
    cfg,
    layers,
    neuronLayers,
    convBn(key, input, out, k, s, tdAlpha = 1) {
      const c = conv(store, `${key}.conv`, input.c, out, k, s);
      const bn = batchNorm(store, `${key}.bn`, out, cfg.tdBN ? tdAlpha * threshold : 1);
      const pad = Math.floor(k / 2);
      const h = Math.floor((input.h + 2 * pad - k) / s) + 1;
      const w = Math.floor((input.w + 2 * pad - k) / s) + 1;
      const params = k * k * input.c * out;
      layers.push({ key: c.key, kind: 'conv', outShape: [h, w, out], params, macs: params * h * w });
      layers.push({ key: bn.key, kind: 'bn', outShape: [h, w, out], params: 2 * out, macs: 0 });
      return {
        piece: (x, ctx) => applyBatchNorm(bn, applyConv(c, x), ctx.training),
        shape: { h, w, c: out },
      };
    },
    neuron(key, shape) {
      const n = neuronLayer(key, cfg.neuron, (k, v, sh) => addParam(store, k, v, sh), smooth);
      if (n.type !== 'relu') neuronLayers.push(key);
      layers.push({ key, kind: 'neuron', outShape: dims(shape), params: n.w ? 1 : 0, macs: 0 });
      return (x, ctx) => applyNeuron(n, x, ctx);
    },
    linear(key, inF, outF) {
      const l = linear(store, key, inF, outF);
      layers.push({ key, kind: 'linear', outShape: [outF], params: inF * outF + outF, macs: inF * outF });
      return (x) => applyLinear(l, x);
    },
    note(key, kind, shape, text) {
      layers.push({ key, kind, outShape: dims(shape), params: 0, macs: 0, note: text });
    },
  };
}
