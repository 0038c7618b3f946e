/**
 * What a native convolution keeps of its input for the backward pass (src/backends/wasm-native/savedInput.ts):
 * spikes as bits, anything else as floats, and in both cases the same values back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeStatus } from '../src/backends/wasm-native/native.js';
import { requirement } from './requirements.js';
import type { NativeHeap } from '../src/backends/wasm-native/heap.js';
import { restoreInput, saveInput } from '../src/backends/wasm-native/savedInput.js';
import { createRng } from '../src/util/rng.js';
import { underEachPolicy } from './convKit.js';

const native = nativeStatus();
const skip = requirement('the native addon', native.addon === null ? native.why : null);

/** saveInput and restoreInput only use the addon, so no wasm backend is needed. */
const heapOf = (): NativeHeap => ({ addon: native.addon! }) as unknown as NativeHeap;

function spikes(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => (rng.next() < 0.2 ? 1 : 0));
}

test('spikes are kept as bits, a 32nd of the floats, and come back the same; -0 comes back as 0', { skip }, async () => {
  await underEachPolicy(native.addon!, async (policy) => {
    // Lengths around a byte boundary, and one large enough to be split across threads.
    for (const n of [1, 7, 8, 9, 1000, 3_000_001]) {
      const x = spikes(n, n);
      if (n > 1) x[n - 2] = -0;
      const saved = saveInput(heapOf(), x);
      assert.equal(saved.kind, 'bits', `${policy}, n=${n}`);
      if (saved.kind === 'bits') assert.equal(saved.bits.length, Math.ceil(n / 8));
      const out = new Float32Array(n).fill(7);
      restoreInput(heapOf(), saved, out);
      const expect = Float32Array.from(x, (v) => (v === 1 ? 1 : 0));
      assert.deepEqual(out, expect, `${policy}, n=${n}`);
      if (n > 1) assert.ok(Object.is(out[n - 2], 0));
    }
  });
});

test('anything but 0 and 1 anywhere keeps the input as floats, exactly', { skip }, async () => {
  for (const odd of [2, 0.5, -1, Number.NaN, 1e-45]) {
    for (const at of [0, 4095, 4096]) {
      const x = spikes(4097, 3);
      x[at] = odd;
      const saved = saveInput(heapOf(), x);
      assert.equal(saved.kind, 'floats', `${odd} at ${at}`);
      const out = new Float32Array(x.length);
      restoreInput(heapOf(), saved, out);
      assert.deepEqual(out, x);
    }
  }
});
