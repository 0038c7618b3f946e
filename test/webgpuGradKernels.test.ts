/**
 * The gradient kernels training needs, as tfjs-backend-webgpu 4.22 ships them, against the cpu
 * backend: Conv2DBackpropFilter and Conv2DBackpropInput (strided, padded), MaxPoolGrad on
 * spike maps (many tied maxima: the gradient must go where the cpu's goes), AvgPoolGrad and
 * UnsortedSegmentSum (the gradient of gather). Tolerance 1e-5 relative to max(1, |cpu|).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../src/util/rng.js';
import { needWebgpu, valuesOf, webgpuSkip, worstRelative } from './webgpuKit.js';

const TOL = 1e-5;

/** f's gradients with respect to its inputs, on one backend, as arrays. */
async function gradsOn(backend: string, f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: { values: Float32Array; shape: number[] }[], dy: Float32Array): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const xs = inputs.map((i) => tf.tensor(i.values, i.shape));
  const g = tf.grads((...a: tf.Tensor[]) => f(...a).mul(tf.tensor(dy, f(...xs).shape)).sum());
  const out = g(xs);
  const values = await Promise.all(out.map(valuesOf));
  tf.dispose([...xs, ...out]);
  return values;
}

async function compare(label: string, f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: { values: Float32Array; shape: number[] }[], outSize: number): Promise<void> {
  const rng = createRng(9);
  const dy = Float32Array.from({ length: outSize }, () => rng.normal());
  const ref = await gradsOn('cpu', f, inputs, dy);
  const got = await gradsOn('webgpu', f, inputs, dy);
  await tf.setBackend('cpu');
  ref.forEach((r, i) => {
    assert.ok(r.some((v) => v !== 0), `${label}: gradient ${i} is all zero`);
    const e = worstRelative(got[i], r);
    assert.ok(e.err <= TOL, `${label}: gradient ${i} differs by ${e.err} at ${e.at} (${got[i][e.at]} vs ${r[e.at]})`);
  });
}

const random = (n: number, seed: number): Float32Array => {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
};
const spikes = (n: number, seed: number): Float32Array => {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
};

test('WebGPU gradient kernels equal the cpu backend: conv2d (both gradients), max-pool on spikes, avg-pool, gather', { skip: webgpuSkip, timeout: 300_000 }, async () => {
  needWebgpu();
  // conv 3×3 stride 2 'same' and 1×1: Conv2DBackpropInput and Conv2DBackpropFilter
  await compare('conv2d 3×3/2', (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
    [{ values: random(2 * 9 * 9 * 3, 1), shape: [2, 9, 9, 3] }, { values: random(3 * 3 * 3 * 5, 2), shape: [3, 3, 3, 5] }], 2 * 5 * 5 * 5);
  await compare('conv2d 1×1 on spikes', (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid'),
    [{ values: spikes(2 * 6 * 6 * 4, 3), shape: [2, 6, 6, 4] }, { values: random(4 * 6, 4), shape: [1, 1, 4, 6] }], 2 * 6 * 6 * 6);
  // MaxPoolGrad: 0/1 inputs tie in almost every window
  await compare('maxPool 3×3/2 on spikes', (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same'),
    [{ values: spikes(2 * 8 * 8 * 3, 5), shape: [2, 8, 8, 3] }], 2 * 4 * 4 * 3);
  await compare('maxPool 2×2/2', (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'),
    [{ values: random(2 * 8 * 8 * 3, 6), shape: [2, 8, 8, 3] }], 2 * 4 * 4 * 3);
  await compare('avgPool 2×2/2', (x) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'),
    [{ values: random(2 * 8 * 8 * 3, 7), shape: [2, 8, 8, 3] }], 2 * 4 * 4 * 3);
  // UnsortedSegmentSum is gather's gradient (repeated indices must add up)
  await compare('gather', (x) => tf.gather(x, tf.tensor1d([2, 0, 2, 1, 2], 'int32')),
    [{ values: random(4 * 3, 8), shape: [4, 3] }], 5 * 3);
});

test('WebGPU: a sum over the first axis of a [4, 1 048 592] tensor (a transpose past the shipped kernel\'s dispatch limit)', { skip: webgpuSkip, timeout: 300_000 }, async () => {
  needWebgpu();
  const m = 1_048_592; // > 16 × 65535 = 1 048 560 columns: the shipped tiled transpose throws here
  const values = Float32Array.from({ length: 4 * m }, (_, i) => (i % 7) - 3 + Math.floor(i / m));
  await tf.setBackend('webgpu');
  const x = tf.tensor2d(values, [4, m]);
  const s = tf.sum(x, 0);
  const t = tf.transpose(x);
  const [sv, tv] = await Promise.all([valuesOf(s), valuesOf(t)]);
  tf.dispose([x, s, t]);
  await tf.setBackend('cpu');
  for (let j = 0; j < m; j += 997) {
    const want = values[j] + values[m + j] + values[2 * m + j] + values[3 * m + j]; // small integers: exact
    assert.equal(sv[j], want, `sum[${j}]`);
    for (let r = 0; r < 4; r++) assert.equal(tv[j * 4 + r], values[r * m + j], `transpose[${j}, ${r}]`);
  }
});
