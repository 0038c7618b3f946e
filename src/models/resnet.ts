/**
 * Spiking ResNets and DANets from one description: stem, stages of blocks joined by the
 * configured residual connection (`connections.ts`, or densely additive stages: `danet.ts`),
 * global average pooling, optional hidden FC + SN layers, and a classifier whose outputs are
 * averaged over time (the readout). Tensors are [T·N, H, W, C].
 *
 * Stems: CIFAR style conv3×3 + BN + SN; ImageNet style conv7×7/2 + BN + SN + max-pool 3×3/2.
 * With `membrane` (and pre-activation DANets) the stem has no neuron (the residual stream is
 * real-valued) and a neuron is placed after the last stage so the classifier reads spikes, as
 * MS-ResNet's code does.
 *
 * What each convolution reads is recorded for the energy estimate: the stem reads real values
 * with direct encoding (computed once per image) and the spikes or event counts of `input` with
 * rate or frame encoding (new at every step; their mean is tallied under `input`).
 *
 * Encodings: `frames` (event data) feeds [T·N, H, W, C] frames, one per step, to the stem.
 * Direct encoding computes the stem's conv + BN once on [N, ...] and repeats the
 * result over T (the same value at every step, and BN statistics over T×N copies equal those
 * over N). Rate encoding draws Bernoulli spikes with the pixel value (in [0, 1]) as probability
 * at every step, from a seed the caller gives per batch, so runs are reproducible.
 *
 * `neuron.type: relu` builds the same network as an ANN: every SN is a ReLU and T is 1.
 */
import * as tf from '@tensorflow/tfjs';
import { nativeHeap } from '../engine/heap.js';
import type { ModelConfig } from '../config/schema.js';
import type { Rng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import { meanOverTime, repeatOverTime } from '../snn/encoding.js';
import type { ForwardContext } from '../snn/neuron.js';
import { createParamStore } from './layers.js';
import { createBuilder, type FeatureShape, type Piece, type Piece2D } from './builder.js';
import { GraphTracer } from './trace.js';
import { blockOutChannels, residualBlock, type Connection } from './connections.js';
import { danetStages, type DenseStage } from './danet.js';
import { resolveShape } from './presets.js';
import { registerModel, type BuildOptions } from './registry.js';
import type { InputSpec, SpikingModel } from './types.js';

export function connectionOf(cfg: ModelConfig): Connection {
  if (cfg.arch === 'danet') {
    if (cfg.connection !== null && cfg.connection !== 'da') {
      throw new UserError(`model.connection: danet uses 'da' connections, got '${cfg.connection}'`);
    }
    return 'da';
  }
  return cfg.connection ?? 'spike';
}

export function buildResnet(cfg: ModelConfig, input: InputSpec, rng: Rng, label: string, opts: BuildOptions = {}): SpikingModel {
  const shape = resolveShape(cfg);
  const connection = connectionOf(cfg);
  const store = createParamStore(rng, label);
  const b = createBuilder(store, cfg, opts.smooth === true, opts.quant ?? null);
  const ann = cfg.neuron.type === 'relu';
  const downsample = cfg.downsample ?? (connection.startsWith('sew') ? 'spiking' : 'conv');
  let fm: FeatureShape = { h: input.height, w: input.width, c: input.channels };

  b.note('input', 'encode', fm, ann ? 'image (ANN, T = 1)' : `${cfg.encoding} encoding over T`);
  const imagenet = shape.stem === 'imagenet';
  const direct = cfg.encoding === 'direct' || (ann && cfg.encoding !== 'frames');
  const stemConv = b.convBn('stem', fm, shape.stemWidth, imagenet ? 7 : 3, imagenet ? 2 : 1, { source: direct ? null : 'input' });
  fm = stemConv.shape;
  const realStream = connection === 'membrane' || (connection === 'da' && cfg.danet.preActivation);
  const stemSn: Piece | null = realStream ? null : b.neuron('stem.sn', fm);
  let pool: Piece | null = null;
  if (imagenet) {
    fm = { h: Math.floor((fm.h + 2 - 3) / 2) + 1, w: Math.floor((fm.w + 2 - 3) / 2) + 1, c: fm.c };
    b.note('stem.maxpool', 'pool', fm, 'max 3×3, stride 2, pad 1', true);
    pool = (x, ctx) => {
      const y = tf.maxPool(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], -1e9), 3, 2, 'valid');
      b.tally('stem.maxpool', y, ctx);
      return b.tracer ? b.tracer.record('maxpool', 'stem.maxpool', [x], y, { pool: { kernel: 3, stride: 2, pad: 1 } }) : y;
    };
  }

  // Each piece reads the outputs of the stem and of every piece before it (DANet's dense links
  // read earlier stages; a residual block reads the last).
  const stages: DenseStage[] = [];
  const dense = connection === 'da' && cfg.danet.links === 'dense';
  if (connection === 'da') {
    const da = danetStages(b, { input: fm, inputKey: realStream ? null : b.current(), shape, config: cfg.danet });
    stages.push(...da.stages);
    fm = da.shape;
  }
  if (connection !== 'da') shape.blocks.forEach((count, s) => {
    const key = `stage${s + 1}`;
    for (let k = 0; k < count; k++) {
      const blk = residualBlock(b, {
        key: `${key}.block${k}`,
        input: fm,
        width: shape.widths[s],
        stride: k === 0 ? shape.strides[s] : 1,
        kind: shape.block,
        connection,
        downsample,
      });
      stages.push((outs, ctx) => blk.piece(outs[outs.length - 1], ctx));
      fm = blk.shape;
    }
  });
  if (fm.c !== blockOutChannels(shape.block, shape.widths[shape.widths.length - 1])) throw new Error('internal: stage widths');
  const finalSn: Piece | null = realStream ? b.neuron('final.sn', fm) : null;
  const flatten = shape.readout === 'flatten';
  let features = flatten ? fm.h * fm.w * fm.c : fm.c;
  b.note('pool', 'pool', [features], flatten ? 'flatten' : 'global average');

  const hidden: { fc: Piece2D; sn: Piece }[] = [];
  shape.hidden.forEach((units, i) => {
    const fc = b.linear(`fc${i + 1}`, features, units);
    const sn = b.neuron(`fc${i + 1}.sn`, [units]);
    hidden.push({ fc, sn });
    features = units;
  });
  const head = b.linear('head', features, input.numClasses);

  const encode = (x: tf.Tensor4D, ctx: ForwardContext, T: number): tf.Tensor4D => {
    // Event frames arrive as [T·N, H, W, C], one frame per step: the stem reads them as they are.
    if (cfg.encoding === 'frames') {
      b.tally('input', x, ctx);
      return stemConv.piece(x, ctx);
    }
    if (cfg.encoding === 'direct' || ann) {
      const stem = stemConv.piece(x, ctx);
      const rep = repeatOverTime(stem, T);
      return b.tracer ? b.tracer.record('repeat', 'repeat', [stem], rep) : rep;
    }
    const seed = ctx.noiseSeed ?? 0;
    const [n, h, w, c] = x.shape;
    const u = tf.randomUniform([T, n, h, w, c], 0, 1, 'float32', seed);
    const spikes = tf.cast(tf.less(u, x.expandDims(0)), 'float32').reshape([T * n, h, w, c]) as tf.Tensor4D;
    b.tally('input', spikes, ctx);
    return stemConv.piece(spikes, ctx);
  };

  const forward = (x: tf.Tensor4D, ctx0: ForwardContext): tf.Tensor2D => {
    // An ANN has no time steps, except over event frames, where T is the data's.
    const ctx = ann && cfg.encoding !== 'frames' ? { ...ctx0, timesteps: 1 } : ctx0;
    const T = ctx.timesteps;
    const tr = b.tracer;
    tr?.record('input', 'input', [], x);
    // Each block in its own tidy: what its backward pass did not save (BN outputs feeding a
    // neuron, sums of a residual join, …) is freed when the block ends, not when the training
    // step ends; inside a gradient tape tfjs would otherwise keep every temporary until then.
    // Not while tracing: the tracer keeps the tensors it records.
    const scoped = (f: () => tf.Tensor4D): tf.Tensor4D => (tr ? f() : tf.tidy(f));
    let y = scoped(() => {
      let v = encode(x, ctx, T);
      if (stemSn) v = stemSn(v, ctx);
      return pool ? pool(v, ctx) : v;
    });
    const outs = [y];
    for (const st of stages) {
      const input = y;
      y = scoped(() => st(outs, ctx));
      // On the native path nothing of a block's input is needed by the backward pass any more
      // (saved copies live outside the heap; tfjs's tape keeps only its shape), so it is freed
      // now rather than at the end of the step. Elsewhere tfjs's own gradients may need it.
      // DANet's dense links read every earlier stage's output: those stay.
      if (dense) outs.push(y);
      else {
        if (!tr && nativeHeap() !== null) input.dispose();
        outs[0] = y;
      }
    }
    if (finalSn) y = finalSn(y, ctx);
    let z = (flatten ? y.reshape([y.shape[0], features]) : y.mean([1, 2])) as tf.Tensor2D;
    tr?.record(flatten ? 'flatten' : 'avgpool', 'pool', [y], z);
    const timeMean = (v: tf.Tensor2D): tf.Tensor2D => {
      const m = meanOverTime(v, T);
      return tr ? tr.record('timeMean', 'readout', [v], m) : m;
    };
    if (hidden.length === 0) return head(timeMean(z), ctx); // linear: averaging first is cheaper
    for (const l of hidden) {
      const a = l.fc(z, ctx);
      const s = l.sn(tr ? tr.alias(a, a.reshape([z.shape[0], 1, 1, -1]) as tf.Tensor4D) : (a.reshape([z.shape[0], 1, 1, -1]) as tf.Tensor4D), ctx);
      z = (tr ? tr.alias(s, s.reshape([z.shape[0], -1])) : s.reshape([z.shape[0], -1])) as tf.Tensor2D;
    }
    return timeMean(head(z, ctx));
  };

  return {
    arch: cfg.arch,
    connection,
    params: store.params,
    buffers: store.buffers,
    neuronLayers: b.neuronLayers,
    layers: b.layers,
    quantized: b.quantized,
    forward,
    trace: (x, T) => {
      b.tracer = new GraphTracer();
      try {
        tf.tidy(() => {
          forward(x, { training: false, timesteps: T });
        });
        return b.tracer.nodes;
      } finally {
        b.tracer = null;
      }
    },
    dispose: () => {
      for (const v of store.params.values()) v.dispose();
      for (const v of store.buffers.values()) v.dispose();
    },
  };
}

registerModel('spiking-resnet', buildResnet);
registerModel('danet', buildResnet);
