/**
 * Export, in process: the 2-bit packer, BN folding, the TensorFlow.js-free engine against the
 * tfjs model on small nets of every connection and neuron kind, the `snn` format round trip,
 * the NIR writer (node types, fields, shapes, edges; read back with h5wasm and rebuilt), and
 * what NIR refuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigSchema } from '../src/config/schema.js';
import { buildModel } from '../src/models/index.js';
import type { SpikingModel } from '../src/models/types.js';
import { createRng } from '../src/util/rng.js';
import { lifForwardArrays, neuronParams } from '../src/snn/lif.js';
import { packCodes, unpackCodes } from '../src/export/pack.js';
import { bnAffine, foldFloatWeights, foldTernaryScale } from '../src/export/fold.js';
import { exportModel } from '../src/export/graph.js';
import { Engine } from '../src/export/engine/engine.js';
import type { ExportModel } from '../src/export/model.js';
import { readSnnExport, writeSnnExport } from '../src/export/snnFormat.js';
import { nirRefusal, readNir, toNirGraph, writeNir, type NirArray, type NirGraph } from '../src/export/nir.js';
import { repoRoot, tempDir } from './helpers.js';

await tf.setBackend('cpu');

test('pack/unpack: every code pattern in every position, odd lengths, invalid patterns refused', () => {
  // All 81 combinations of four codes, so each byte value with no 0b11 pair appears.
  const codes: number[] = [];
  for (let i = 0; i < 81; i++) for (let j = 0, v = i; j < 4; j++, v = Math.floor(v / 3)) codes.push((v % 3) - 1);
  const packed = packCodes(codes);
  assert.equal(packed.length, 81);
  assert.deepEqual(Array.from(unpackCodes(packed, codes.length)), codes);
  assert.equal(packCodes([1, -1, 0, 1])[0], 0b01_00_10_01);
  for (const n of [0, 1, 2, 3, 5, 7, 13]) {
    const c = Int8Array.from({ length: n }, (_, i) => ((i * 7) % 3) - 1);
    const p = packCodes(c);
    assert.equal(p.length, Math.ceil(n / 4));
    assert.deepEqual(Array.from(unpackCodes(p, n)), Array.from(c), `length ${n}`);
  }
  assert.throws(() => unpackCodes(new Uint8Array([0b11]), 1), /invalid pattern/);
  assert.throws(() => unpackCodes(new Uint8Array([0]), 5), /fewer than 5/);
  assert.throws(() => packCodes([2]), /not -1, 0 or 1/);
});

test('BN folding: conv + BN equals the folded conv, for float and for ternary weights (codes unchanged)', () => {
  const rng = createRng(11);
  const [K, I, O] = [3, 4, 5];
  const w = tf.tensor4d(Float32Array.from({ length: K * K * I * O }, () => rng.normal()), [K, K, I, O]);
  const x = tf.tensor4d(Float32Array.from({ length: 2 * 6 * 6 * I }, () => (rng.next() < 0.3 ? 1 : 0)), [2, 6, 6, I]);
  const gamma = Float32Array.from({ length: O }, () => 0.5 + rng.next());
  const beta = Float32Array.from({ length: O }, () => rng.normal());
  const mean = Float32Array.from({ length: O }, () => rng.normal());
  const variance = Float32Array.from({ length: O }, () => 0.2 + rng.next());
  const bn = bnAffine(gamma, beta, mean, variance, 1e-5, 0.7);
  const ref = (weights: tf.Tensor4D): Float32Array =>
    tf.tidy(() => {
      const y = tf.conv2d(x, weights, 1, 'same');
      const s = tf.tensor1d(gamma).mul(0.7).mul(tf.rsqrt(tf.tensor1d(variance).add(1e-5)));
      return y.mul(s).add(tf.tensor1d(beta).sub(tf.tensor1d(mean).mul(s))).dataSync() as Float32Array;
    });
  const close = (a: Float32Array, b: Float32Array): void => {
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
    assert.ok(worst < 1e-5, `worst relative difference ${worst}`);
  };
  // Float weights.
  const folded = foldFloatWeights(w.dataSync() as Float32Array, bn.scale);
  const yf = tf.tidy(() => tf.conv2d(x, tf.tensor4d(folded, [K, K, I, O]), 1, 'same').add(tf.tensor1d(bn.shift)).dataSync() as Float32Array);
  close(yf, ref(w));
  // Ternary: W = α c per channel; folded scale α·s, codes as they were.
  const codes = Int8Array.from(w.dataSync(), (v) => (v > 0.7 ? 1 : v < -0.7 ? -1 : 0));
  const alpha = Float32Array.from({ length: O }, () => 0.3 + rng.next());
  const wq = tf.tensor4d(Float32Array.from(codes, (c, i) => c * alpha[i % O]), [K, K, I, O]);
  const scale = foldTernaryScale(alpha, bn.scale);
  const yt = tf.tidy(() => {
    const c = tf.tensor4d(Float32Array.from(codes), [K, K, I, O]);
    return tf.conv2d(x, c, 1, 'same').mul(tf.tensor1d(scale)).add(tf.tensor1d(bn.shift)).dataSync() as Float32Array;
  });
  close(yt, ref(wq));
  assert.equal(foldTernaryScale(new Float32Array([2]), new Float32Array([1, 3]))[1], 6);
  tf.dispose([w, x, wq]);
});

/** A small model with non-trivial BN statistics and every weight set from a seed. */
function smallModel(model: Record<string, unknown>, quant: Record<string, unknown> = { bits: 2 }, size = 10): SpikingModel {
  const cfg = ConfigSchema.parse({ model: { preset: 'tiny', widths: [6, 8], timesteps: 3, ...model }, quant });
  const m = buildModel(cfg.model, { height: size, width: size, channels: 2, numClasses: 4 }, createRng(7), 'exp', { quant: cfg.quant });
  const rng = createRng(3);
  for (const [k, v] of [...m.params, ...m.buffers]) {
    const n = v.size;
    let vals: Float32Array | null = null;
    if (k.endsWith('bn.weight')) vals = Float32Array.from({ length: n }, () => 0.8 + 0.8 * rng.next());
    else if (k.endsWith('bn.bias')) vals = Float32Array.from({ length: n }, () => 0.6 * rng.normal() + 0.3);
    else if (k.endsWith('running_mean')) vals = Float32Array.from({ length: n }, () => 0.3 * rng.normal());
    else if (k.endsWith('running_var')) vals = Float32Array.from({ length: n }, () => 0.5 + rng.next());
    else if (k.endsWith('.w')) vals = Float32Array.from({ length: n }, () => rng.next() - 0.5); // PLIF: 1/τ = sigmoid(w) near 1/2
    if (vals) v.assign(tf.tensor(vals, v.shape));
  }
  return m;
}

const input = { height: 10, width: 10, channels: 2, mean: [0, 0], std: [1, 1] };

function images(n: number, size = 10, seed = 9): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n * size * size * 2 }, () => 2 * rng.normal());
}

/** Engine and tfjs logits on the same images: how many argmax agree, and the largest logit difference where they agree. */
function compare(m: SpikingModel, em: ExportModel, n: number, size = 10): { agree: number; worst: number; closeShare: number } {
  const xs = images(n, size);
  const px = size * size * 2;
  const logits = tf.tidy(() => m.forward(tf.tensor4d(xs, [n, size, size, 2]), { training: false, timesteps: em.timesteps }).dataSync() as Float32Array);
  const engine = new Engine(em);
  let agree = 0;
  let worst = 0;
  let close = 0;
  const C = em.numClasses;
  for (let i = 0; i < n; i++) {
    const out = engine.run(xs.subarray(i * px, (i + 1) * px));
    const ref = logits.subarray(i * C, (i + 1) * C);
    const am = (a: ArrayLike<number>): number => Array.from(a).reduce((b, v, j, arr) => (v > arr[b] ? j : b), 0);
    if (am(out) === am(ref)) agree++;
    let d = 0;
    for (let j = 0; j < C; j++) d = Math.max(d, Math.abs(out[j] - ref[j]));
    if (d < 1e-4) close++;
    worst = Math.max(worst, d);
  }
  return { agree: agree / n, worst, closeShare: close / n };
}

const variants: [string, Record<string, unknown>, Record<string, unknown>?][] = [
  ['spike, LIF hard reset, ternary per layer', {}],
  ['spike, per-channel ternary, tdBN', { tdBN: true }, { bits: 2, perChannel: true }],
  ['sew-add, IF neurons', { connection: 'sew-add', neuron: { type: 'if' } }],
  ['sew-iand, soft reset', { connection: 'sew-iand', neuron: { reset: 'soft' } }],
  ['membrane', { connection: 'membrane' }],
  ['danet (dense means), PLIF', { arch: 'danet', blocks: [2, 1], neuron: { type: 'plif' } }],
  ['global average readout + hidden FC (resnet19 shape), first/last ternary too', { preset: 'resnet19', widths: [4, 6, 8], blocks: [1, 1, 1] }, { bits: 2, firstLast: 'quantized' }],
  ['ImageNet stem (max-pool), float weights', { preset: 'resnet18-imagenet', widths: [4, 6, 6, 8], blocks: [1, 1, 1, 1] }, { bits: 32 }],
  ['4-bit weights written as float32', {}, { bits: 4 }],
];

for (const [label, model, quant] of variants) {
  test(`engine = tfjs model: ${label}`, (t) => {
    const size = label.startsWith('ImageNet') ? 24 : 10;
    const m = smallModel(model, quant, size);
    try {
      const em = exportModel(m, { ...input, height: size, width: size }, 4, 3, { ternary: true });
      const ternaryLayers = em.nodes.filter((n) => (n.op === 'conv' || n.op === 'linear') && n.weights.kind === 'ternary').length;
      if ((quant ?? { bits: 2 }).bits === 2) assert.ok(ternaryLayers >= 4, `${ternaryLayers} ternary layers`);
      else assert.equal(ternaryLayers, 0);
      const r = compare(m, em, 48, size);
      t.diagnostic(`argmax agreement ${r.agree}, logits within 1e-4 on ${r.closeShare}, worst ${r.worst.toExponential(2)}`);
      // Spikes are thresholded: a float rounding difference may flip one; it must stay rare.
      assert.ok(r.agree >= 0.97, `argmax agreement ${r.agree}`);
      assert.ok(r.closeShare >= 0.9, `logits within 1e-4 on ${r.closeShare} of the images (worst ${r.worst})`);
      // Some neuron layer must fire, or the test would be trivial.
      const engine = new Engine(em);
      engine.run(images(1, size));
      const fired = [...engine.tallies.values()].reduce((s, t) => s + t.spikes, 0);
      const steps = [...engine.tallies.values()].reduce((s, x) => s + x.steps, 0);
      t.diagnostic(`firing rate ${(fired / steps).toFixed(3)}`);
      assert.ok(fired > 0 && fired < steps, 'no spikes at all, or all neurons firing');
    } finally {
      m.dispose();
    }
  });
}

test('engine neurons follow lif.ts exactly (LIF, IF, soft reset, other τ, V_th, V_reset)', () => {
  const rng = createRng(4);
  const T = 6;
  const m = 200;
  const x = Float32Array.from({ length: m }, () => 1.5 * rng.normal() + 0.5);
  for (const neuron of [{ type: 'lif' }, { type: 'if' }, { type: 'lif', reset: 'soft' }, { type: 'lif', tau: 3, threshold: 0.7, vReset: -0.2 }] as const) {
    const cfg = ConfigSchema.parse({ model: { neuron } }).model.neuron;
    // Direct encoding: the same input at every step.
    const xs = new Float32Array(T * m);
    for (let t = 0; t < T; t++) xs.set(x, t * m);
    const ref = lifForwardArrays(xs, T, neuronParams(cfg)).s;
    const em: ExportModel = {
      input: { height: 1, width: 1, channels: m, mean: [], std: [], encoding: 'direct' },
      numClasses: m,
      timesteps: T,
      nodes: [
        { id: 'input', op: 'input', inputs: [], shape: [1, 1, m] },
        { id: 'repeat', op: 'repeat', inputs: ['input'], shape: [1, 1, m] },
        {
          id: 'sn',
          op: 'neuron',
          inputs: ['repeat'],
          shape: [1, 1, m],
          neuron: { model: cfg.type === 'if' ? 'if' : 'lif', decay: cfg.type === 'if' ? 1 : 1 / cfg.tau, threshold: cfg.threshold, vReset: cfg.vReset, reset: cfg.reset, learnedTau: false },
        },
        { id: 'flat', op: 'flatten', inputs: ['sn'], shape: [m] },
        { id: 'readout', op: 'timeMean', inputs: ['flat'], shape: [m] },
      ],
      output: 'readout',
    };
    const engine = new Engine(em);
    const rate = engine.run(x);
    let total = 0;
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let t = 0; t < T; t++) s += ref[t * m + i];
      total += s;
      assert.equal(rate[i], Math.fround(s / T), `${JSON.stringify(neuron)} neuron ${i}`);
    }
    assert.equal(engine.tallies.get('sn')!.spikes, total);
    assert.ok(total > 0 && total < T * m);
  }
});

test('snn format: write, read back, same weights and the same engine outputs; a corrupt binary is refused', () => {
  const m = smallModel({ connection: 'sew-add' }, { bits: 2, perChannel: true });
  const dir = tempDir('snnfmt');
  try {
    const em = exportModel(m, input, 4, 3, { ternary: true });
    const manifest = writeSnnExport(dir, em, { ternary: true, postTraining: false, source: { run: 'test' }, notes: [], generator: 'test' });
    assert.ok(manifest.sizes.ternaryLayers.count >= 4);
    assert.ok(manifest.sizes.packedBytes < manifest.sizes.float32Bytes);
    const { model: back } = readSnnExport(dir);
    assert.equal(back.nodes.length, em.nodes.length);
    for (let i = 0; i < em.nodes.length; i++) {
      const a = em.nodes[i];
      const b = back.nodes[i];
      assert.equal(b.id, a.id);
      assert.deepEqual(b.inputs, a.inputs);
      if ((a.op === 'conv' || a.op === 'linear') && (b.op === 'conv' || b.op === 'linear')) {
        assert.equal(b.weights.kind, a.weights.kind);
        if (a.weights.kind === 'ternary' && b.weights.kind === 'ternary') {
          assert.deepEqual(Array.from(b.weights.codes), Array.from(a.weights.codes));
          assert.deepEqual(Array.from(b.weights.scale), Array.from(a.weights.scale));
        } else if (a.weights.kind === 'float32' && b.weights.kind === 'float32') {
          assert.deepEqual(Array.from(b.weights.values), Array.from(a.weights.values));
        }
        assert.deepEqual(Array.from(b.bias), Array.from(a.bias));
      }
    }
    const x = images(1);
    assert.deepEqual(Array.from(new Engine(back).run(x)), Array.from(new Engine(em).run(x)));
    const bin = join(dir, 'model.bin');
    const bytes = readFileSync(bin);
    bytes[10] ^= 0xff;
    writeFileSync(bin, bytes);
    assert.throws(() => readSnnExport(dir), /model\.bin: checksum mismatch/);
    writeFileSync(bin, bytes.subarray(0, 100));
    assert.throws(() => readSnnExport(dir), /100 bytes, the manifest says/);
  } finally {
    m.dispose();
  }
});

const arr = (f: unknown): NirArray => f as NirArray;
const num = (f: unknown): number[] => Array.from(arr(f).data as ArrayLike<number | bigint>, Number);

/**
 * The graph rebuilt from a NIR file, for the round trip: NIR's layouts back to ours, converging
 * edges as sums, Scale nodes as means, and the engine run on the result.
 */
function fromNir(g: NirGraph, like: ExportModel): ExportModel {
  const nodes: ExportModel['nodes'] = [];
  const inputsOf = (name: string): string[] => g.edges.filter(([, d]) => d === name).map(([s]) => s);
  const done = new Set<string>();
  const shapeOf = new Map<string, number[]>();
  const hwc = (s: number[]): number[] => (s.length === 3 ? [s[1], s[2], s[0]] : s);
  const wire = (name: string): string => {
    const ins = inputsOf(name);
    if (ins.length === 1) return ins[0];
    // Several edges converge: their sum, as NIR defines it.
    let acc = ins[0];
    for (let i = 1; i < ins.length; i++) {
      const id = `${name}.sum${i}`;
      nodes.push({ id, op: 'add', inputs: [acc, ins[i]], shape: shapeOf.get(ins[0])! });
      shapeOf.set(id, shapeOf.get(ins[0])!);
      acc = id;
    }
    return acc;
  };
  let flatFrom: number[] | null = null;
  const visit = (name: string): void => {
    if (done.has(name)) return;
    for (const s of inputsOf(name)) visit(s);
    done.add(name);
    const n = g.nodes.get(name)!;
    const f = n.fields;
    if (n.type === 'Input') {
      const s = hwc(num(f.shape));
      nodes.push({ id: name, op: 'input', inputs: [], shape: s });
      nodes.push({ id: `${name}.repeat`, op: 'repeat', inputs: [name], shape: s });
      shapeOf.set(name, s);
      return;
    }
    if (n.type === 'Output') return;
    const src = inputsOf(name).length === 1 && g.nodes.get(inputsOf(name)[0])!.type === 'Input' ? `${inputsOf(name)[0]}.repeat` : wire(name);
    if (n.type === 'Conv2d') {
      const w = arr(f.weight);
      const [O, I, K] = w.shape;
      const codes = new Float32Array(K * K * I * O);
      for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) for (let a = 0; a < K; a++) for (let b = 0; b < K; b++) codes[((a * K + b) * I + i) * O + o] = (w.data as Float32Array)[((o * I + i) * K + a) * K + b];
      const [H, W] = num(f.input_shape);
      const s = num(f.stride)[0];
      const p = num(f.padding)[0];
      const shape = [Math.floor((H + 2 * p - K) / s) + 1, Math.floor((W + 2 * p - K) / s) + 1, O];
      nodes.push({ id: name, op: 'conv', inputs: [src], shape, inShape: [H, W, I], kernel: K, stride: s, pad: p, inChannels: I, outChannels: O, weights: { kind: 'float32', values: codes }, bias: arr(f.bias).data as Float32Array, trainedBits: 32, bnFolded: true });
      shapeOf.set(name, shape);
    } else if (n.type === 'LIF' || n.type === 'IF') {
      const shape = hwc(arr(f.r).shape);
      const tau = n.type === 'LIF' ? (arr(f.tau).data as Float32Array)[0] : 1;
      nodes.push({ id: name, op: 'neuron', inputs: [src], shape, neuron: { model: n.type === 'LIF' ? 'lif' : 'if', decay: 1 / tau, threshold: (arr(f.v_threshold).data as Float32Array)[0], vReset: (arr(f.v_reset).data as Float32Array)[0], reset: 'hard', learnedTau: false } });
      shapeOf.set(name, shape);
    } else if (n.type === 'Scale') {
      const k = inputsOf(name).length;
      nodes.push({ id: name, op: 'mean', inputs: inputsOf(name), shape: shapeOf.get(inputsOf(name)[0])! });
      assert.ok(Math.abs((arr(f.scale).data as Float32Array)[0] - 1 / k) < 1e-7);
      shapeOf.set(name, shapeOf.get(inputsOf(name)[0])!);
    } else if (n.type === 'Flatten') {
      const inT = num(f.input_type);
      const size = inT.reduce((a, b) => a * b, 1);
      nodes.push({ id: name, op: 'flatten', inputs: [src], shape: [size] });
      flatFrom = inT[1] * inT[2] > 1 ? hwc(inT) : null;
      nodes.push({ id: `${name}.readout`, op: 'timeMean', inputs: [name], shape: [size] });
      shapeOf.set(name, [size]);
    } else if (n.type === 'AvgPool2d') {
      const inShape = shapeOf.get(src)!;
      nodes.push({ id: name, op: 'avgpool', inputs: [src], shape: [1, 1, inShape[2]], inShape, kernel: inShape[0], stride: inShape[0], pad: 0 });
      shapeOf.set(name, [1, 1, inShape[2]]);
    } else if (n.type === 'Affine') {
      const w = arr(f.weight);
      const [O, I] = w.shape;
      const vals = new Float32Array(I * O);
      for (let i = 0; i < I; i++) {
        let j = i;
        if (flatFrom) {
          const [H, W, C] = flatFrom;
          const c = i % C;
          j = c * H * W + (i - c) / C;
        }
        for (let o = 0; o < O; o++) vals[i * O + o] = (w.data as Float32Array)[o * I + j];
      }
      nodes.push({ id: name, op: 'linear', inputs: [`${inputsOf(name)[0]}.readout`], shape: [O], inFeatures: I, outFeatures: O, weights: { kind: 'float32', values: vals }, bias: arr(f.bias).data as Float32Array, trainedBits: 32, bnFolded: false });
      shapeOf.set(name, [O]);
    } else throw new Error(`round trip: unexpected NIR node ${n.type}`);
  };
  const outSrc = inputsOf('output')[0];
  visit(outSrc);
  return { input: like.input, numClasses: like.numClasses, timesteps: like.timesteps, nodes, output: outSrc };
}

test('NIR: opens with h5wasm, node types, fields, shapes and edges as the spec has them; round trip gives the same weights and outputs', async () => {
  const m = smallModel({}, { bits: 2 });
  const dir = tempDir('nir');
  try {
    const em = exportModel(m, input, 4, 3, { ternary: true });
    const file = join(dir, 'model.nir');
    await writeNir(file, toNirGraph(em, { timesteps: 3 }));
    const g = await readNir(file);
    assert.equal(g.version, '1.0.0');
    const types = new Map([...g.nodes].map(([k, n]) => [k, n.type]));
    assert.equal(types.get('input'), 'Input');
    assert.equal(types.get('output'), 'Output');
    assert.equal(types.get('stem'), 'Conv2d');
    assert.equal(types.get('stem.sn'), 'LIF');
    assert.equal(types.get('pool'), 'Flatten');
    assert.equal(types.get('head'), 'Affine');
    const fieldsOf = (t: string): string[] => [...new Set([...g.nodes.values()].filter((n) => n.type === t).map((n) => Object.keys(n.fields).sort().join(',')))];
    assert.deepEqual(fieldsOf('Conv2d'), ['bias,dilation,groups,input_shape,padding,stride,weight']);
    assert.deepEqual(fieldsOf('LIF'), ['r,tau,v_leak,v_reset,v_threshold']);
    assert.deepEqual(fieldsOf('Affine'), ['bias,weight']);
    assert.deepEqual(fieldsOf('Flatten'), ['end_dim,input_type,start_dim']);
    assert.deepEqual(fieldsOf('Input'), ['shape']);
    const conv1 = g.nodes.get('stage1.block0.conv1')!.fields;
    assert.deepEqual(arr(conv1.weight).shape, [6, 16, 3, 3]); // [out, in, kh, kw]: stem 16 → 6
    assert.deepEqual(num(conv1.stride), [2, 2]);
    assert.deepEqual(num(conv1.padding), [1, 1]);
    assert.deepEqual(num(conv1.input_shape), [10, 10]);
    assert.deepEqual(num(g.nodes.get('input')!.fields.shape), [2, 10, 10]); // [C, H, W]
    const lif = g.nodes.get('stage1.block0.sn1')!.fields;
    assert.deepEqual(arr(lif.tau).shape, [6, 5, 5]);
    assert.equal((arr(lif.tau).data as Float32Array)[0], 2);
    assert.equal((arr(lif.r).data as Float32Array)[0], 1);
    // The spike connection: the branch's last conv and the shortcut converge on sn_out.
    const into = (n: string): string[] => g.edges.filter(([, d]) => d === n).map(([s]) => s).sort();
    assert.deepEqual(into('stage1.block0.sn_out'), ['stage1.block0.conv2', 'stage1.block0.down']);
    assert.deepEqual(into('output'), ['head']);
    // Ternary weights come back as α·c: per output channel one magnitude, and the codes as their signs.
    const src = em.nodes.find((n) => n.id === 'stage1.block0.conv1');
    assert.ok(src && src.op === 'conv' && src.weights.kind === 'ternary');
    const w = arr(conv1.weight).data as Float32Array;
    const [O, I, K] = [6, 16, 3];
    for (let o = 0; o < O; o++)
      for (let i = 0; i < I; i++)
        for (let a = 0; a < K; a++)
          for (let b = 0; b < K; b++) {
            const ours = ((a * K + b) * I + i) * O + o;
            assert.equal(w[((o * I + i) * K + a) * K + b], Math.fround(src.weights.codes[ours] * src.weights.scale[o]));
          }
    // Rebuilt from the file, the network computes what the export computes.
    const back = fromNir(g, em);
    const e1 = new Engine(em);
    const e2 = new Engine(back);
    for (let k = 0; k < 6; k++) {
      const x = images(1, 10, 20 + k);
      const a = Array.from(e1.run(x));
      const b = Array.from(e2.run(x));
      a.forEach((v, j) => assert.ok(Math.abs(v - b[j]) < 1e-4, `image ${k} logit ${j}: ${v} vs ${b[j]}`));
    }
  } finally {
    m.dispose();
  }
});

test('NIR: DA sums and dense links become edges, global pooling AvgPool2d + Flatten; what NIR cannot express is refused', async () => {
  const da = smallModel({ arch: 'danet', blocks: [2, 1] });
  const r19 = smallModel({ preset: 'resnet19', widths: [4, 6, 8], blocks: [1, 1, 1] });
  try {
    const g = toNirGraph(exportModel(da, input, 4, 3, { ternary: true }), {});
    const into = (d: string): string[] => g.edges.filter(([, to]) => to === d).map(([from]) => from).sort();
    // A sum is NIR's implicit addition at a node's input: block 1 reads x0 + y1.
    assert.deepEqual(into('stage1.block1.conv1'), ['stage1.block0.sn_out', 'stage1.transition.sn']);
    // Stage 2 reads stage 1's output (x0 + y1 + y2) plus the stem's, projected by its own link.
    assert.deepEqual(into('stage2.transition'), ['stage1.block0.sn_out', 'stage1.block1.sn_out', 'stage1.transition.sn', 'stage2.from_stem.sn']);
    assert.deepEqual(into('stage2.from_stem'), ['stem.sn']);
    const g19 = toNirGraph(exportModel(r19, input, 4, 3, { ternary: true }), {});
    assert.equal(g19.nodes.get('pool')!.type, 'AvgPool2d');
    assert.equal(g19.nodes.get('pool.flatten')!.type, 'Flatten');
    assert.ok(g19.edges.some(([s, d]) => s === 'pool.flatten' && d === 'fc1'));
    // The hidden FC layer's neurons have the FC's shape, so NIR's types match along the edge.
    assert.deepEqual(arr(g19.nodes.get('fc1.sn')!.fields.tau).shape, [256]);
    assert.deepEqual(arr(g19.nodes.get('fc1')!.fields.weight).shape, [256, 8]);
  } finally {
    da.dispose();
    r19.dispose();
  }
  for (const [model, why] of [
    [{ connection: 'sew-iand' }, /IAND join/],
    [{ neuron: { reset: 'soft' } }, /soft reset/],
    [{ preset: 'resnet18-imagenet', widths: [4, 4, 4, 4], blocks: [1, 1, 1, 1] }, /max pooling/],
  ] as const) {
    const m = smallModel(model, { bits: 2 }, 24);
    try {
      const em = exportModel(m, { ...input, height: 24, width: 24 }, 4, 3, { ternary: true });
      assert.match(nirRefusal(em) ?? '', why);
      assert.throws(() => toNirGraph(em, {}), why);
    } finally {
      m.dispose();
    }
  }
});

test('the engine and the snn format reader load no TensorFlow.js', () => {
  const seen = new Set<string>();
  const bad: string[] = [];
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^import\s+(?!type\b)[^'"]*['"]([^'"]+)['"]/gm)) {
      const spec = m[1];
      if (spec.startsWith('.')) walk(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (!spec.startsWith('node:')) bad.push(`${file} imports ${spec}`);
    }
  };
  const engineDir = join(repoRoot, 'src', 'export', 'engine');
  for (const f of readdirSync(engineDir)) walk(join(engineDir, f));
  walk(join(repoRoot, 'src', 'export', 'snnFormat.ts'));
  walk(join(repoRoot, 'src', 'export', 'evalExported.ts'));
  // evalExported loads the TensorFlow.js reference only dynamically, for --compare.
  const allowed = new Set(['yaml', 'zod']);
  const outside = bad.filter((b) => !allowed.has(b.split(' imports ')[1]));
  assert.deepEqual(outside, []);
  assert.ok(seen.size > 5 && existsSync(engineDir));
});
