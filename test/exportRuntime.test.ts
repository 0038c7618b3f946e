/**
 * The fast runtime of exported networks (src/export/runtime: bit-packed spikes × ternary
 * bit-planes, in WebAssembly SIMD and in the native addon) against the reference runtime
 * (bit-identical logits and spike counts, every connection and neuron kind) and against a
 * ternary convolution computed here directly from the codes (odd channel counts, strides 1
 * and 2, padding, all-zero and all-one spike maps).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { exportModel } from '../src/export/graph.js';
import type { ExportModel, ExportNode } from '../src/export/model.js';
import { nativeBackend, nativeUnavailable, wasmBackend, type KernelBackend } from '../src/export/runtime/backends.js';
import { BatchRuntime } from '../src/export/runtime/batchRuntime.js';
import { ReferenceRuntime } from '../src/export/runtime/reference.js';
import { createRunner } from '../src/export/runtime/runner.js';
import { createRng } from '../src/util/rng.js';
import { images, input, smallModel } from './exportKit.js';
import { repoRoot, tempDir } from './helpers.js';

await tf.setBackend('cpu');

const why = nativeUnavailable();
// CI installs g++ and libdnnl-dev, so there the addon must exist: fail rather than skip.
const skipNative = why !== null && process.env['CI'] !== 'true' ? `native addon unavailable: ${why}` : false;

/** Every kernel backend this machine has: wasm SIMD and scalar, and the native ISAs the CPU supports. */
function backends(): { name: string; make: () => KernelBackend }[] {
  const out = [
    { name: 'wasm simd128', make: () => wasmBackend('simd128') },
    { name: 'wasm scalar', make: () => wasmBackend('scalar') },
  ];
  if (why === null) {
    for (const isa of ['avx512', 'avx2', 'scalar'] as const) {
      for (const threads of [1, 2]) {
        try {
          nativeBackend(threads, isa);
          out.push({ name: `native ${isa} ×${threads}`, make: () => nativeBackend(threads, isa) });
        } catch {
          // this CPU lacks the ISA
        }
      }
    }
  }
  return out;
}

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Reference logits and spike counts of n images, one at a time. */
function reference(em: ExportModel, xs: Float32Array, n: number, T = em.timesteps): { logits: Float32Array; spikes: number[] } {
  const ref = new ReferenceRuntime(em, T);
  const px = xs.length / n;
  const logits = new Float32Array(n * em.numClasses);
  for (let i = 0; i < n; i++) logits.set(ref.run(xs.subarray(i * px, (i + 1) * px)), i * em.numClasses);
  return { logits, spikes: ref.neuronLayers.map((id) => ref.tallies.get(id)!.spikes) };
}

function assertSameAsReference(em: ExportModel, xs: Float32Array, n: number, label: string): void {
  const want = reference(em, xs, n);
  assert.ok(want.spikes.filter((s) => s > 0).length * 2 >= want.spikes.length, `${label}: most layers never fired (${want.spikes})`);
  for (const b of backends()) {
    // Batches of 4 (the last one partial), each run as micro-batches of 3 + 1.
    const rt = new BatchRuntime(em, em.timesteps, 4, b.make(), 3);
    const px = xs.length / n;
    const got = new Float32Array(n * em.numClasses);
    for (let s = 0; s < n; s += 4) {
      const m = Math.min(4, n - s);
      got.set(rt.run(xs.subarray(s * px, (s + m) * px), m), s * em.numClasses);
    }
    assert.deepEqual(bits(got), bits(want.logits), `${label}, ${b.name}: logits differ from the reference`);
    assert.deepEqual(rt.neuronLayers.map((id) => rt.counts.get(id)!.spikes), want.spikes, `${label}, ${b.name}: spike counts`);
  }
}

const variants: [string, Record<string, unknown>, Record<string, unknown>?][] = [
  ['spike, LIF hard reset, ternary per layer', {}],
  ['spike, per-channel ternary, tdBN, first/last ternary', { tdBN: true }, { bits: 2, perChannel: true, firstLast: 'quantized' }],
  ['sew-add, IF neurons', { connection: 'sew-add', neuron: { type: 'if' } }],
  ['sew-iand, soft reset', { connection: 'sew-iand', neuron: { reset: 'soft' } }],
  ['membrane', { connection: 'membrane' }],
  ['danet (dense means), PLIF', { arch: 'danet', blocks: [2, 1], neuron: { type: 'plif' } }],
  ['global average readout + hidden FC (resnet19 shape)', { preset: 'resnet19', widths: [4, 6, 8], blocks: [1, 1, 1] }, { bits: 2, firstLast: 'quantized' }],
  ['ImageNet stem (max-pool), float weights', { preset: 'resnet18-imagenet', widths: [4, 6, 6, 8], blocks: [1, 1, 1, 1] }, { bits: 32 }],
];

for (const [label, model, quant] of variants) {
  test(`fast runtime = reference runtime, bit for bit, every backend: ${label}`, () => {
    const size = label.startsWith('ImageNet') ? 24 : 10;
    const m = smallModel(model, quant, size);
    try {
      const em = exportModel(m, { ...input, height: size, width: size }, 4, 3, { ternary: true });
      assertSameAsReference(em, images(10, size), 10, label);
    } finally {
      m.dispose();
    }
  });
}

/**
 * A network whose hidden spikes are the input image itself (1×1 float stem of weight 1, a
 * neuron with τ = 1 and V_th = 0.5 fires exactly where the pixel is 1), then one ternary conv
 * whose pre-activation, averaged over T steps, is the output.
 */
function probe(H: number, C: number, O: number, K: number, S: number, P: number, rng: ReturnType<typeof createRng>): { em: ExportModel; codes: Int8Array; scale: Float32Array; bias: Float32Array; OH: number } {
  const OH = Math.floor((H + 2 * P - K) / S) + 1;
  const codes = Int8Array.from({ length: K * K * C * O }, () => Math.floor(rng.next() * 3) - 1);
  const scale = Float32Array.from({ length: O }, () => 0.05 + rng.next());
  const bias = Float32Array.from({ length: O }, () => rng.normal());
  const eye = new Float32Array(C * C);
  for (let c = 0; c < C; c++) eye[c * C + c] = 1;
  const nodes: ExportNode[] = [
    { id: 'in', op: 'input', inputs: [], shape: [H, H, C] },
    { id: 'stem', op: 'conv', inputs: ['in'], shape: [H, H, C], kernel: 1, stride: 1, pad: 0, inChannels: C, outChannels: C, inShape: [H, H, C], weights: { kind: 'float32', values: eye }, bias: new Float32Array(C), trainedBits: 32, bnFolded: false },
    { id: 'rep', op: 'repeat', inputs: ['stem'], shape: [H, H, C] },
    { id: 'sn', op: 'neuron', inputs: ['rep'], shape: [H, H, C], neuron: { model: 'lif', decay: 1, threshold: 0.5, vReset: 0, reset: 'hard', learnedTau: false } },
    { id: 'tconv', op: 'conv', inputs: ['sn'], shape: [OH, OH, O], kernel: K, stride: S, pad: P, inChannels: C, outChannels: O, inShape: [H, H, C], weights: { kind: 'ternary', codes, scale }, bias, trainedBits: 2, bnFolded: true },
    { id: 'mean', op: 'timeMean', inputs: ['tconv'], shape: [OH, OH, O] },
    { id: 'out', op: 'flatten', inputs: ['mean'], shape: [OH * OH * O] },
  ];
  const em: ExportModel = { input: { height: H, width: H, channels: C, mean: [], std: [], encoding: 'direct' }, numClasses: OH * OH * O, timesteps: 3, nodes, output: 'out' };
  return { em, codes, scale, bias, OH };
}

/** The ternary conv of a binary map, straight from the definition: float32(scale·Σ code·s + bias). */
function directTernaryConv(x: Float32Array, H: number, C: number, O: number, K: number, S: number, P: number, OH: number, codes: Int8Array, scale: Float32Array, bias: Float32Array): Float32Array {
  const y = new Float32Array(OH * OH * O);
  for (let oh = 0; oh < OH; oh++)
    for (let ow = 0; ow < OH; ow++)
      for (let o = 0; o < O; o++) {
        let sum = 0;
        for (let kh = 0; kh < K; kh++)
          for (let kw = 0; kw < K; kw++) {
            const ih = oh * S - P + kh;
            const iw = ow * S - P + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= H) continue;
            for (let c = 0; c < C; c++) sum += x[(ih * H + iw) * C + c] * codes[((kh * K + kw) * C + c) * O + o];
          }
        y[(oh * OH + ow) * O + o] = sum * scale[o] + bias[o];
      }
  return y;
}

const geometries: [number, number, number, number, number, number][] = [
  // H, C (not multiples of 64, one over 128), O (not a multiple of 8), K, S, P
  [7, 70, 13, 3, 1, 1],
  [9, 131, 9, 3, 2, 1],
  [8, 5, 17, 3, 2, 0],
  [6, 64, 8, 1, 1, 0],
  [5, 65, 3, 1, 2, 0],
];

test('ternary conv kernels = the direct sum of codes, every backend: odd channels, strides 1 and 2, padding, all-zero and all-one spikes', () => {
  const rng = createRng(21);
  for (const [H, C, O, K, S, P] of geometries) {
    const { em, codes, scale, bias, OH } = probe(H, C, O, K, S, P, rng);
    const maps = {
      random: Float32Array.from({ length: H * H * C }, () => (rng.next() < 0.3 ? 1 : 0)),
      zeros: new Float32Array(H * H * C),
      ones: new Float32Array(H * H * C).fill(1),
    };
    for (const [name, x] of Object.entries(maps)) {
      const want = directTernaryConv(x, H, C, O, K, S, P, OH, codes, scale, bias);
      if (name === 'zeros') assert.deepEqual(Array.from(want.subarray(0, O)), Array.from(bias));
      const ref = reference(em, x, 1);
      assert.deepEqual(bits(ref.logits), bits(want), `reference, ${name}, geometry ${[H, C, O, K, S, P]}`);
      for (const b of backends()) {
        const got = new BatchRuntime(em, em.timesteps, 2, b.make()).run(x, 1);
        assert.deepEqual(bits(got), bits(want), `${b.name}, ${name} spikes, geometry ${[H, C, O, K, S, P]}`);
      }
    }
  }
});

test('the native ternary kernels are built (CI fails here when the addon is missing)', { skip: skipNative }, () => {
  assert.equal(why, null, `native addon: ${why}`);
  const isas = backends().filter((b) => b.name.startsWith('native')).map((b) => b.name);
  assert.ok(isas.some((n) => n.startsWith('native scalar')), isas.join(', '));
});

test('runners: auto, wasm worker pool and reference give the same logits and firing counts', async () => {
  const m = smallModel({});
  try {
    const em = exportModel(m, input, 4, 3, { ternary: true });
    const xs = images(7);
    const want = reference(em, xs, 7);
    for (const o of [{ runtime: 'wasm', threads: 2, batch: 4 }, { runtime: 'auto', threads: 2, batch: 3 }, { runtime: 'reference', batch: 7 }] as const) {
      const r = await createRunner(em, o);
      try {
        const got = new Float32Array(7 * em.numClasses);
        for (let s = 0; s < 7; s += o.batch) {
          const n = Math.min(o.batch, 7 - s);
          got.set(await r.run(xs.subarray(s * 200, (s + n) * 200), n), s * em.numClasses);
        }
        assert.deepEqual(bits(got), bits(want.logits), r.description);
        assert.deepEqual(r.neuronLayers.map((id) => r.tallies().get(id)!.spikes), want.spikes, r.description);
      } finally {
        await r.close();
      }
    }
  } finally {
    m.dispose();
  }
});

const clang = spawnSync('clang', ['--version'], { encoding: 'utf8' });
const skipWasmBuild = clang.status !== 0 && process.env['CI'] !== 'true' ? 'clang not installed (apt-get install clang lld)' : false;

test('the committed ternary.wasm is what native/ternary/build-wasm.mjs builds from the committed source', { skip: skipWasmBuild }, () => {
  const out = join(tempDir('wasm'), 'ternary.wasm');
  const b = spawnSync(process.execPath, [join(repoRoot, 'native', 'ternary', 'build-wasm.mjs'), '--out', out], { encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  assert.ok(readFileSync(out).equals(readFileSync(join(repoRoot, 'src', 'export', 'runtime', 'ternary.wasm'))), 'rebuilt ternary.wasm differs from the committed one');
});
