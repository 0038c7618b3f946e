/**
 * Shared pieces of the convolution kernel tests: inputs, running one computation on a backend,
 * comparing against the cpu backend, and the convolution geometries every implementation must get
 * right (strides, paddings, even filters, phases without taps).
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../src/backends/wasm-native/native.js';
import type { Rng } from '../src/util/rng.js';

export interface Input {
  data: Float32Array | Int32Array;
  shape: number[];
}

export type Outputs = tf.Tensor | tf.Tensor[];

export const TOL = 1e-5;

export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'output sizes differ');
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

export function normal(rng: Rng, shape: number[], shift = 0): Input {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() + shift;
  return { data, shape };
}

/** Runs f on one backend with the inputs created there; returns the outputs' data and shapes. */
export async function runOn(
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
export async function sameAsCpu(label: string, inputs: Input[], f: (...ts: tf.Tensor[]) => Outputs): Promise<Float32Array[]> {
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
export async function assertNoLeak(label: string, inputs: Input[], f: (...ts: tf.Tensor[]) => tf.Tensor): Promise<void> {
  await tf.setBackend('wasm');
  const ts = inputs.map((x) => tf.tensor(x.data, x.shape));
  const before = tf.engine().backend.numDataIds();
  const out = f(...ts);
  assert.equal(tf.engine().backend.numDataIds(), before + 1, `${label}: intermediates left on the wasm heap`);
  tf.dispose([out, ...ts]);
}

export type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];

export interface ConvCase {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  f: number;
  s: 1 | 2 | 3 | [number, number];
  pad: Pad;
}

export const CONV_CASES: ConvCase[] = [
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

export function convLabel(c: ConvCase): string {
  return `x[${c.n},${c.h},${c.w},${c.ci}] f${c.f}x${c.f}x${c.co} s${c.s} ${JSON.stringify(c.pad)}`;
}

/**
 * The native kernels' two extremes of thread use (native/snn_onednn.cc's ThreadPolicy): every
 * kernel on all threads, and every kernel on one. The tests run each under both, so that the
 * parallel and the serial path are both compared with the cpu backend whatever the cut-offs.
 */
export const THREAD_POLICIES = [
  { name: 'every kernel on all threads', macs: 0, elements: 0 },
  { name: 'every kernel on one thread', macs: Infinity, elements: Infinity },
] as const;

/** Runs `f` under each policy, then puts the addon's own cut-offs back. */
export async function underEachPolicy(addon: NativeAddon, f: (policy: string) => Promise<void>): Promise<void> {
  const { serialMacs, serialElems } = addon.info();
  try {
    for (const p of THREAD_POLICIES) {
      addon.setSerialWork(p.macs, p.elements);
      await f(p.name);
    }
  } finally {
    addon.setSerialWork(serialMacs, serialElems);
  }
}
