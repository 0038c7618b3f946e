/**
 * Seeded pseudo-random numbers with a state that can be saved and restored, so that a resumed
 * run draws exactly the numbers an uninterrupted one would have drawn.
 *
 * Generator: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state), seeded
 * through splitmix32 so that nearby integer seeds give unrelated streams.
 */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** The four 32-bit words of the state; `restoreRng` continues from them. */
  state(): [number, number, number, number];
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function restoreRng(words: readonly number[]): Rng {
  if (words.length !== 4) throw new Error(`rng state must have 4 words, got ${words.length}`);
  let [a, b, c, d] = words.map((w) => w >>> 0) as [number, number, number, number];
  const nextU32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t;
  };
  const next = (): number => nextU32() / 4294967296;
  return {
    next,
    int: (n) => Math.floor(next() * n),
    normal: () => {
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    state: () => [a, b, c, d],
  };
}

/** A generator from an integer seed (any 32-bit value). */
export function createRng(seed: number): Rng {
  const mix = splitmix32(seed);
  const rng = restoreRng([mix(), mix(), mix(), mix()]);
  for (let i = 0; i < 12; i++) rng.next(); // discard warm-up outputs, as sfc32's author advises
  return rng;
}

/** Fisher-Yates shuffle of 0..n-1. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
