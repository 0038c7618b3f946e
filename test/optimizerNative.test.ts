/**
 * The native in-place optimizer steps (native/snn_onednn.cc's adamStep and sgdStep, used on
 * wasm when snn's addon is built) against the composed tfjs ops of src/train/optimizer.ts on the cpu backend:
 * the same float32 operations in the same order, so weights and moments must be equal bit for
 * bit after several steps, with and without weight decay. Also: the step really is in place
 * (the variables keep their data), a MatMul run before the step sees the new weights after it
 * (XNNPACK caches packed weights under the tensor's id), and a tensor sharing a variable's data (a checkpoint's copy)
 * makes it fall back to the composed ops, so the copy keeps the values it had.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { OptimizerSchema } from '../src/config/schema.js';
import { setNativeConvolutions } from '../src/backends/wasm-native/kernels/index.js';
import { nativeStatus } from '../src/backends/wasm-native/native.js';
import { requirement } from './requirements.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { createRng } from '../src/util/rng.js';
import { underEachPolicy } from './convKit.js';

tf.env().set('PROD', true);
const native = nativeStatus();
const skip = requirement('the native addon', native.addon === null ? native.why : null);

// Sizes that are not multiples of a SIMD width, and one large enough to be split across threads.
const SHAPES: Record<string, number[]> = { 'conv.weight': [3, 3, 5, 7], 'bn.weight': [13], 'fc.weight': [600, 500] };
const STEPS = 4;

function values(n: number, seed: number, scale: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

/** Runs STEPS optimizer steps on `backend`; returns every weight and moment, in a fixed order. */
async function train(backend: 'cpu' | 'wasm', opt: Record<string, unknown>): Promise<{ out: Map<string, Float32Array>; inPlace: boolean }> {
  await tf.setBackend(backend);
  const params = new Map<string, tf.Variable>();
  let seed = 1;
  for (const [k, shape] of Object.entries(SHAPES)) {
    const init = values(shape.reduce((a, b) => a * b, 1), seed++, 0.5);
    // As the models make them: the initial tensor released, the variable the sole holder.
    params.set(k, tf.tidy(() => tf.variable(tf.tensor(init, shape), true, `${backend}-${k}-${Math.random()}`)));
  }
  const ids = [...params.values()].map((v) => v.dataId);
  const o = createOptimizer(OptimizerSchema.parse(opt), params);
  const fc = params.get('fc.weight') as tf.Variable;
  const x = tf.tensor(values(2 * 600, 99, 1), [2, 600]);
  for (let s = 0; s < STEPS; s++) {
    // A MatMul with the weights before each step: XNNPACK caches it with the weights packed.
    tf.matMul(x, fc).dispose();
    const grads = new Map([...params].map(([k, w]) => [k, tf.tensor(values(w.size, 100 + 10 * s + seed++, s === 2 ? 1e-6 : 0.3), w.shape)]));
    o.step(grads, 0.01 / (s + 1));
    tf.dispose([...grads.values()]);
  }
  // The MatMul after the steps must see the new weights: equal to one with a fresh copy of them.
  const fresh = tf.tensor(fc.dataSync(), fc.shape);
  const [a, b] = [tf.matMul(x, fc), tf.matMul(x, fresh)];
  assert.deepEqual(a.dataSync(), b.dataSync(), `${backend}: a MatMul used weights from before the step`);
  tf.dispose([a, b, fresh, x]);
  const inPlace = [...params.values()].every((v, i) => v.dataId === ids[i]);
  const out = new Map<string, Float32Array>();
  for (const [k, w] of params) out.set(k, Float32Array.from(w.dataSync()));
  const st = o.state();
  for (const [k, t] of st.tensors) out.set(k, Float32Array.from(t.dataSync()));
  tf.dispose([...st.tensors.values()]);
  o.dispose();
  for (const w of params.values()) w.dispose();
  return { out, inPlace };
}

function assertBitEqual(a: Map<string, Float32Array>, b: Map<string, Float32Array>, label: string): void {
  assert.deepEqual([...a.keys()], [...b.keys()], label);
  for (const [k, x] of a) {
    const y = b.get(k) as Float32Array;
    const i = x.findIndex((v, j) => !Object.is(v, y[j]));
    assert.equal(i, -1, `${label}: ${k}[${i}] = ${x[i]} on wasm, ${y[i]} composed on cpu`);
  }
}

const CASES = [
  { name: 'adam', lr: 0.01, weightDecay: 0 },
  { name: 'adam', lr: 0.01, weightDecay: 0.01 },
  { name: 'adamw', lr: 0.01, weightDecay: 0.05, beta1: 0.85, beta2: 0.99, eps: 1e-6 },
  { name: 'sgd', lr: 0.1, momentum: 0, weightDecay: 0 },
  { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4 },
  { name: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0 },
];

test('native Adam/AdamW/SGD in place: weights and moments bit-identical to the composed ops — on one thread and on all', { skip }, async () => {
  setNativeConvolutions(native.addon);
  for (const c of CASES) {
    const label = JSON.stringify(c);
    const reference = await train('cpu', c);
    assert.equal(reference.inPlace, false, 'the composed ops allocate new tensors');
    await underEachPolicy(native.addon!, async (policy) => {
      const got = await train('wasm', c);
      assert.ok(got.inPlace, `${label} (${policy}): the wasm step did not run in place`);
      assertBitEqual(got.out, reference.out, `${label} (${policy})`);
    });
  }
});

test('a tensor sharing a variable\'s data keeps its values: the step falls back to the composed ops', { skip }, async () => {
  setNativeConvolutions(native.addon);
  await tf.setBackend('wasm');
  const w = tf.tidy(() => tf.variable(tf.tensor(values(50, 7, 1), [50]), true, `shared-${Math.random()}`));
  const params = new Map([['w', w]]);
  const o = createOptimizer(OptimizerSchema.parse({ name: 'adamw', lr: 0.1, weightDecay: 0.1 }), params);
  const g = tf.tensor(values(50, 8, 1), [50]);
  o.step(new Map([['w', g]]), 0.1);
  const copy = w.clone(); // what a checkpoint takes: shares w's data until disposed
  const before = Float32Array.from(copy.dataSync());
  const id = w.dataId;
  o.step(new Map([['w', g]]), 0.1);
  assert.deepEqual(Float32Array.from(copy.dataSync()), before, 'the copy changed with the variable');
  assert.notEqual(w.dataId, id, 'the composed ops gave the variable new data');
  assert.ok(Float32Array.from(w.dataSync()).some((v, i) => v !== before[i]), 'the variable did not move');
  // Once the copy is gone the variable is the sole holder again and the step is in place.
  copy.dispose();
  const id2 = w.dataId;
  o.step(new Map([['w', g]]), 0.1);
  assert.equal(w.dataId, id2);
  tf.dispose([g, w]);
  o.dispose();
});
