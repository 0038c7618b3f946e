/**
 * The wasm training kernels against the cpu backend (the reference implementation of tfjs).
 * Every case builds the same inputs on both backends, so a kernel registered under the wrong
 * name, a wrong padding or a wrong tie-break shows up as a mismatch. All tests share one tfjs
 * engine; each switches to the backend it needs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { reverseAxes3 } from '../src/backends/wasm-native/kernels/wasmOps.js';
import { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from '../src/backends/wasm-native/kernels/index.js';
import { createRng } from '../src/util/rng.js';
import { assertNoLeak, CONV_CASES, convLabel, normal, relErr, runOn, sameAsCpu, TOL, type Input } from './convKit.js';

tf.env().set('PROD', true); // no "install tfjs-node" hint on the cpu backend
registerWasmTrainingKernels();
registerWasmTrainingKernels(); // idempotent

test('the training kernels are registered for wasm', () => {
  for (const name of WASM_TRAINING_KERNELS) assert.ok(tf.getKernel(name, 'wasm'), name);
});

test('conv2d gradients (filter and input) through tf.grad match cpu', async () => {
  const rng = createRng(1);
  for (const c of CONV_CASES) {
    const x = normal(rng, [c.n, c.h, c.w, c.ci]);
    const filter = normal(rng, [c.f, c.f, c.ci, c.co]);
    const outShape = await runOn('cpu', [x, filter], (xt, ft) => tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, c.s, c.pad));
    const dy = normal(rng, outShape.shapes[0]);
    await sameAsCpu(convLabel(c), [x, filter, dy], (xt, ft, dyt) =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad).mul(dyt).sum())([xt, ft]),
    );
  }
});

test('Conv2DBackpropFilter and Conv2DBackpropInput kernels match cpu and free their intermediates', async () => {
  const rng = createRng(2);
  for (const c of CONV_CASES) {
    const x = normal(rng, [c.n, c.h, c.w, c.ci]);
    const filterShape: [number, number, number, number] = [c.f, c.f, c.ci, c.co];
    const filter = normal(rng, filterShape);
    const outShape = await runOn('cpu', [x, filter], (xt, ft) => tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, c.s, c.pad));
    const dy = normal(rng, outShape.shapes[0]);
    const common = { strides: c.s, pad: c.pad, dataFormat: 'NHWC' };
    const dW = (xt: tf.Tensor, dyt: tf.Tensor): tf.Tensor =>
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: xt, dy: dyt }, { ...common, filterShape }) as tf.Tensor;
    const dX = (dyt: tf.Tensor, ft: tf.Tensor): tf.Tensor =>
      tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dyt, filter: ft }, { ...common, inputShape: x.shape }) as tf.Tensor;
    await sameAsCpu(`filter ${convLabel(c)}`, [x, dy], dW);
    await sameAsCpu(`input ${convLabel(c)}`, [dy, filter], dX);
    await assertNoLeak(`filter ${convLabel(c)}`, [x, dy], dW);
    await assertNoLeak(`input ${convLabel(c)}`, [dy, filter], dX);
  }
});

test('a larger conv layer: x[4,28,28,16], 3x3x16x32, strides 1 and 2', async () => {
  const rng = createRng(3);
  for (const s of [1, 2] as const) {
    const x = normal(rng, [4, 28, 28, 16]);
    const filter = normal(rng, [3, 3, 16, 32]);
    const dy = normal(rng, [4, 28 / s, 28 / s, 32]);
    await sameAsCpu(`large s${s}`, [x, filter, dy], (xt, ft, dyt) =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, 'same').mul(dyt).sum())([xt, ft]),
    );
  }
});

test('reverseAxes3 (the transpose behind the filter gradient) matches cpu, one and two passes', async () => {
  const rng = createRng(8);
  // 2^20 values is the switch to two passes.
  for (const shape of [[5, 7, 3], [64, 49, 16], [256, 784, 6], [1, 9, 4], [8, 5, 1]] as Array<[number, number, number]>) {
    const x = normal(rng, shape);
    const ref = await runOn('cpu', [x], (t) => tf.transpose(t, [2, 1, 0]));
    await tf.setBackend('wasm');
    const backend = tf.backend() as BackendWasm;
    const t = tf.tensor(x.data, shape);
    const before = backend.numDataIds();
    const info = reverseAxes3(backend, { dataId: t.dataId, shape: t.shape, dtype: t.dtype }, ...shape);
    assert.equal(backend.numDataIds(), before + 1, `reverseAxes3 ${shape}: intermediates left on the wasm heap`);
    const out = tf.engine().makeTensorFromTensorInfo(info);
    assert.deepEqual(out.shape, ref.shapes[0]);
    assert.equal(relErr(out.dataSync(), ref.data[0]), 0, `reverseAxes3 ${shape}`);
    tf.dispose([t, out]);
  }
});

test('MaxPoolGrad routes an all-negative window to its max, like cpu', async () => {
  const x: Input = { data: Float32Array.from([-4, -3, -1, -2]), shape: [1, 2, 2, 1] };
  const [g] = await sameAsCpu('all-negative window', [x], (xt) =>
    tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'))(xt),
  );
  assert.deepEqual(Array.from(g), [0, 0, 1, 0]);
});

test('MaxPoolGrad matches cpu, including ties and mostly negative inputs', async () => {
  const rng = createRng(4);
  const cases: Array<{ shape: number[]; f: number; s: number; pad: 'same' | 'valid' }> = [
    { shape: [2, 8, 8, 3], f: 2, s: 2, pad: 'valid' },
    { shape: [2, 7, 7, 5], f: 2, s: 2, pad: 'same' },
    { shape: [2, 9, 8, 4], f: 3, s: 2, pad: 'same' },
    { shape: [1, 7, 9, 2], f: 3, s: 2, pad: 'valid' },
    { shape: [2, 6, 6, 16], f: 3, s: 1, pad: 'same' }, // overlapping windows
  ];
  for (const c of cases) {
    // Shifted down so that many windows are all negative; rounded so that ties are common.
    const x = normal(rng, c.shape, -3);
    x.data = x.data.map((v) => Math.round(v));
    const yShape = await runOn('cpu', [x], (xt) => tf.maxPool(xt as tf.Tensor4D, c.f, c.s, c.pad));
    const dy = normal(rng, yShape.shapes[0]);
    const label = `maxPool ${JSON.stringify(c)}`;
    await sameAsCpu(label, [x, dy], (xt, dyt) =>
      tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, c.f, c.s, c.pad).mul(dyt).sum())(xt),
    );
    await assertNoLeak(label, [dy, x], (dyt, xt) =>
      tf.engine().runKernel(tf.MaxPoolGrad, { dy: dyt, input: xt, output: dyt }, {
        filterSize: c.f, strides: c.s, pad: c.pad,
      }) as tf.Tensor,
    );
  }
});

test('depthwise conv gradients match cpu', async () => {
  const rng = createRng(5);
  const cases: Array<{ shape: number[]; f: number; m: number; s: 1 | 2; pad: 'same' | 'valid' }> = [
    { shape: [2, 8, 8, 3], f: 3, m: 1, s: 1, pad: 'same' },
    { shape: [2, 7, 7, 4], f: 3, m: 2, s: 1, pad: 'valid' },
    { shape: [2, 8, 8, 3], f: 3, m: 2, s: 2, pad: 'same' },
    { shape: [1, 9, 7, 2], f: 3, m: 1, s: 2, pad: 'same' },
    { shape: [2, 8, 9, 5], f: 3, m: 3, s: 2, pad: 'valid' },
    { shape: [3, 10, 10, 8], f: 5, m: 1, s: 2, pad: 'same' },
  ];
  for (const c of cases) {
    const x = normal(rng, c.shape);
    const filterShape: [number, number, number, number] = [c.f, c.f, c.shape[3], c.m];
    const filter = normal(rng, filterShape);
    const yShape = await runOn('cpu', [x, filter], (xt, ft) =>
      tf.depthwiseConv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, c.s, c.pad));
    const dy = normal(rng, yShape.shapes[0]);
    const label = `depthwise ${JSON.stringify(c)}`;
    await sameAsCpu(label, [x, filter, dy], (xt, ft, dyt) =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad).mul(dyt).sum())([xt, ft]),
    );
    const attrs = { strides: c.s, pad: c.pad, dilations: 1 };
    await assertNoLeak(`${label} filter`, [x, dy], (xt, dyt) =>
      tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x: xt, dy: dyt }, { ...attrs, filterShape }) as tf.Tensor);
    await assertNoLeak(`${label} input`, [dy, filter], (dyt, ft) =>
      tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy: dyt, filter: ft }, { ...attrs, inputShape: c.shape }) as tf.Tensor);
  }
});

/** A [f,f,c,m] filter spread out with d − 1 zeros between taps: dilation as a plain filter. */
function dilateFilter(filter: Input, d: number): Input {
  const [f, , c, m] = filter.shape;
  const e = (f - 1) * d + 1;
  const data = new Float32Array(e * e * c * m);
  for (let r = 0; r < f; r++) {
    for (let q = 0; q < f; q++) {
      const src = (r * f + q) * c * m;
      data.set(filter.data.subarray(src, src + c * m), (r * d * e + q * d) * c * m);
    }
  }
  return { data, shape: [e, e, c, m] };
}

test('DepthwiseConv2dNativeBackpropInput with dilation 2 matches the undilated equivalent', async () => {
  // cpu's kernel ignores dilations, so the reference is cpu with the zero-spread filter.
  const rng = createRng(6);
  for (const pad of ['same', 'valid'] as const) {
    const inputShape: [number, number, number, number] = [2, 9, 8, 3];
    const filter = normal(rng, [3, 3, 3, 2]);
    const wide = dilateFilter(filter, 2);
    const yShape = await runOn('cpu', [normal(rng, inputShape), wide], (xt, ft) =>
      tf.depthwiseConv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, 1, pad));
    const dy = normal(rng, yShape.shapes[0]);
    const attrs = { strides: 1, pad, inputShape };
    const ref = await runOn('cpu', [dy, wide], (dyt, ft) =>
      tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy: dyt, filter: ft }, { ...attrs, dilations: 1 }) as tf.Tensor);
    const got = await runOn('wasm', [dy, filter], (dyt, ft) =>
      tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy: dyt, filter: ft }, { ...attrs, dilations: 2 }) as tf.Tensor);
    assert.deepEqual(got.shapes[0], ref.shapes[0]);
    const err = relErr(got.data[0], ref.data[0]);
    assert.ok(err < TOL, `dilated depthwise input ${pad}: relative error ${err.toExponential(2)}`);
  }
});

test('UnsortedSegmentSum and the gradient of gather match cpu', async () => {
  const rng = createRng(7);
  const x = normal(rng, [12, 5]);
  const ids: Input = { data: Int32Array.from([3, 0, 3, 7, 1, 1, 0, 9, 2, 3, 6, 0]), shape: [12] };
  await sameAsCpu('unsortedSegmentSum', [x, ids], (xt, it) => tf.unsortedSegmentSum(xt, it as tf.Tensor1D, 10));
  const params = normal(rng, [10, 4, 3]);
  const dy = normal(rng, [4, 6, 4, 3]);
  const idx: Input = { data: Int32Array.from({ length: 24 }, () => rng.int(10)), shape: [4, 6] };
  await sameAsCpu('gather grad', [params, idx, dy], (pt, it, dyt) =>
    tf.grad((p: tf.Tensor) => tf.gather(p, it).mul(dyt).sum())(pt),
  );
});

test('Identity on wasm shares the data instead of copying it, and the clone outlives its source', async () => {
  await tf.setBackend('wasm');
  const x = tf.tensor1d([1, 2, 3, 4]);
  const buffers = (): number => tf.engine().backend.numDataIds();
  const before = buffers();
  const y = x.clone();
  assert.equal(buffers(), before, 'a clone must not allocate a buffer');
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4]);
  y.dispose();
});
