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
import { reverseAxes3 } from '../src/engine/kernels/wasmOps.js';
import { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from '../src/engine/kernels/index.js';
import { createRng, type Rng } from '../src/util/rng.js';

tf.env().set('PROD', true); // no "install tfjs-node" hint on the cpu backend
registerWasmTrainingKernels();
registerWasmTrainingKernels(); // idempotent

interface Input {
  data: Float32Array | Int32Array;
  shape: number[];
}

type Outputs = tf.Tensor | tf.Tensor[];

const TOL = 1e-5;

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'output sizes differ');
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

function normal(rng: Rng, shape: number[], shift = 0): Input {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() + shift;
  return { data, shape };
}

/** Runs f on one backend with the inputs created there; returns the outputs' data and shapes. */
async function runOn(
  backend: 'cpu' | 'wasm',
  inputs: Input[],
  f: (...ts: tf.Tensor[]) => Outputs,
): Promise<{ data: Float32Array[]; shapes: number[][] }> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const ts = inputs.map((x) => tf.tensor(x.data, x.shape, x.data instanceof Int32Array ? 'int32' : 'float32'));
    const o = f(...ts);
    return Array.isArray(o) ? o : [o];
  });
  const data = outs.map((o) => Float32Array.from(o.dataSync()));
  const shapes = outs.map((o) => o.shape);
  tf.dispose(outs);
  return { data, shapes };
}

/** Asserts that f gives the same result on wasm as on cpu; returns the wasm outputs. */
async function sameAsCpu(label: string, inputs: Input[], f: (...ts: tf.Tensor[]) => Outputs): Promise<Float32Array[]> {
  const cpu = await runOn('cpu', inputs, f);
  const wasm = await runOn('wasm', inputs, f);
  assert.equal(tf.getBackend(), 'wasm');
  for (let i = 0; i < cpu.data.length; i++) {
    assert.deepEqual(wasm.shapes[i], cpu.shapes[i], `${label}: output ${i} shape`);
    const err = relErr(wasm.data[i], cpu.data[i]);
    assert.ok(err < TOL, `${label}: output ${i} relative error ${err.toExponential(2)}`);
  }
  return wasm.data;
}

/** Runs a kernel on wasm directly and checks it leaves no data behind. */
async function assertNoLeak(label: string, inputs: Input[], f: (...ts: tf.Tensor[]) => tf.Tensor): Promise<void> {
  await tf.setBackend('wasm');
  const ts = inputs.map((x) => tf.tensor(x.data, x.shape));
  const before = tf.engine().backend.numDataIds();
  const out = f(...ts);
  assert.equal(tf.engine().backend.numDataIds(), before + 1, `${label}: intermediates left on the wasm heap`);
  tf.dispose([out, ...ts]);
}

type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];

interface ConvCase {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  f: number;
  s: 1 | 2 | 3 | [number, number];
  pad: Pad;
}

const CONV_CASES: ConvCase[] = [
  { n: 2, h: 8, w: 8, ci: 3, co: 4, f: 3, s: 1, pad: 'same' },
  { n: 2, h: 7, w: 7, ci: 1, co: 8, f: 3, s: 1, pad: 'valid' },
  { n: 3, h: 9, w: 6, ci: 16, co: 2, f: 3, s: 1, pad: 'same' },
  { n: 1, h: 6, w: 6, ci: 8, co: 16, f: 1, s: 1, pad: 'valid' },
  { n: 2, h: 8, w: 8, ci: 4, co: 2, f: 3, s: 2, pad: 'same' }, // asymmetric implicit padding
  { n: 2, h: 9, w: 9, ci: 3, co: 5, f: 3, s: 2, pad: 'same' },
  { n: 2, h: 8, w: 8, ci: 2, co: 3, f: 3, s: 2, pad: 'valid' }, // last row unused
  { n: 2, h: 7, w: 10, ci: 3, co: 4, f: 3, s: 2, pad: 'valid' },
  { n: 2, h: 10, w: 10, ci: 2, co: 3, f: 5, s: 2, pad: 'same' },
  { n: 2, h: 8, w: 7, ci: 3, co: 4, f: 2, s: 2, pad: 'same' }, // even filter
  { n: 2, h: 8, w: 8, ci: 3, co: 4, f: 3, s: 2, pad: 1 },
  { n: 2, h: 7, w: 7, ci: 2, co: 3, f: 3, s: 1, pad: 2 },
  { n: 2, h: 9, w: 8, ci: 3, co: 2, f: 3, s: 2, pad: [[0, 0], [2, 0], [0, 1], [0, 0]] },
  { n: 2, h: 6, w: 7, ci: 2, co: 3, f: 3, s: 1, pad: [[0, 0], [3, 1], [0, 4], [0, 0]] }, // pad > f − 1
  // Stride phases without any filter tap, strides above 2 and unequal strides.
  { n: 2, h: 8, w: 9, ci: 3, co: 4, f: 1, s: 2, pad: 'same' }, // 1×1 downsampling shortcut
  { n: 2, h: 7, w: 7, ci: 3, co: 2, f: 1, s: 2, pad: 'valid' },
  { n: 2, h: 10, w: 11, ci: 3, co: 4, f: 3, s: 3, pad: 'same' },
  { n: 2, h: 11, w: 9, ci: 2, co: 3, f: 2, s: 3, pad: 'valid' }, // f < s: one phase per window gets nothing
  { n: 2, h: 9, w: 10, ci: 2, co: 3, f: 4, s: 3, pad: 1 },
  { n: 2, h: 8, w: 9, ci: 3, co: 2, f: 3, s: [1, 2], pad: 'same' },
  { n: 2, h: 9, w: 6, ci: 2, co: 3, f: 3, s: [2, 1], pad: 'valid' },
  { n: 2, h: 3, w: 2, ci: 2, co: 3, f: 3, s: 2, pad: 'same' }, // input smaller than stride × 2
  { n: 1, h: 9, w: 9, ci: 2, co: 3, f: 5, s: 2, pad: [[0, 0], [4, 1], [0, 3], [0, 0]] },
];

function convLabel(c: ConvCase): string {
  return `x[${c.n},${c.h},${c.w},${c.ci}] f${c.f}x${c.f}x${c.co} s${c.s} ${JSON.stringify(c.pad)}`;
}

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
