/**
 * Arrays outside the wasm heap (Float32Array, and Uint8Array for packed bits), reused from one
 * training step to the next.
 *
 * On the native path what the backward pass needs (LIF membranes, BatchNorm and convolution
 * inputs) is kept in plain arrays, because the wasm heap stops at 4 GB. Allocated afresh every
 * step, those arrays cost V8 a zero-fill, a page fault per 4 KiB on first touch and garbage
 * collection: about a fifth of a `tiny` training step (64 → 51 ms at T = 4, batch 64). The same
 * shapes recur every step, so an array goes back here once its backward pass has read it and
 * the next step takes it again.
 * An array whose backward pass never runs (no gradient was taken) is simply left to the GC.
 *
 * Arrays come back with stale contents: callers overwrite every element.
 */

type HostArray = Float32Array | Uint8Array;

/** Idle arrays by kind and length ("f1024", "u128"). */
const free = new Map<string, HostArray[]>();
/** The arrays now in `free`: a second release of one must not hand it to two takers. */
const idle = new WeakSet<HostArray>();
let freeBytes = 0;
/** Idle arrays kept at most (a batch of another size, the last of an epoch, adds a second set). */
const MAX_FREE_BYTES = 1024 * 1024 * 1024;

const keyOf = (a: HostArray): string => `${a instanceof Float32Array ? 'f' : 'u'}${a.length}`;

function take<A extends HostArray>(key: string, make: () => A): A {
  const a = free.get(key)?.pop() as A | undefined;
  if (a === undefined) return make();
  idle.delete(a);
  freeBytes -= a.byteLength;
  return a;
}

/** An array of `length` elements, contents unspecified. */
export function takeHostArray(length: number): Float32Array {
  return take(`f${length}`, () => new Float32Array(length));
}

/** A byte array of `length` (packed bits, see savedInput.ts), contents unspecified. */
export function takeHostBytes(length: number): Uint8Array {
  return take(`u${length}`, () => new Uint8Array(length));
}

/** A copy of `src` in an array of the pool. */
export function hostCopy(src: Float32Array): Float32Array {
  const a = takeHostArray(src.length);
  a.set(src);
  return a;
}

/** Hands `a` back for reuse; the caller must not touch it afterwards. */
export function releaseHostArray(a: HostArray): void {
  // Only whole arrays of this module: never a view into another buffer (the wasm heap's).
  if (a.byteOffset !== 0 || a.buffer.byteLength !== a.byteLength) return;
  if (idle.has(a) || freeBytes + a.byteLength > MAX_FREE_BYTES) return;
  idle.add(a);
  const key = keyOf(a);
  let list = free.get(key);
  if (list === undefined) {
    list = [];
    free.set(key, list);
  }
  list.push(a);
  freeBytes += a.byteLength;
}

/** Bytes held by idle arrays (for tests and the profiler). */
export function idleHostBytes(): number {
  return freeBytes;
}
