/**
 * The native fused LIF and training BatchNorm (native/snn_onednn.cc, used on wasm when snn's
 * addon is built) against the portable implementations on the cpu backend: the JS fused LIF
 * (itself tested against the composed-ops LIF and hand values in lif.test.ts) and the composed
 * BatchNorm. Sizes span several of the native code's 512-neuron blocks and a partial one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ConfigSchema, NeuronSchema, SURROGATES } from '../src/config/schema.js';
import { crossEntropy } from '../src/losses/crossEntropy.js';
import { buildModel } from '../src/models/index.js';
import { setNativeConvolutions } from '../src/backends/wasm-native/kernels/index.js';
import { nativeStatus } from '../src/backends/wasm-native/native.js';
import { requirement } from './requirements.js';
import { nativeHeap } from '../src/backends/wasm-native/heap.js';
import { applyBatchNorm, batchNorm } from '../src/models/layers.js';
import { multiStepLif, multiStepPlif, neuronParams, type SpikeTally } from '../src/snn/lif.js';
import { createParamStore } from '../src/models/layers.js';
import { createRng } from '../src/util/rng.js';
import { underEachPolicy } from './convKit.js';

tf.env().set('PROD', true);
const native = nativeStatus();
const skip = requirement('the native addon', native.addon === null ? native.why : null);

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

/** Runs f on a backend and returns every output's values. */
async function on(backend: 'cpu' | 'wasm', f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(f);
  const data = outs.map((o) => Float32Array.from(o.dataSync()));
  tf.dispose(outs);
  return data;
}

test('the native path is taken on wasm and only there', { skip }, async () => {
  setNativeConvolutions(native.addon);
  await tf.setBackend('wasm');
  assert.notEqual(nativeHeap(), null);
  await tf.setBackend('cpu');
  assert.equal(nativeHeap(), null);
});

test('native LIF/IF/PLIF: spikes, tallies and gradients equal the JS fused op, every option — on one thread and on all', { skip }, async () => {
  await underEachPolicy(native.addon!, async (policy) => {
    const rng = createRng(21);
    const T = 4;
    const m = 1300; // two full blocks of 512 and a partial one
    const xs = Float32Array.from({ length: T * m }, () => rng.normal() * 1.5 + 0.6);
    const dy = Float32Array.from({ length: T * m }, () => rng.normal());
    for (const type of ['lif', 'if', 'plif'] as const) {
      for (const reset of ['hard', 'soft'] as const) {
        for (const detachReset of [true, false]) {
          for (const name of SURROGATES) {
            const cfg = NeuronSchema.parse({ type, reset, detachReset, tau: 1.7, threshold: 0.9, vReset: reset === 'hard' ? -0.1 : 0, surrogate: { name } });
            const p = neuronParams(cfg);
            const label = `${policy}: ${type}/${reset}/detach=${detachReset}/${name}`;
            const tallies: SpikeTally[] = [];
            const run = (): tf.Tensor[] => {
              const tally = { spikes: 0, neurons: 0 };
              tallies.push(tally);
              const x = tf.tensor(xs, [T, m]);
              const w = tf.scalar(0.3);
              const dyT = tf.tensor(dy, [T, m]);
              const { value, grads } = type === 'plif'
                ? tf.valueAndGrads((v: tf.Tensor, wt: tf.Tensor) => multiStepPlif(v, wt, p, tally).mul(dyT).sum())([x, w])
                : tf.valueAndGrads((v: tf.Tensor) => multiStepLif(v, p, tally).mul(dyT).sum())([x]);
              const spikes = type === 'plif' ? multiStepPlif(x, w, p) : multiStepLif(x, p);
              return [spikes, value, ...grads];
            };
            const ref = await on('cpu', run);
            const got = await on('wasm', run);
            assert.deepEqual(got[0], ref[0], `${label}: spikes`);
            assert.deepEqual(tallies[1], tallies[0], `${label}: tally`);
            for (let i = 1; i < ref.length; i++) {
              const err = maxRelErr(got[i], ref[i]);
              // Output 1, the loss, is a sum over all neurons: wasm and cpu add in different orders.
              assert.ok(err < (i === 1 ? 1e-4 : 1e-5), `${label}: output ${i} relative error ${err.toExponential(2)}`);
            }
          }
        }
      }
    }
  });
});

test('native training BatchNorm: output, gradients and running statistics equal the composed version — on one thread and on all', { skip }, async () => {
  await underEachPolicy(native.addon!, async (policy) => {
    const rng = createRng(22);
    for (const { shape, scale, shift } of [
      { shape: [6, 5, 5, 7], scale: 1, shift: 0 },
      { shape: [40, 3], scale: 0.5, shift: 0 }, // tdBN-style scale on γ
      { shape: [2, 9, 9, 1], scale: 1, shift: 1000 }, // a large mean: the variance must not cancel
      { shape: [3, 4, 4, 16], scale: 1, shift: -3 },
    ]) {
      const C = shape[shape.length - 1];
      const n = shape.reduce((a, b) => a * b, 1);
      const xs = Float32Array.from({ length: n }, () => rng.normal() * 2 + shift);
      const dy = Float32Array.from({ length: n }, () => rng.normal());
      const gamma = Float32Array.from({ length: C }, () => 1 + 0.3 * rng.normal());
      const beta = Float32Array.from({ length: C }, () => 0.2 * rng.normal());
      const run = (): tf.Tensor[] => {
        const store = createParamStore(createRng(1));
        const bn = batchNorm(store, 'bn', C, scale);
        bn.gamma.assign(tf.tensor1d(gamma));
        bn.beta.assign(tf.tensor1d(beta));
        const x = tf.tensor(xs, shape);
        const { value, grads } = tf.variableGrads(() => applyBatchNorm(bn, x, true).mul(tf.tensor(dy, shape)).sum(), [bn.gamma, bn.beta]);
        const dx = tf.grad((v: tf.Tensor) => applyBatchNorm(bn, v, true).mul(tf.tensor(dy, shape)).sum())(x);
        const y = applyBatchNorm(bn, x, true);
        const out = [y, value, dx, grads[bn.gamma.name], grads[bn.beta.name], bn.runningMean.clone(), bn.runningVar.clone()];
        for (const v of store.params.values()) v.dispose();
        for (const v of store.buffers.values()) v.dispose();
        return out;
      };
      const ref = await on('cpu', run);
      const got = await on('wasm', run);
      const names = ['y', 'loss', 'dx', 'dγ', 'dβ', 'running mean', 'running var'];
      for (let i = 0; i < ref.length; i++) {
        const err = maxRelErr(got[i], ref[i]);
        // float32 composed reductions against double-accumulated native ones
        assert.ok(err < (shift === 1000 ? 2e-3 : 1e-4), `${policy}: ${JSON.stringify(shape)} shift ${shift}: ${names[i]} relative error ${err.toExponential(2)}`);
      }
    }
  });
});

test('a whole network trains the same on the native path: loss and every gradient equal the cpu backend — on one thread and on all', { skip }, async () => {
  setNativeConvolutions(native.addon);
  await underEachPolicy(native.addon!, async (policy) => {
    const rng = createRng(23);
    const input = { height: 12, width: 12, channels: 1, numClasses: 4 };
    const xs = Float32Array.from({ length: 4 * 12 * 12 }, () => rng.next());
    for (const connection of ['spike', 'sew-add', 'da'] as const) {
      const cfg = ConfigSchema.parse({
        model: { preset: 'tiny', timesteps: 2, connection, ...(connection === 'da' ? { arch: 'danet' } : {}), neuron: { detachReset: true } },
      });
      const run = (): tf.Tensor[] => {
        const model = buildModel(cfg.model, input, createRng(5));
        const x = tf.tensor4d(xs, [4, 12, 12, 1]);
        const y = tf.tensor1d([0, 1, 2, 3], 'int32');
        const vars = [...model.params.values()];
        const { value, grads } = tf.variableGrads(() => crossEntropy(model.forward(x, { training: true, timesteps: 2 }), y), vars);
        const out = [value, ...vars.map((v) => grads[v.name])];
        model.dispose();
        return out;
      };
      const ref = await on('cpu', run);
      const before = tf.memory().numTensors;
      const got = await on('wasm', run);
      assert.equal(tf.memory().numTensors, before, `${policy}: ${connection}: tensors left behind on wasm`);
      // A second step reuses the first one's saved-input arrays (src/backends/wasm-native/hostArrays.ts).
      assert.deepEqual(await on('wasm', run), got, `${policy}: ${connection}: a second run differs`);
      for (let i = 0; i < ref.length; i++) {
        let diff = 0;
        let norm = 1e-12;
        for (let j = 0; j < ref[i].length; j++) {
          diff += (got[i][j] - ref[i][j]) ** 2;
          norm += ref[i][j] ** 2;
        }
        const rel = Math.sqrt(diff / norm);
        assert.ok(rel < 1e-4, `${policy}: ${connection}: ${i === 0 ? 'loss' : `gradient ${i}`} relative error ${rel.toExponential(2)}`);
      }
    }
  });
});
