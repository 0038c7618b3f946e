/**
 * The benchmark's reference spiking CNN, the network of the engine notes' measured table
 * (/work/shared/notes/wasm-engine.md), so that bench figures compare with that baseline:
 *
 *   conv3×3(C→32) + BN + LIF → conv3×3(32→32) + BN + LIF → pool 2×2
 *   → conv3×3(32→64) + BN + LIF → pool 2×2 → flatten → FC(64·(H/4)·(W/4) → classes)
 *   → mean over T (the readout)
 *
 * Direct encoding: the image is the same at every step, so the first conv + BN runs once on
 * [N, ...] and is repeated over T before the first neuron (as src/models/spikingResnet.ts does).
 * Tensors between layers are [T·N, H, W, C].
 *
 * Pooling is average pooling: wasm's MaxPoolGrad routes the gradient to the wrong element when a
 * window is all negative (see the notes), and here the pooled values are spikes (the pools come
 * after BN + LIF), where average pooling — a local firing rate — is the usual SNN choice anyway.
 */
import * as tf from '@tensorflow/tfjs';
import type { NeuronConfig } from '../src/config/schema.js';
import { applyBatchNorm, applyConv, applyLinear, batchNorm, conv, createParamStore, linear } from '../src/models/layers.js';
import type { BatchNorm, Conv } from '../src/models/layers.js';
import type { InputSpec, LayerInfo, SpikingModel } from '../src/models/types.js';
import { meanOverTime, repeatOverTime } from '../src/snn/encoding.js';
import { applyNeuron, neuronLayer, type ForwardContext } from '../src/snn/neuron.js';
import type { Rng } from '../src/util/rng.js';

export const REFERENCE_ARCH = 'reference-cnn';

/** Summary row of a stride-1 'same' 3×3 conv (+ its BN and neuron) on an h×w map. */
function convRows(c: Conv, bn: BatchNorm, sn: string, h: number, w: number): LayerInfo[] {
  const params = c.kernel * c.kernel * c.inChannels * c.outChannels;
  const out = [h, w, c.outChannels];
  return [
    { key: c.key, kind: 'conv', outShape: out, params, macs: params * h * w },
    { key: bn.key, kind: 'bn', outShape: out, params: 2 * bn.channels, macs: 0 },
    { key: sn, kind: 'neuron', outShape: out, params: 0, macs: 0 },
  ];
}

export function buildReferenceCnn(input: InputSpec, rng: Rng, neuron: NeuronConfig): SpikingModel {
  if (input.height % 4 !== 0 || input.width % 4 !== 0) {
    throw new Error(`reference CNN needs height and width divisible by 4, got ${input.height}×${input.width}`);
  }
  const store = createParamStore(rng, 'refcnn');
  const { height: H, width: W } = input;

  const conv1 = conv(store, 'conv1', input.channels, 32, 3, 1);
  const bn1 = batchNorm(store, 'bn1', 32);
  const sn1 = neuronLayer('sn1', neuron);
  const conv2 = conv(store, 'conv2', 32, 32, 3, 1);
  const bn2 = batchNorm(store, 'bn2', 32);
  const sn2 = neuronLayer('sn2', neuron);
  const conv3 = conv(store, 'conv3', 32, 64, 3, 1);
  const bn3 = batchNorm(store, 'bn3', 64);
  const sn3 = neuronLayer('sn3', neuron);
  const flat = 64 * (H / 4) * (W / 4);
  const fc = linear(store, 'fc', flat, input.numClasses);

  const layers: LayerInfo[] = [
    ...convRows(conv1, bn1, sn1.key, H, W),
    ...convRows(conv2, bn2, sn2.key, H, W),
    { key: 'pool1', kind: 'pool', outShape: [H / 2, W / 2, 32], params: 0, macs: 0 },
    ...convRows(conv3, bn3, sn3.key, H / 2, W / 2),
    { key: 'pool2', kind: 'pool', outShape: [H / 4, W / 4, 64], params: 0, macs: 0 },
    {
      key: fc.key,
      kind: 'linear',
      outShape: [input.numClasses],
      params: flat * input.numClasses + input.numClasses,
      macs: flat * input.numClasses,
    },
  ];

  const forward = (x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D => {
    const T = ctx.timesteps;
    const tr = ctx.training;
    // conv + BN in tidy, as the model builder does: temporaries the backward pass does not need
    // are freed at once instead of at the end of the step.
    const convBn = (c: typeof conv1, bn: typeof bn1, v: tf.Tensor4D): tf.Tensor4D => tf.tidy(() => applyBatchNorm(bn, applyConv(c, v), tr));
    const enc = convBn(conv1, bn1, x); // once per image, not per step
    let y = applyNeuron(sn1, repeatOverTime(enc, T), ctx);
    y = applyNeuron(sn2, convBn(conv2, bn2, y), ctx);
    y = tf.avgPool(y, 2, 2, 'valid');
    y = applyNeuron(sn3, convBn(conv3, bn3, y), ctx);
    y = tf.avgPool(y, 2, 2, 'valid');
    const z = y.reshape([y.shape[0], flat]) as tf.Tensor2D;
    // The FC is linear, so averaging over T before it equals averaging its outputs, T× cheaper.
    return applyLinear(fc, meanOverTime(z, T));
  };

  return {
    arch: REFERENCE_ARCH,
    connection: 'none',
    params: store.params,
    buffers: store.buffers,
    neuronLayers: [sn1.key, sn2.key, sn3.key],
    layers,
    quantized: new Map(),
    forward,
    dispose: () => {
      for (const v of store.params.values()) v.dispose();
      for (const v of store.buffers.values()) v.dispose();
    },
  };
}
