/**
 * Train/test splits for data sets published without one (CIFAR10-DVS). Reproducible across
 * machines: the only inputs are the sorted relative file names, their labels and an integer
 * seed; the draws are integer-based (sfc32) and names are compared by code unit, not locale.
 *
 * - `seeded`: class-balanced; within each class (in label order) a permutation drawn from one
 *   generator seeded with `seed` picks round(n_c * testFraction) test samples (at least one).
 * - `tebn`: samples 0-99 of every class (by the number in the file name) are the test set, the
 *   split of Duan et al., "Temporal Effective Batch Normalization" (NeurIPS 2022), which many
 *   later papers use; accuracies on it run higher than on random splits, so say which you used.
 *
 * Each split is ordered round-robin over the classes, so that the first N samples (trainLimit,
 * testLimit) stay balanced.
 */
import { createHash } from 'node:crypto';
import { createRng, permutation } from '../util/rng.js';
import type { SplitRecord } from './types.js';

export interface Sample {
  /** Path relative to the data folder, '/'-separated. */
  file: string;
  label: number;
  /** The sample's number within its class (from the file name), or its position. */
  index: number;
}

export type SplitMode = SplitRecord['mode'];

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Samples sorted by label, then number, then name: the canonical order a split starts from. */
export function sortSamples(samples: readonly Sample[]): Sample[] {
  return [...samples].sort((a, b) => a.label - b.label || a.index - b.index || byCodeUnit(a.file, b.file));
}

function interleave(perClass: Sample[][]): Sample[] {
  const out: Sample[] = [];
  const longest = Math.max(0, ...perClass.map((c) => c.length));
  for (let i = 0; i < longest; i++) {
    for (const c of perClass) if (i < c.length) out.push(c[i]);
  }
  return out;
}

export function splitHash(train: readonly Sample[], test: readonly Sample[]): string {
  const json = JSON.stringify({ train: train.map((s) => s.file), test: test.map((s) => s.file) });
  return createHash('sha256').update(json).digest('hex');
}

export function splitSamples(
  samples: readonly Sample[],
  numClasses: number,
  mode: SplitMode,
  seed: number,
  testFraction = 0.1,
): { train: Sample[]; test: Sample[]; hash: string } {
  const sorted = sortSamples(samples);
  const byClass: Sample[][] = Array.from({ length: numClasses }, () => []);
  for (const s of sorted) byClass[s.label].push(s);
  const trainParts: Sample[][] = [];
  const testParts: Sample[][] = [];
  if (mode === 'tebn') {
    for (const c of byClass) {
      testParts.push(c.filter((s) => s.index < 100));
      trainParts.push(c.filter((s) => s.index >= 100));
    }
  } else {
    const rng = createRng(seed >>> 0);
    for (const c of byClass) {
      const perm = permutation(c.length, rng);
      // At least one test sample per class once a class has two, so tiny sets still test.
      const nTest = c.length >= 2 ? Math.max(1, Math.round(c.length * testFraction)) : 0;
      testParts.push(Array.from(perm.subarray(0, nTest), (i) => c[i]));
      trainParts.push(Array.from(perm.subarray(nTest), (i) => c[i]));
    }
  }
  const train = interleave(trainParts);
  const test = interleave(testParts);
  return { train, test, hash: splitHash(train, test) };
}
