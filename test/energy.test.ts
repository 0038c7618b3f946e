/**
 * The SOP energy estimate against hand counts, and the layer-input records it relies on: the
 * stem with rate and frame encodings, the convolution after a SEW join, a sum of spike maps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { estimateEnergy } from '../src/train/energy.js';
import { ConfigSchema } from '../src/config/schema.js';
import { buildModel } from '../src/models/index.js';
import type { SpikingModel } from '../src/models/types.js';
import type { SpikeTally } from '../src/snn/lif.js';
import { createRng } from '../src/util/rng.js';

await tf.setBackend('cpu');

test('SOP = Σ rate_in · MACs · T and E = 0.9 pJ · SOP + 4.6 pJ · MAC (first layer once with direct encoding)', () => {
  const model = {
    layers: [
      { key: 'stem.conv', kind: 'conv', outShape: [], params: 0, macs: 100, input: null },
      { key: 'stem.sn', kind: 'neuron', outShape: [], params: 0, macs: 0 },
      { key: 'a.conv', kind: 'conv', outShape: [], params: 0, macs: 200, input: 'stem.sn' },
      { key: 'b.sn', kind: 'neuron', outShape: [], params: 0, macs: 0 },
      { key: 'head', kind: 'linear', outShape: [], params: 0, macs: 50, input: 'b.sn' },
    ],
  } as unknown as SpikingModel;
  // SOP = 0.1·200·4 + 0.5·50·4 = 80 + 100 = 180; MAC = 100; E = 0.9·180 + 4.6·100 = 622 pJ
  const e = estimateEnergy(model, { 'stem.sn': 0.1, 'b.sn': 0.5 }, 4);
  assert.ok(Math.abs(e.sop - 180) < 1e-9);
  assert.equal(e.mac, 100);
  assert.ok(Math.abs(e.pJ - 622) < 1e-9);
});

test("each conv records the spiking layer it reads; a shortcut reads its block's input", () => {
  const cfg = ConfigSchema.parse({ model: { preset: 'resnet20' } });
  const m = buildModel(cfg.model, { height: 32, width: 32, channels: 3, numClasses: 10 }, createRng(1));
  const input = (key: string): string | null | undefined => m.layers.find((l) => l.key === key)?.input;
  assert.equal(input('stem.conv'), null);
  assert.equal(input('stage1.block0.conv1.conv'), 'stem.sn');
  assert.equal(input('stage1.block0.conv2.conv'), 'stage1.block0.sn1');
  assert.equal(input('stage2.block0.conv1.conv'), 'stage1.block2.sn_out');
  assert.equal(input('stage2.block0.down.conv'), 'stage1.block2.sn_out');
  assert.equal(input('head'), 'stage3.block2.sn_out');
  m.dispose();
});

const T = 3;

function model(m: Record<string, unknown>, input = { height: 8, width: 8, channels: 1, numClasses: 2 }): SpikingModel {
  const cfg = ConfigSchema.parse({ model: { timesteps: T, ...m } });
  return buildModel(cfg.model, input, createRng(5), 'energy');
}

/** One pass (batch-statistics BN, so that layers fire): the mean value of everything tallied (neuron layers, joins, input), by key. */
function rates(m: SpikingModel, x: tf.Tensor4D): Record<string, number> {
  const tallies = new Map<string, SpikeTally>();
  tf.tidy(() => m.forward(x, { training: true, timesteps: T, tallies, noiseSeed: 1 }));
  return Object.fromEntries([...tallies].map(([k, t]) => [k, t.spikes / t.neurons]));
}

/** The estimate for the layers named only. */
const partial = (m: SpikingModel, keys: string[], r: Record<string, number>): { sop: number; mac: number } => {
  const e = estimateEnergy({ layers: m.layers.filter((l) => keys.includes(l.key)) }, r, T);
  return { sop: e.sop, mac: e.mac };
};

// resnet20's stem: 3×3, 1 → 16 channels, on 8×8: 9 · 16 · 64 = 9,216 MACs per step.
const STEM_MACS = 9 * 16 * 64;
// A 3×3 16 → 16 conv on 8×8: 9 · 16 · 16 · 64 = 147,456 MACs per step.
const CONV_MACS = 9 * 16 * 16 * 64;
const noise = (n: number, h: number): tf.Tensor4D => {
  const g = createRng(n * h);
  return tf.tensor4d(Float32Array.from({ length: n * h * h }, () => g.next()), [n, h, h, 1]);
};
const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('the stem: MACs once per image with direct encoding, SOPs at every step with rate and frame inputs', () => {
  const shape = { preset: 'resnet20', blocks: [1], widths: [16] };
  const ones = tf.ones([2, 8, 8, 1]) as tf.Tensor4D;
  // Direct: the same real-valued image at every step, computed once: 9,216 MACs, no SOP.
  const direct = model(shape);
  const d = partial(direct, ['stem.conv'], rates(direct, ones));
  assert.equal(d.mac, STEM_MACS);
  assert.equal(d.sop, 0);
  // Rate: pixel 1 fires at every step (u < 1 always): 9,216 accumulates at each of T steps.
  const rate = model({ ...shape, encoding: 'rate' });
  const r = rates(rate, ones);
  assert.equal(r.input, 1);
  assert.deepEqual(partial(rate, ['stem.conv'], r), { sop: STEM_MACS * T, mac: 0 });
  // Frames of 2 events per pixel: each event an accumulate, 2 · 9,216 per step.
  const frames = model({ ...shape, encoding: 'frames' });
  const twos = tf.fill([2 * T, 8, 8, 1], 2) as tf.Tensor4D;
  const f = rates(frames, twos);
  assert.equal(f.input, 2);
  assert.deepEqual(partial(frames, ['stem.conv'], f), { sop: 2 * STEM_MACS * T, mac: 0 });
  // A half-grey image fires about half the time: the measured rate is what is charged.
  const half = tf.fill([2, 8, 8, 1], 0.5) as tf.Tensor4D;
  const h = rates(rate, half);
  assert.ok(h.input > 0.4 && h.input < 0.6, String(h.input));
  close(partial(rate, ['stem.conv'], h).sop, h.input * STEM_MACS * T, 'rate 0.5');
  for (const m of [direct, rate, frames]) m.dispose();
  tf.dispose([ones, twos, half]);
});

/** Block 0's output spikes A forced to 1 at every step: its last BN gives 10 whatever it reads. */
function forceBranchSpikes(m: SpikingModel): void {
  const g = m.params.get('stage1.block0.conv2.bn.weight')!;
  const b = m.params.get('stage1.block0.conv2.bn.bias')!;
  g.assign(tf.zerosLike(g));
  b.assign(tf.fill(b.shape, 10));
}

test('after a SEW join the next convolution reads the join: A + S, or (1 − A)·S', () => {
  const shape = { preset: 'resnet20', blocks: [2], widths: [16] };
  const x = noise(2, 8);
  for (const connection of ['sew-add', 'sew-iand'] as const) {
    const m = model({ ...shape, connection });
    forceBranchSpikes(m);
    const r = rates(m, x);
    assert.equal(r['stage1.block0.sn_out'], 1);
    const s = r['stem.sn']; // block 0's shortcut S is the stem's spikes
    assert.ok(s > 0 && s < 1, `stem rate ${s}`);
    // Block 1's first conv (3×3, 16 → 16) reads A + S = 1 + S, or (1 − 1)·S = 0.
    const expected = connection === 'sew-add' ? (1 + s) * CONV_MACS * T : 0;
    close(partial(m, ['stage1.block1.conv1.conv'], r).sop, expected, connection);
    m.dispose();
  }
  x.dispose();
});

test('a sum of k spike maps costs the sum of their rates (DANet)', () => {
  const m = model({ preset: 'resnet20', blocks: [3], widths: [16], arch: 'danet' });
  const x = noise(2, 8);
  const r = rates(m, x);
  const [x0, y1, y2, y3] = ['stem.sn', 'stage1.block0.sn_out', 'stage1.block1.sn_out', 'stage1.block2.sn_out'].map((k) => r[k]);
  assert.ok(x0 > 0 && y1 > 0 && y2 > 0, `${x0} ${y1} ${y2}`);
  // Block 2 reads x0 + y1 + y2; the classifier (16 → 2 after global pooling) reads x0 + y1 + y2 + y3.
  close(partial(m, ['stage1.block2.conv1.conv'], r).sop, (x0 + y1 + y2) * CONV_MACS * T, 'block 2');
  close(partial(m, ['head'], r).sop, (x0 + y1 + y2 + y3) * 16 * 2 * T, 'head');
  m.dispose();
  x.dispose();
});

test('with the ImageNet stem the first block reads the max-pooled spikes', () => {
  const m = model({ preset: 'resnet18-imagenet', blocks: [1], widths: [8] }, { height: 16, width: 16, channels: 1, numClasses: 2 });
  assert.equal(m.layers.find((l) => l.key === 'stage1.block0.conv1.conv')?.input, 'stem.maxpool');
  const r = rates(m, noise(2, 16));
  // A 3×3 max over spikes fires wherever any of its inputs does: at least the stem's rate.
  assert.ok(r['stem.maxpool'] >= r['stem.sn'] && r['stem.maxpool'] > 0, `${r['stem.maxpool']} vs ${r['stem.sn']}`);
  m.dispose();
});
