/**
 * Spiking ResNet (connection `spike`, Zheng et al. 2021 / Hu et al. "Spiking ResNet"): basic
 * blocks whose shortcut joins the branch before the block's last neuron,
 *
 *   y = SN( BN(conv2( SN(BN(conv1(x))) )) + shortcut(x) ),
 *   shortcut(x) = x, or BN(conv1×1, stride s (x)) when the shape changes.
 *
 * Layout: 3×3 stem conv + BN + SN (direct encoding: computed once, repeated over T), the
 * stages of `presets.ts`, global average pooling, optional hidden FC + SN layers, and a final
 * FC whose outputs are averaged over time (the readout). Tensors are [T·N, H, W, C].
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../config/schema.js';
import type { Rng } from '../util/rng.js';
import { neuronParams } from '../snn/lif.js';
import { applyNeuron, neuronLayer, type ForwardContext, type NeuronLayer } from '../snn/neuron.js';
import { meanOverTime, repeatOverTime } from '../snn/encoding.js';
import {
  applyBatchNorm,
  applyConv,
  applyLinear,
  batchNorm,
  conv,
  createParamStore,
  linear,
  type BatchNorm,
  type Conv,
  type Linear,
} from './layers.js';
import { resolveShape } from './presets.js';
import { registerModel } from './registry.js';
import type { InputSpec, LayerInfo, SpikingModel } from './types.js';

interface BasicBlock {
  conv1: Conv;
  bn1: BatchNorm;
  sn1: NeuronLayer;
  conv2: Conv;
  bn2: BatchNorm;
  down: { conv: Conv; bn: BatchNorm } | null;
  sn2: NeuronLayer;
}

const outSize = (size: number, c: Conv): number => Math.floor((size + 2 * c.pad - c.kernel) / c.stride) + 1;

export function buildSpikingResnet(cfg: ModelConfig, input: InputSpec, rng: Rng, label: string): SpikingModel {
  const shape = resolveShape(cfg);
  const store = createParamStore(rng, label);
  const np = neuronParams(cfg.neuron);
  const layers: LayerInfo[] = [];
  const neuronLayers: string[] = [];
  let h = input.height;
  let w = input.width;

  const convInfo = (c: Conv): void => {
    h = outSize(h, c);
    w = outSize(w, c);
    const params = c.kernel * c.kernel * c.inChannels * c.outChannels;
    layers.push({ key: c.key, kind: 'conv', outShape: [h, w, c.outChannels], params, macs: params * h * w });
  };
  const bnInfo = (b: BatchNorm): void => {
    layers.push({ key: b.key, kind: 'bn', outShape: [h, w, b.channels], params: 2 * b.channels, macs: 0 });
  };
  const snInfo = (n: NeuronLayer, outShape: number[]): void => {
    neuronLayers.push(n.key);
    layers.push({ key: n.key, kind: 'neuron', outShape, params: 0, macs: 0 });
  };

  const stemConv = conv(store, 'stem.conv', input.channels, shape.stem, 3, 1);
  convInfo(stemConv);
  const stemBn = batchNorm(store, 'stem.bn', shape.stem);
  bnInfo(stemBn);
  const stemSn = neuronLayer('stem.sn', np);
  snInfo(stemSn, [h, w, shape.stem]);

  const blocks: BasicBlock[] = [];
  let channels = shape.stem;
  shape.blocks.forEach((count, s) => {
    for (let b = 0; b < count; b++) {
      const key = `stage${s + 1}.block${b}`;
      const stride = b === 0 ? shape.strides[s] : 1;
      const width = shape.widths[s];
      const inH = h;
      const inW = w;
      const conv1 = conv(store, `${key}.conv1`, channels, width, 3, stride);
      convInfo(conv1);
      const bn1 = batchNorm(store, `${key}.bn1`, width);
      bnInfo(bn1);
      const sn1 = neuronLayer(`${key}.sn1`, np);
      snInfo(sn1, [h, w, width]);
      const conv2 = conv(store, `${key}.conv2`, width, width, 3, 1);
      convInfo(conv2);
      const bn2 = batchNorm(store, `${key}.bn2`, width);
      bnInfo(bn2);
      let down: BasicBlock['down'] = null;
      if (stride !== 1 || channels !== width) {
        const saveH = h;
        const saveW = w;
        h = inH;
        w = inW;
        const dc = conv(store, `${key}.down.conv`, channels, width, 1, stride);
        convInfo(dc);
        const db = batchNorm(store, `${key}.down.bn`, width);
        bnInfo(db);
        down = { conv: dc, bn: db };
        h = saveH;
        w = saveW;
      }
      layers.push({ key: `${key}.add`, kind: 'add', outShape: [h, w, width], params: 0, macs: 0 });
      const sn2 = neuronLayer(`${key}.sn2`, np);
      snInfo(sn2, [h, w, width]);
      blocks.push({ conv1, bn1, sn1, conv2, bn2, down, sn2 });
      channels = width;
    }
  });
  layers.push({ key: 'pool', kind: 'pool', outShape: [channels], params: 0, macs: 0 });

  const hidden: { fc: Linear; sn: NeuronLayer }[] = [];
  shape.hidden.forEach((units, i) => {
    const fc = linear(store, `fc${i + 1}`, channels, units);
    layers.push({ key: fc.key, kind: 'linear', outShape: [units], params: channels * units + units, macs: channels * units });
    const sn = neuronLayer(`fc${i + 1}.sn`, np);
    snInfo(sn, [units]);
    hidden.push({ fc, sn });
    channels = units;
  });
  const head = linear(store, 'head', channels, input.numClasses);
  layers.push({
    key: 'head',
    kind: 'linear',
    outShape: [input.numClasses],
    params: channels * input.numClasses + input.numClasses,
    macs: channels * input.numClasses,
  });

  const forward = (x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D => {
    const T = ctx.timesteps;
    const tr = ctx.training;
    const stem = applyBatchNorm(stemBn, applyConv(stemConv, x), tr);
    let y = applyNeuron(stemSn, repeatOverTime(stem, T), ctx);
    for (const b of blocks) {
      const branch = applyNeuron(b.sn1, applyBatchNorm(b.bn1, applyConv(b.conv1, y), tr), ctx);
      const out = applyBatchNorm(b.bn2, applyConv(b.conv2, branch), tr);
      const shortcut = b.down ? applyBatchNorm(b.down.bn, applyConv(b.down.conv, y), tr) : y;
      y = applyNeuron(b.sn2, out.add(shortcut), ctx);
    }
    let z = y.mean([1, 2]) as tf.Tensor2D;
    if (hidden.length === 0) return applyLinear(head, meanOverTime(z, T)); // linear: mean first is cheaper
    for (const l of hidden) z = applyNeuron(l.sn, applyLinear(l.fc, z), ctx);
    return meanOverTime(applyLinear(head, z), T);
  };

  return {
    arch: cfg.arch,
    params: store.params,
    buffers: store.buffers,
    neuronLayers,
    layers,
    forward,
    dispose: () => {
      for (const v of store.params.values()) v.dispose();
      for (const v of store.buffers.values()) v.dispose();
    },
  };
}

registerModel('spiking-resnet', buildSpikingResnet);
