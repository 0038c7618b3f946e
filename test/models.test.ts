/**
 * Architectures: preset parameter counts against the known counts of the ANN counterparts,
 * each residual connection's forward pass against hand-computed values, and `snn model`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ConfigSchema } from '../src/config/schema.js';
import { buildModel } from '../src/models/index.js';
import { createBuilder } from '../src/models/builder.js';
import { createParamStore } from '../src/models/layers.js';
import { residualBlock, type Connection } from '../src/models/connections.js';
import { danetStage } from '../src/models/danet.js';
import { createRng } from '../src/util/rng.js';
import { fixture, runCli } from './helpers.js';

await tf.setBackend('cpu');

const countParams = (preset: string, classes: number, size: number, extra: Record<string, unknown> = {}): number => {
  const cfg = ConfigSchema.parse({ model: { preset, ...extra } });
  const m = buildModel(cfg.model, { height: size, width: size, channels: 3, numClasses: classes }, createRng(1));
  const n = [...m.params.values()].reduce((a, v) => a + v.size, 0);
  m.dispose();
  return n;
};

test('preset parameter counts equal the known counts of the ANN ResNets', () => {
  // CIFAR ResNet-20 (He et al., 1×1 conv shortcuts) and Kuang Liu's CIFAR ResNet-18/34/50.
  assert.equal(countParams('resnet20', 10, 32), 272_474);
  assert.equal(countParams('resnet18', 10, 32), 11_173_962);
  assert.equal(countParams('resnet34', 10, 32), 21_282_122);
  assert.equal(countParams('resnet50', 10, 32), 23_520_842);
  // torchvision's ImageNet ResNets, 1000 classes.
  assert.equal(countParams('resnet18-imagenet', 1000, 64), 11_689_512);
  assert.equal(countParams('resnet34-imagenet', 1000, 64), 21_797_672);
  assert.equal(countParams('resnet50-imagenet', 1000, 64), 25_557_032);
  assert.equal(countParams('resnet101-imagenet', 1000, 64), 44_549_160);
});

test('connections that add no layers keep the parameter count; PLIF adds one w per neuron layer', () => {
  const base = countParams('resnet20', 10, 32);
  for (const connection of ['sew-add', 'sew-iand', 'membrane'] as const) {
    // SEW's spiking downsample adds a neuron, not parameters.
    assert.equal(countParams('resnet20', 10, 32, { connection }), base, connection);
  }
  const cfg = ConfigSchema.parse({ model: { preset: 'resnet20', neuron: { type: 'plif' } } });
  const m = buildModel(cfg.model, { height: 32, width: 32, channels: 3, numClasses: 10 }, createRng(1));
  const ws = [...m.params.keys()].filter((k) => k.endsWith('.w'));
  assert.equal(ws.length, m.neuronLayers.length);
  assert.equal([...m.params.values()].reduce((a, v) => a + v.size, 0), base + ws.length);
  m.dispose();
});

/**
 * A block on a 1×1×1 feature map over T = 4 steps: each 3×3 conv reduces to its centre tap (the
 * rest meets zero padding) and each BN, in eval mode with γ = √(1+ε), is the identity. So the
 * block is a scalar recursion computed here by hand.
 */
function runBlock(connection: Connection | 'da2', x: number[], w1: number, w2: number): number[] {
  const cfg = ConfigSchema.parse({ model: { neuron: { tau: 2, threshold: 1 } } }).model;
  const store = createParamStore(createRng(0), 'hand');
  const b = createBuilder(store, cfg);
  const input = { h: 1, w: 1, c: 1 };
  const built =
    connection === 'da2'
      ? danetStage(b, { key: 'b', input, blocks: 2, width: 1, stride: 1, kind: 'basic' })
      : residualBlock(b, { key: 'b', input, width: 1, stride: 1, kind: 'basic', connection, downsample: 'conv' });
  for (const [k, v] of store.params) {
    if (k.endsWith('conv.weight')) {
      const wv = k.includes('conv1') ? w1 : w2;
      const vals = new Float32Array(9);
      vals[4] = wv;
      v.assign(tf.tensor(vals, v.shape));
    } else if (k.endsWith('bn.weight')) v.assign(tf.fill(v.shape, Math.sqrt(1 + 1e-5)));
    else if (k.endsWith('bn.bias')) v.assign(tf.zeros(v.shape));
  }
  const T = x.length;
  const out = built.piece(tf.tensor4d(x, [T, 1, 1, 1]), { training: false, timesteps: T });
  return Array.from(out.dataSync());
}

/** The LIF formula as a scalar loop (τ = 2, V_th = 1, hard reset to 0). */
function lif(xs: number[]): number[] {
  let v = 0;
  return xs.map((x) => {
    const h = v + (x - v) / 2;
    const s = h >= 1 ? 1 : 0;
    v = s ? 0 : h;
    return s;
  });
}

const near = (a: number[], b: number[]): void => {
  assert.equal(a.length, b.length);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5, `[${i}] ${v} vs ${b[i]}: ${a} vs ${b}`));
};

test('each connection computes its formula on a hand-made input', () => {
  const x = [1, 1, 0, 1];
  // Branch: SN(2.5 x) = [1, 1, 0, 1] (H = 1.25 whenever x = 1); then 1.5 · that = [1.5, 1.5, 0, 1.5].
  // spike:    SN(1.5 a + x) = SN([2.5, 2.5, 0, 2.5]) = [1, 1, 0, 1]
  near(runBlock('spike', x, 2.5, 1.5), [1, 1, 0, 1]);
  // SEW: A = SN([1.5, 1.5, 0, 1.5]): H = 0.75, 1.125 (fires, V = 0), 0, 0.75 → A = [0, 1, 0, 0]
  near(runBlock('sew-add', x, 2.5, 1.5), [1, 2, 0, 1]); // A + x
  near(runBlock('sew-iand', x, 2.5, 1.5), [1, 0, 0, 1]); // (1 − A) · x
  // spike with a weaker branch: SN([1.6, 1.6, 0, 1.6]): H = 0.8, 1.2 (fires), 0, 0.8 → [0, 1, 0, 0]
  near(runBlock('spike', x, 2.5, 0.6), [0, 1, 0, 0]);
  // membrane (pre-activation, real-valued stream): y = x + w2 · SN(w1 · SN(x))
  const xm = [2.5, 0.3, 2.0, 0.7];
  const expected = lif(lif(xm).map((s) => 2.5 * s)).map((s, i) => xm[i] + 1.5 * s);
  near(runBlock('membrane', xm, 2.5, 1.5), expected);
  assert.deepEqual(expected, [4, 0.3, 3.5, 0.7]);
});

test('a densely additive stage sums the stage input and every earlier block output', () => {
  const x = [1, 1, 0, 1];
  const y1 = lif(lif(x.map((v) => 2.5 * v)).map((s) => 1.5 * s));
  const in2 = x.map((v, i) => v + y1[i]);
  const y2 = lif(lif(in2.map((v) => 2.5 * v)).map((s) => 1.5 * s));
  const out = x.map((v, i) => v + y1[i] + y2[i]);
  near(runBlock('da2', x, 2.5, 1.5), out);
  // By hand: y1 = SN(1.5 · SN(2.5 x)) = [0, 1, 0, 0] (as SEW's A above), in2 = [1, 2, 0, 1],
  // SN(2.5 · in2): H = 1.25 (fires), 5 (fires), 0, 1.25 (fires) → [1, 1, 0, 1], y2 = y1.
  assert.deepEqual(out, [1, 3, 0, 1]);
});

test('snn model prints layers, shapes, parameters, MACs and shortcut joins', () => {
  const r = runCli(['model', fixture('synthetic.yaml'), '--set', 'model.preset=resnet20', '--set', 'model.widths=null']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /stage1\.block0\.join\s+join\s+\[12, 12, 16\]\s+stage1\.block0\.conv2\.bn \+ x, then SN/);
  assert.match(r.stdout, /stage2\.block0\.down\.conv\s+conv\s+\[6, 6, 32\]\s+512/);
  assert.match(r.stdout, /\d[\d,]* parameters, [\d,]+ MACs per image per time step/);
  const j = runCli(['model', fixture('synthetic.yaml'), '--json', '--set', 'model.arch=danet']);
  assert.equal(j.code, 0, j.stderr);
  const s = JSON.parse(j.stdout) as { connection: string; layers: { key: string; note?: string }[] };
  assert.equal(s.connection, 'da');
  assert.ok(s.layers.some((l) => l.note === 'x0 + y1'));
});
