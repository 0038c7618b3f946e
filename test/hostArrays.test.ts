/**
 * The pool of plain arrays the native path keeps its backward-pass inputs in
 * (src/backends/wasm-native/hostArrays.ts): reuse, no array handed to two takers, views never pooled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostCopy, idleHostBytes, releaseHostArray, takeHostArray } from '../src/backends/wasm-native/hostArrays.js';

test('a released array is handed out again for the same length, and only for it', () => {
  const a = takeHostArray(1000);
  releaseHostArray(a);
  assert.equal(takeHostArray(999).length, 999);
  const b = takeHostArray(1000);
  assert.equal(b, a);
  assert.notEqual(takeHostArray(1000), a, 'taken once, it is not idle any more');
});

test('releasing an array twice does not hand it to two takers', () => {
  const a = takeHostArray(777);
  const before = idleHostBytes();
  releaseHostArray(a);
  releaseHostArray(a);
  assert.equal(idleHostBytes(), before + a.byteLength);
  const first = takeHostArray(777);
  const second = takeHostArray(777);
  assert.equal(first, a);
  assert.notEqual(second, a);
});

test('views into another buffer (the wasm heap) are never pooled', () => {
  const heapLike = new Float32Array(64);
  const view = heapLike.subarray(8, 24);
  const before = idleHostBytes();
  releaseHostArray(view);
  releaseHostArray(heapLike.subarray(0, 16));
  assert.equal(idleHostBytes(), before);
  assert.notEqual(takeHostArray(16).buffer, heapLike.buffer);
});

test('hostCopy copies every element, also into a reused array with stale contents', () => {
  const stale = takeHostArray(5);
  stale.fill(42);
  releaseHostArray(stale);
  const src = Float32Array.from([1, -2, 3.5, 0, 7]);
  const c = hostCopy(src);
  assert.equal(c, stale);
  assert.deepEqual(Array.from(c), [1, -2, 3.5, 0, 7]);
  src[0] = 9;
  assert.equal(c[0], 1, 'a copy, not a view');
});
