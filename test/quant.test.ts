/** Weight quantisers against hand-computed values, and the straight-through estimator. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ternarize, ternaryWeight } from '../src/quant/ternary.js';
import { uniformWeight } from '../src/quant/uniform.js';
import { binaryWeight } from '../src/quant/binary.js';
import { weightFn, storageBits } from '../src/quant/index.js';

await tf.setBackend('cpu');

const near = (a: ArrayLike<number>, b: number[], tol = 1e-6): void => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

test('TWN ternary codes, threshold and scale per layer', () => {
  // mean|W| = 3.05 / 6 = 0.508333, Δ = 0.7 · that = 0.355833; |W| > Δ for −0.5, 0.9, −1.2
  // → codes [0, −1, 1, 0, 0, −1], α = (0.5 + 0.9 + 1.2) / 3 = 0.866667.
  const w = tf.tensor1d([0.1, -0.5, 0.9, -0.05, 0.3, -1.2]);
  const t = ternarize(w, false);
  near(t.codes.dataSync(), [0, -1, 1, 0, 0, -1]);
  near(t.threshold.dataSync(), [0.355833], 1e-6);
  near(t.scale.dataSync(), [0.866667], 1e-6);
  near(ternaryWeight(w, false).dataSync(), [0, -0.866667, 0.866667, 0, 0, -0.866667], 1e-6);
});

test('TWN per output channel: one threshold and scale per column of [in, out]', () => {
  // Column 0: [1.0, 0.2, −0.1]: mean|·| = 0.433333, Δ = 0.303333 → codes [1, 0, 0], α = 1.0
  // Column 1: [−0.3, 0.6, 0.45]: mean|·| = 0.45, Δ = 0.315 → codes [0, 1, 1], α = 0.525
  const w = tf.tensor2d([
    [1.0, -0.3],
    [0.2, 0.6],
    [-0.1, 0.45],
  ]);
  const t = ternarize(w, true);
  near(t.codes.dataSync(), [1, 0, 0, 1, 0, 1]);
  near(t.threshold.dataSync(), [0.303333, 0.315], 1e-6);
  near(t.scale.dataSync(), [1.0, 0.525], 1e-6);
  // A conv filter [kh, kw, in, out] gets one scale per out channel too.
  const f = tf.randomNormal([3, 3, 4, 5]);
  assert.deepEqual(ternarize(f, true).scale.shape, [5]);
});

test('a layer whose weights are all below the threshold gets scale 0, not NaN', () => {
  const t = ternarize(tf.zeros([4]), false);
  near(t.scale.dataSync(), [0]);
});

test('uniform 4-bit and binary quantisers', () => {
  // 4 bits: 7 levels per side, s = 1.4 / 7 = 0.2 → round(W / 0.2) · 0.2 (ties to even, as PyTorch: 0.5 → 2.5 → 2)
  near(uniformWeight(tf.tensor1d([1.4, -0.31, 0.05, 0.55, 0.5]), 4, false).dataSync(), [1.4, -0.4, 0, 0.6, 0.4], 1e-6);
  // binary: mean|W| = 0.5 → ±0.5, sign(0) = +1
  near(binaryWeight(tf.tensor1d([0.2, -0.8, 0, 1.0]), false).dataSync(), [0.5, -0.5, 0.5, 0.5]);
});

test('the straight-through estimator passes the gradient through unchanged', () => {
  const q = weightFn({ bits: 2, perChannel: false });
  assert.ok(q);
  const w = tf.tensor1d([0.1, -0.5, 0.9, -0.05]);
  const c = tf.tensor1d([1, 2, 3, 4]);
  const g = tf.grad((v: tf.Tensor) => q(v).mul(c).sum())(w);
  near(g.dataSync(), [1, 2, 3, 4]);
  assert.equal(weightFn({ bits: 32, perChannel: false }), null);
});

test('storage size: 2 bits per ternary weight plus one float scale', () => {
  assert.equal(storageBits(1000, 10, { bits: 2, perChannel: false }), 2000 + 32);
  assert.equal(storageBits(1000, 10, { bits: 2, perChannel: true }), 2000 + 320);
  assert.equal(storageBits(1000, 10, null), 32000);
});
