/**
 * DANet (src/models/danet.ts): within a stage the densely additive form is SEW-ADD itself (same
 * weights → same spikes and logits); the dense links across stages are what makes `danet`
 * another network; `snn model` shows the links and their parameters; the pre-activation option.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ConfigSchema } from '../src/config/schema.js';
import { buildModel, type SpikingModel } from '../src/models/index.js';
import type { SpikeTally } from '../src/snn/lif.js';
import { createRng } from '../src/util/rng.js';
import { fixture, runCli } from './helpers.js';

await tf.setBackend('cpu');

const INPUT = { height: 8, width: 8, channels: 3, numClasses: 5 };

function build(model: Record<string, unknown>, seed = 7): SpikingModel {
  const cfg = ConfigSchema.parse({ model: { timesteps: 3, ...model } });
  return buildModel(cfg.model, INPUT, createRng(seed));
}

/** A training-mode forward pass (batch-statistics BN): logits and the spike count of every neuron layer. */
function run(m: SpikingModel, x: tf.Tensor4D): { logits: Float32Array; tallies: Map<string, SpikeTally> } {
  const tallies = new Map<string, SpikeTally>();
  const logits = tf.tidy(() => m.forward(x, { training: true, timesteps: 3, tallies }).dataSync() as Float32Array);
  return { logits, tallies };
}

const image = (seed: number): tf.Tensor4D => {
  const r = createRng(seed);
  return tf.tensor4d(Float32Array.from({ length: 6 * 8 * 8 * 3 }, () => r.next() * 2), [6, 8, 8, 3]);
};

test('within a stage, DA is SEW-ADD: the same weights give the same spikes in every layer and the same logits', () => {
  // One stage of 4 blocks that keeps the stem's shape: no transition and no downsampling, so the
  // two networks have the same parameters, created in the same order from the same seed.
  const shape = { preset: 'resnet20', blocks: [4], widths: [16] };
  const sew = build({ ...shape, connection: 'sew-add' });
  const da = build({ ...shape, arch: 'danet' });
  try {
    assert.deepEqual([...da.params.keys()], [...sew.params.keys()]);
    for (const [k, v] of sew.params) assert.deepEqual(da.params.get(k)!.dataSync(), v.dataSync(), k);
    assert.deepEqual(da.neuronLayers, sew.neuronLayers);
    const x = image(1);
    const a = run(sew, x);
    const b = run(da, x);
    for (const k of sew.neuronLayers) {
      assert.ok(a.tallies.get(k)!.spikes > 0, `${k} never fires: the comparison would be empty`);
      assert.deepEqual(b.tallies.get(k), a.tallies.get(k), k);
    }
    assert.deepEqual(b.logits, a.logits);
    x.dispose();
  } finally {
    sew.dispose();
    da.dispose();
  }
});

test('the dense links make danet another network than sew-add: silencing them gives back the chain', () => {
  const shape = { preset: 'resnet20', blocks: [2, 2, 1], widths: [16, 16, 16] };
  const chain = build({ ...shape, arch: 'danet', danet: { links: 'none' } });
  const dense = build({ ...shape, arch: 'danet' }, 99);
  const sew = build({ ...shape, connection: 'sew-add' });
  try {
    // The same weights wherever the two networks share a layer; only the links are extra.
    for (const [k, v] of chain.params) dense.params.get(k)!.assign(v);
    const extra = [...dense.params.keys()].filter((k) => !chain.params.has(k));
    // stage2 ← stem; stage3 ← stem, stage1: three 1×1 convs 16→16 (256 weights) and BNs (16 γ, 16 β).
    assert.deepEqual(extra.filter((k) => k.endsWith('conv.weight')).sort(), ['stage2.from_stem.conv.weight', 'stage3.from_stage1.conv.weight', 'stage3.from_stem.conv.weight']);
    assert.equal(extra.reduce((n, k) => n + dense.params.get(k)!.size, 0), 3 * (256 + 32));
    const x = image(2);
    const c = run(chain, x).logits;
    const d = run(dense, x).logits;
    const s = run(sew, x).logits;
    const maxDiff = (p: Float32Array, q: Float32Array): number => Math.max(...p.map((v, i) => Math.abs(v - q[i])));
    assert.ok(maxDiff(d, c) > 1e-3, `dense links changed nothing: ${maxDiff(d, c)}`);
    assert.ok(maxDiff(d, s) > 1e-3, `danet equals sew-add: ${maxDiff(d, s)}`);
    // Links whose neurons never fire (γ = 0, β = −10: the membrane never reaches V_th) add zeros.
    for (const k of extra) {
      if (k.endsWith('bn.weight')) dense.params.get(k)!.assign(tf.zerosLike(dense.params.get(k)!));
      if (k.endsWith('bn.bias')) dense.params.get(k)!.assign(tf.fill(dense.params.get(k)!.shape, -10));
    }
    assert.deepEqual(run(dense, x).logits, c);
    x.dispose();
  } finally {
    chain.dispose();
    dense.dispose();
    sew.dispose();
  }
});

test('snn model shows the dense links, what each adds to, and their parameters', () => {
  const r = runCli(['model', fixture('synthetic.yaml'), '--set', 'model.arch=danet', '--set', 'model.preset=resnet20', '--set', 'model.widths=null']);
  assert.equal(r.code, 0, r.stderr);
  // 12×12 input: stage 2 at 6×6×32, stage 3 at 3×3×64. The stem (16 ch) reaches stage 3 through 1×1 16→32 stride 2.
  assert.match(r.stdout, /stage3\.from_stem\.conv\s+conv\s+\[6, 6, 32\]\s+512\s/);
  assert.match(r.stdout, /stage3\.from_stage1\.conv\s+conv\s+\[6, 6, 32\]\s+512\s/);
  assert.match(r.stdout, /stage3\.in\s+join\s+\[6, 6, 32\]\s+stage2\.out \+ stage3\.from_stem \+ stage3\.from_stage1/);
  // 16·16 + 2·16 (stage 2 ← stem) + 2 · (16·32 + 2·32) (stage 3 ← stem, stage 1)
  assert.match(r.stdout, /dense links across stages: 3, 1,440 parameters/);
  const none = runCli(['model', fixture('synthetic.yaml'), '--set', 'model.arch=danet', '--set', 'model.preset=resnet20', '--set', 'model.widths=null', '--set', 'model.danet.links=none']);
  assert.equal(none.code, 0, none.stderr);
  assert.doesNotMatch(none.stdout, /from_|dense links/);
});

test('pre-activation DANet: a real-valued stream, SN before every conv, branches and links zero-initialised', () => {
  const m = build({ preset: 'resnet20', blocks: [1, 1], widths: [16, 32], arch: 'danet', danet: { preActivation: true } });
  try {
    const keys = m.layers.map((l) => l.key);
    assert.ok(!keys.includes('stem.sn') && keys.includes('final.sn'));
    // Every conv but the stem's reads a neuron layer.
    for (const l of m.layers.filter((l) => l.kind === 'conv' && l.key !== 'stem.conv')) {
      assert.ok(l.input && m.neuronLayers.includes(l.input), `${l.key} reads ${l.input}`);
    }
    assert.ok(keys.indexOf('stage2.from_stem.sn') < keys.indexOf('stage2.from_stem.conv'));
    // MS-ResNet's default: each block's last BN starts at γ = 0; the others at 1.
    assert.deepEqual([...new Set(m.params.get('stage1.block0.conv2.bn.weight')!.dataSync())], [0]);
    assert.deepEqual([...new Set(m.params.get('stage1.block0.conv1.bn.weight')!.dataSync())], [1]);
    const x = image(3);
    const { logits } = run(m, x);
    assert.ok(logits.every(Number.isFinite));
    x.dispose();
  } finally {
    m.dispose();
  }
});
