/**
 * Where a second thread starts to pay, kernel by kernel: `node dist/bench/threads.js [--threads 2]`.
 * Times each native kernel (convolutions of the presets' layer shapes at several N = T × batch,
 * LIF and BatchNorm at several sizes) on one thread and on `--threads`, in this process, and
 * prints the speed-up against the kernel's work (multiply-adds for convolutions, elements for
 * the rest). The crossovers it finds are the defaults of native/snn_onednn.cc's ThreadPolicy;
 * the table goes to bench/results/threads-STAMP.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConvMode, nativeStatus, type NativeAddon } from '../src/backends/wasm-native/native.js';
import { packageRoot } from '../src/util/paths.js';
import { flag } from './flags.js';

interface Row {
  kernel: string;
  shape: string;
  /** Multiply-adds (convolutions) or elements (the rest). */
  work: number;
  unit: 'MAC' | 'elements';
  ms1: number;
  msN: number;
}

/** Median milliseconds per call: batches of calls of at least `minMs`, 5 batches. */
function time(run: () => void, minMs = 40): number {
  run();
  const perCall: number[] = [];
  for (let b = 0; b < 5; b++) {
    let calls = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < minMs) {
      run();
      calls++;
      t = performance.now();
    }
    perCall.push((t - t0) / calls);
  }
  perCall.sort((a, c) => a - c);
  return perCall[2];
}

function filled(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

/** Times `run` with every kernel on one thread, then with `threads` (no serial cut-off). */
function pair(addon: NativeAddon, threads: number, run: () => void): { ms1: number; msN: number } {
  addon.setThreads(1);
  addon.setSerialWork(0, 0);
  const ms1 = time(run);
  addon.setThreads(threads);
  const msN = time(run);
  return { ms1, msN };
}

function convRows(addon: NativeAddon, threads: number): Row[] {
  // [h, w, in, out] of the 3×3 stride-1 convolutions of tiny, the reference CNN and resnet19.
  const layers: [number, number, number, number][] = [
    [28, 28, 1, 16], [14, 14, 16, 32], [7, 7, 32, 32], [32, 32, 3, 32], [16, 16, 32, 64], [32, 32, 128, 128], [8, 8, 512, 512],
  ];
  const rows: Row[] = [];
  for (const [h, w, ci, co] of layers) {
    for (const n of [8, 32, 128]) {
      const x = filled(n * h * w * ci, 1), f = filled(9 * ci * co, 2), y = filled(n * h * w * co, 3);
      const macs = n * h * w * ci * co * 9;
      if (macs > 3e9) continue;
      const geom = [n, h, w, ci, h, w, co, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1];
      const runs: [string, () => void][] = [
        ['conv forward', () => addon.conv2d(ConvMode.Forward, x, f, y, ...geom)],
        ['conv backward data', () => addon.conv2d(ConvMode.BackwardData, y, f, x, ...geom)],
        ['conv backward weights', () => addon.conv2d(ConvMode.BackwardWeights, x, y, f, ...geom)],
      ];
      for (const [kernel, run] of runs) rows.push({ kernel, shape: `${n}×${h}×${w}×${ci}→${co}`, work: macs, unit: 'MAC', ...pair(addon, threads, run) });
    }
  }
  return rows;
}

function elementRows(addon: NativeAddon, threads: number): Row[] {
  const rows: Row[] = [];
  const T = 4;
  for (const total of [4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304]) {
    const m = total / T;
    const x = filled(total, 4), s = new Float32Array(total), h = new Float32Array(total), g = filled(total, 5), gx = new Float32Array(total);
    rows.push({ kernel: 'LIF forward', shape: `T=${T}, m=${m}`, work: total, unit: 'elements', ...pair(addon, threads, () => addon.lifForward(x, s, h, T, m, true, true, true, 0.5, 1, 0)) });
    addon.lifForward(x, s, h, T, m, true, true, true, 0.5, 1, 0);
    rows.push({
      kernel: 'LIF backward', shape: `T=${T}, m=${m}`, work: total, unit: 'elements',
      ...pair(addon, threads, () => addon.lifBackward(g, h, null, null, gx, T, m, true, true, true, 0.5, 1, 0, 0, 4)),
    });
    const C = 32, M = total / C;
    const gamma = filled(C, 6), beta = filled(C, 7), mean = new Float32Array(C), variance = new Float32Array(C);
    const dg = new Float32Array(C), db = new Float32Array(C);
    rows.push({ kernel: 'BN forward', shape: `M=${M}, C=${C}`, work: total, unit: 'elements', ...pair(addon, threads, () => addon.bnForward(x, gamma, beta, h, mean, variance, M, C, 1e-5)) });
    rows.push({
      kernel: 'BN backward', shape: `M=${M}, C=${C}`, work: total, unit: 'elements',
      ...pair(addon, threads, () => addon.bnBackward(x, g, gamma, mean, variance, gx, dg, db, M, C, 1e-5)),
    });
  }
  return rows;
}

/** The smallest work from which every larger row of `rows` is faster on more threads. */
function crossover(rows: Row[]): number | null {
  const sorted = [...rows].sort((a, b) => a.work - b.work);
  for (let i = 0; i < sorted.length; i++) {
    if (sorted.slice(i).every((r) => r.msN < r.ms1)) return sorted[i].work;
  }
  return null;
}

const status = nativeStatus();
if (status.addon === null) {
  process.stderr.write(`bench/threads: native kernels not available (${status.why})\n`);
  process.exit(2);
}
const addon = status.addon;
const threads = Number(flag('threads', String(status.threads)));
const defaults = addon.info();
const rows = [...convRows(addon, threads), ...elementRows(addon, threads)];
addon.setThreads(status.threads);
addon.setSerialWork(defaults.serialMacs, defaults.serialElems);

const convX = crossover(rows.filter((r) => r.unit === 'MAC'));
const elemX = crossover(rows.filter((r) => r.unit === 'elements'));
const lines = [
  `# Native kernels: 1 thread against ${threads}`,
  '',
  `\`node dist/bench/threads.js --threads ${threads}\`, ${new Date().toISOString()}; oneDNN ${defaults.onednn}, ${defaults.isa}.`,
  `Median ms per call (5 batches of ≥ 40 ms). Speed-up = ms on 1 thread ÷ ms on ${threads}.`,
  '',
  `| kernel | shape | work | ms (1 thr) | ms (${threads} thr) | speed-up |`,
  '| --- | --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.kernel} | ${r.shape} | ${r.work.toExponential(2)} ${r.unit} | ${r.ms1.toFixed(3)} | ${r.msN.toFixed(3)} | ${(r.ms1 / r.msN).toFixed(2)} |`),
  '',
  `Every convolution from ${convX === null ? '(none)' : convX.toExponential(2)} multiply-adds up, and every LIF/BN call from ` +
    `${elemX === null ? '(none)' : elemX.toExponential(2)} elements up, ran faster on ${threads} threads. ` +
    `Current serial cut-offs: ${defaults.serialMacs.toExponential(2)} MAC, ${defaults.serialElems.toExponential(2)} elements.`,
];
const dir = join(packageRoot(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
writeFileSync(join(dir, `threads-${stamp}.json`), JSON.stringify({ threads, onednn: defaults.onednn, isa: defaults.isa, rows, crossover: { macs: convX, elements: elemX } }, null, 2) + '\n');
writeFileSync(join(dir, `threads-${stamp}.md`), lines.join('\n') + '\n');
process.stdout.write(lines.join('\n') + '\n');
