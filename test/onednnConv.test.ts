/**
 * snn's oneDNN convolutions (native/snn_onednn.cc) against the cpu backend, and against the
 * XNNPACK compositions they replace: the same geometries as the wasm kernel tests, plus
 * dilation and a training-sized layer. Skipped, with the reason, when the addon is not built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setNativeConvolutions } from '../src/backends/wasm-native/kernels/index.js';
import { nativeStatus } from '../src/backends/wasm-native/native.js';
import { requirement } from './requirements.js';
import { createRng } from '../src/util/rng.js';
import { assertNoLeak, CONV_CASES, convLabel, normal, relErr, runOn, sameAsCpu, TOL, underEachPolicy } from './convKit.js';

tf.env().set('PROD', true);
const native = nativeStatus();
const skip = requirement('the native addon', native.addon === null ? native.why : null);

test('oneDNN conv2d forward and both gradients match cpu on every geometry, on one thread and on all', { skip }, async () => {
  setNativeConvolutions(native.addon);
  await underEachPolicy(native.addon!, async (policy) => {
    const rng = createRng(11);
    for (const c of CONV_CASES) {
      const label = `${policy}: ${convLabel(c)}`;
      const x = normal(rng, [c.n, c.h, c.w, c.ci]);
      const filter = normal(rng, [c.f, c.f, c.ci, c.co]);
      const outShape = await runOn('cpu', [x, filter], (xt, ft) => tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, c.s, c.pad));
      const dy = normal(rng, outShape.shapes[0]);
      await sameAsCpu(label, [x, filter, dy], (xt, ft, dyt) => {
        const y = tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, c.s, c.pad);
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad).mul(dyt).sum())([xt, ft]);
        return [y, ...grads];
      });
      const common = { strides: c.s, pad: c.pad, dataFormat: 'NHWC' };
      const filterShape = [c.f, c.f, c.ci, c.co];
      await assertNoLeak(`filter ${label}`, [x, dy], (xt, dyt) =>
        tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: xt, dy: dyt }, { ...common, filterShape }) as tf.Tensor);
      await assertNoLeak(`input ${label}`, [dy, filter], (dyt, ft) =>
        tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dyt, filter: ft }, { ...common, inputShape: x.shape }) as tf.Tensor);
    }
  });
});

test('oneDNN conv2d with dilation 2 matches cpu (forward)', { skip }, async () => {
  setNativeConvolutions(native.addon);
  const rng = createRng(12);
  const x = normal(rng, [2, 11, 9, 3]);
  const filter = normal(rng, [3, 3, 3, 4]);
  for (const pad of ['same', 'valid'] as const) {
    await sameAsCpu(`dilated ${pad}`, [x, filter], (xt, ft) => tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, 1, pad, 'NHWC', 2));
  }
});

test('oneDNN and the XNNPACK compositions agree on a training-sized layer (second implementation)', { skip }, async () => {
  const rng = createRng(13);
  const x = normal(rng, [16, 28, 28, 16]);
  const filter = normal(rng, [3, 3, 16, 32]);
  for (const s of [1, 2] as const) {
    const dy = normal(rng, [16, 28 / s, 28 / s, 32]);
    const f = (xt: tf.Tensor, ft: tf.Tensor, dyt: tf.Tensor): tf.Tensor[] => [
      tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, s, 'same'),
      ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, 'same').mul(dyt).sum())([xt, ft]),
    ];
    setNativeConvolutions(null);
    const xnn = await runOn('wasm', [x, filter, dy], f);
    setNativeConvolutions(native.addon);
    const dnn = await runOn('wasm', [x, filter, dy], f);
    for (let i = 0; i < 3; i++) {
      const err = relErr(dnn.data[i], xnn.data[i]);
      assert.ok(err < TOL, `stride ${s}, output ${i}: relative error ${err.toExponential(2)}`);
    }
  }
});

test('SNN_NATIVE=off is honoured by a fresh process', { skip }, async () => {
  const { execFileSync } = await import('node:child_process');
  const script = "import('./dist/src/backends/wasm-native/native.js').then(m => process.stdout.write(JSON.stringify(m.nativeStatus().why)))";
  const out = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, SNN_NATIVE: 'off' }, encoding: 'utf8' });
  assert.equal(JSON.parse(out), 'SNN_NATIVE=off');
});

test('SNN_SERIAL_WORK sets the one-thread cut-offs of a fresh process; setSerialWork rejects bad values', { skip }, async () => {
  const { execFileSync } = await import('node:child_process');
  const script = "import('./dist/src/backends/wasm-native/native.js').then(m => { const i = m.nativeStatus().addon.info(); process.stdout.write(JSON.stringify([i.serialMacs, i.serialElems])) })";
  const read = (env: Record<string, string>): number[] =>
    JSON.parse(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' })) as number[];
  assert.deepEqual(read({ SNN_SERIAL_WORK: '1234,56' }), [1234, 56]);
  assert.deepEqual(read({ SNN_SERIAL_WORK: '0,0' }), [0, 0]);
  const own = native.addon!.info();
  assert.deepEqual(read({ SNN_SERIAL_WORK: '' }), [own.serialMacs, own.serialElems]);
  // Unreadable values: the defaults, and one line each on stderr.
  const { spawnSync } = await import('node:child_process');
  const warned = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, SNN_SERIAL_WORK: '5e7', SNN_THREADS: 'two' }, encoding: 'utf8' });
  assert.deepEqual(JSON.parse(warned.stdout), [own.serialMacs, own.serialElems]);
  assert.match(warned.stderr, /^snn: SNN_THREADS="two" ignored: expected a positive integer\nsnn: SNN_SERIAL_WORK="5e7" ignored: expected MACS,ELEMENTS/);
  assert.throws(() => native.addon!.setSerialWork(-1, 0), /setSerialWork/);
  assert.throws(() => native.addon!.setSerialWork(Number.NaN, 0), /setSerialWork/);
  assert.deepEqual([native.addon!.info().serialMacs, native.addon!.info().serialElems], [own.serialMacs, own.serialElems]);
});

test('switching back to the wasm convolutions works without re-initialising the backend', { skip }, async () => {
  // A fresh process: wasm binds its C functions in each kernel's setup, once, when the backend
  // initialises, which here happens with the oneDNN kernels registered.
  const { execFileSync } = await import('node:child_process');
  const script = `
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    const { setNativeConvolutions } = await import('./dist/src/backends/wasm-native/kernels/index.js');
    const { nativeStatus } = await import('./dist/src/backends/wasm-native/native.js');
    tf.env().set('PROD', true);
    setNativeConvolutions(nativeStatus().addon);
    await tf.setBackend('wasm');
    setNativeConvolutions(null);
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const w = tf.tensor4d([1, 10], [1, 2, 1, 1]);
    process.stdout.write(JSON.stringify(Array.from(tf.conv2d(x, w, 1, 'valid').dataSync())));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), [1 + 20, 3 + 40]); // hand-computed: x·[1, 10] along each row
});

test('oneDNN average pooling matches cpu (forward: valid and same; gradient: valid), on one thread and on all', { skip }, async () => {
  setNativeConvolutions(native.addon);
  await underEachPolicy(native.addon!, async (policy) => {
    const rng = createRng(15);
    for (const [shape, f, s, pad] of [
      [[2, 8, 8, 3], 2, 2, 'valid'],
      [[3, 9, 7, 5], 3, 2, 'valid'],
      [[2, 7, 7, 4], 2, 2, 'same'],
      [[1, 6, 5, 2], 3, 1, 'same'],
    ] as Array<[[number, number, number, number], number, number, 'valid' | 'same']>) {
      const x = normal(rng, shape);
      const label = `${policy}: avgPool ${JSON.stringify(shape)} f${f} s${s} ${pad}`;
      await sameAsCpu(label, [x], (xt) => tf.avgPool(xt as tf.Tensor4D, f, s, pad));
      if (pad === 'valid') {
        const outShape = (await runOn('cpu', [x], (xt) => tf.avgPool(xt as tf.Tensor4D, f, s, pad))).shapes[0];
        const dy = normal(rng, outShape);
        await sameAsCpu(`${label} gradient`, [x, dy], (xt, dyt) => tf.grad((v: tf.Tensor) => tf.avgPool(v as tf.Tensor4D, f, s, pad).mul(dyt).sum())(xt));
      }
    }
  });
});

test('oneDNN average-pooling gradient with padding is the gradient of its forward (hand-computed)', { skip }, async () => {
  setNativeConvolutions(native.addon);
  await tf.setBackend('wasm');
  // x [1, 3, 3, 1], 2×2 windows, stride 2, 'same': output 2×2; the windows hold 4, 2, 2 and 1
  // valid pixels (TensorFlow's count excludes padding), so d(Σ y)/dx = 1/4 in the top-left
  // block, 1/2 on the right column and bottom row, 1 in the corner.
  const g = tf.tidy(() => tf.grad((v: tf.Tensor) => tf.avgPool(v as tf.Tensor4D, 2, 2, 'same').sum())(tf.zeros([1, 3, 3, 1])));
  assert.deepEqual(Array.from(g.dataSync()), [0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1]);
  g.dispose();
});
