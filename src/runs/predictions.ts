/**
 * Per-image predictions (`snn eval --predictions FILE`) and their comparison (`snn runs compare
 * A.csv B.csv`). The CSV has one row per image of the split, in split order:
 *
 *   index, label, prediction, logit_0 … logit_{K−1}, spikes
 *
 * `logit_k` is the network's readout for class k: the mean over the T steps of the
 * classifier's output (not a probability; softmax of the row gives one), written as the
 * shortest decimal that reads back as the same float32; `prediction` is its argmax (first on
 * ties); `spikes` counts every spike of the image over all neurons and steps.
 *
 * Comparing two files of the same split: agreement (share of images with equal predictions),
 * the confusion matrix between them (rows: A's class, columns: B's), both accuracies, the
 * images only one gets right, per true class, and the largest logit difference.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { UserError } from '../util/errors.js';
import type { PerImage } from '../train/evaluate.js';
import { writeError, writeFileAtomic } from './atomic.js';

/** The shortest decimal that reads back as the float32 `v`. */
export function float32Text(v: number): string {
  const f = Math.fround(v);
  if (!Number.isFinite(f)) return String(f);
  for (let p = 1; p <= 9; p++) {
    const s = String(Number(f.toPrecision(p)));
    if (Math.fround(Number(s)) === f) return s;
  }
  return String(f);
}

export function predictionsCsv(p: PerImage): string {
  const K = p.classes;
  const head = ['index', 'label', 'prediction', ...Array.from({ length: K }, (_, k) => `logit_${k}`), 'spikes'];
  const rows = Array.from(p.labels, (label, i) => [
    i,
    label,
    p.predictions[i],
    ...Array.from(p.logits.subarray(i * K, (i + 1) * K), float32Text),
    p.spikes[i],
  ]);
  return stringify([head, ...rows]);
}

/** Refuses, before any work, a predictions path whose folder does not exist or that is a folder. */
export function checkPredictionsPath(file: string): void {
  const dir = dirname(resolve(file));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`--predictions ${file}: folder ${dir} does not exist`);
  if (existsSync(file) && statSync(file).isDirectory()) throw new UserError(`--predictions ${file}: is a folder`);
}

export function writePredictions(file: string, p: PerImage): void {
  try {
    writeFileAtomic(file, predictionsCsv(p));
  } catch (e) {
    throw e instanceof UserError ? e : writeError(file, e);
  }
}

/** Largest predictions file read (a 50,000-image split with 1,000 classes is ~500 MB). */
const MAX_BYTES = 1 << 30;

export function readPredictions(file: string): PerImage {
  let text: string;
  try {
    if (statSync(file).size > MAX_BYTES) throw new UserError(`${file}: larger than ${MAX_BYTES} bytes; not a predictions file`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let rows: string[][];
  try {
    rows = parse(text, { relax_column_count: false, skip_empty_lines: true }) as string[][];
  } catch (e) {
    throw new UserError(`${file}: not CSV (${(e as Error).message})`);
  }
  const head = rows[0] ?? [];
  const K = head.length - 4;
  const want = ['index', 'label', 'prediction', ...Array.from({ length: Math.max(K, 0) }, (_, k) => `logit_${k}`), 'spikes'];
  if (K < 1 || head.join(',') !== want.join(',')) {
    throw new UserError(`${file}: the header is not index,label,prediction,logit_0,...,spikes (snn eval --predictions writes it)`);
  }
  const n = rows.length - 1;
  const out: PerImage = { labels: new Int32Array(n), predictions: new Int32Array(n), logits: new Float32Array(n * K), classes: K, spikes: new Float64Array(n) };
  const int = (s: string, what: string, row: number, max: number): number => {
    const v = Number(s);
    if (s === '' || !Number.isInteger(v) || v < 0 || v >= max) throw new UserError(`${file}: row ${row}: ${what} '${s}' is not an integer in [0, ${max})`);
    return v;
  };
  for (let i = 0; i < n; i++) {
    const r = rows[i + 1];
    const line = i + 2;
    if (int(r[0], 'index', line, n) !== i) throw new UserError(`${file}: row ${line}: index ${r[0]}, expected ${i} (rows in split order)`);
    out.labels[i] = int(r[1], 'label', line, K);
    out.predictions[i] = int(r[2], 'prediction', line, K);
    for (let k = 0; k < K; k++) {
      const v = Number(r[3 + k]);
      if (r[3 + k] === '' || !Number.isFinite(v)) throw new UserError(`${file}: row ${line}: logit_${k} '${r[3 + k]}' is not a finite number`);
      out.logits[i * K + k] = v;
    }
    const s = Number(r[3 + K]);
    if (r[3 + K] === '' || !Number.isFinite(s) || s < 0) throw new UserError(`${file}: row ${line}: spikes '${r[3 + K]}' is not a count`);
    out.spikes[i] = s;
  }
  return out;
}

export interface ClassComparison {
  class: number;
  images: number;
  accuracyA: number;
  accuracyB: number;
  agreement: number;
}

export interface PredictionComparison {
  images: number;
  classes: number;
  /** Images on which A and B predict the same class, and their share. */
  same: number;
  agreement: number;
  accuracyA: number;
  accuracyB: number;
  /** Images only A (only B) classifies correctly. */
  onlyA: number;
  onlyB: number;
  /** confusion[a][b]: images A predicts as a and B as b. */
  confusion: number[][];
  perClass: ClassComparison[];
  maxLogitDifference: number;
  meanSpikesA: number;
  meanSpikesB: number;
}

export function comparePredictions(a: PerImage, b: PerImage, names: [string, string] = ['A', 'B']): PredictionComparison {
  if (a.labels.length !== b.labels.length) throw new UserError(`${names[0]} has ${a.labels.length} images, ${names[1]} ${b.labels.length}: not the same split`);
  if (a.classes !== b.classes) throw new UserError(`${names[0]} has ${a.classes} classes, ${names[1]} ${b.classes}`);
  const n = a.labels.length;
  const K = a.classes;
  for (let i = 0; i < n; i++) {
    if (a.labels[i] !== b.labels[i]) throw new UserError(`image ${i}: label ${a.labels[i]} in ${names[0]}, ${b.labels[i]} in ${names[1]}: not the same split or order`);
  }
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  const per = Array.from({ length: K }, () => ({ images: 0, a: 0, b: 0, same: 0 }));
  let same = 0;
  let rightA = 0;
  let rightB = 0;
  let onlyA = 0;
  let onlyB = 0;
  let maxDiff = 0;
  let spikesA = 0;
  let spikesB = 0;
  for (let i = 0; i < n; i++) {
    const [pa, pb, y] = [a.predictions[i], b.predictions[i], a.labels[i]];
    confusion[pa][pb]++;
    const c = per[y];
    c.images++;
    if (pa === pb) {
      same++;
      c.same++;
    }
    if (pa === y) {
      rightA++;
      c.a++;
    }
    if (pb === y) {
      rightB++;
      c.b++;
    }
    if (pa === y && pb !== y) onlyA++;
    if (pb === y && pa !== y) onlyB++;
    for (let k = 0; k < K; k++) maxDiff = Math.max(maxDiff, Math.abs(a.logits[i * K + k] - b.logits[i * K + k]));
    spikesA += a.spikes[i];
    spikesB += b.spikes[i];
  }
  const share = (x: number, of: number): number => (of > 0 ? x / of : 0);
  return {
    images: n,
    classes: K,
    same,
    agreement: share(same, n),
    accuracyA: share(rightA, n),
    accuracyB: share(rightB, n),
    onlyA,
    onlyB,
    confusion,
    perClass: per.map((c, k) => ({ class: k, images: c.images, accuracyA: share(c.a, c.images), accuracyB: share(c.b, c.images), agreement: share(c.same, c.images) })),
    maxLogitDifference: maxDiff,
    meanSpikesA: share(spikesA, n),
    meanSpikesB: share(spikesB, n),
  };
}

/** The comparison as text for the terminal. */
export function comparisonText(c: PredictionComparison, a: string, b: string): string {
  const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
  const w = Math.max(5, ...c.confusion.flat().map((v) => String(v).length)) + 1;
  const lines = [
    `A           ${a}`,
    `B           ${b}`,
    `images      ${c.images}, ${c.classes} classes`,
    `agreement   ${pct(c.agreement)} (${c.same} of ${c.images} predictions equal, ${c.images - c.same} differ)`,
    `accuracy    A ${pct(c.accuracyA)}, B ${pct(c.accuracyB)}; only A right on ${c.onlyA}, only B right on ${c.onlyB}`,
    `logits      largest difference ${c.maxLogitDifference.toPrecision(3)}`,
    `spikes      mean per image A ${c.meanSpikesA.toFixed(1)}, B ${c.meanSpikesB.toFixed(1)}`,
    '',
    'predictions (rows: A, columns: B):',
    `${'A\\B'.padStart(5)}${c.confusion.map((_, k) => String(k).padStart(w)).join('')}`,
    ...c.confusion.map((row, k) => `${String(k).padStart(5)}${row.map((v) => String(v).padStart(w)).join('')}`),
    '',
    'by true class:',
    `${'class'.padStart(5)}${'images'.padStart(8)}${'acc A'.padStart(9)}${'acc B'.padStart(9)}${'agree'.padStart(9)}`,
    ...c.perClass.map((p) => `${String(p.class).padStart(5)}${String(p.images).padStart(8)}${pct(p.accuracyA).padStart(9)}${pct(p.accuracyB).padStart(9)}${pct(p.agreement).padStart(9)}`),
  ];
  return `${lines.join('\n')}\n`;
}
