/**
 * The native LIF forward's cost against the firing rate: `node dist/bench/lifFiring.js
 * [--addons A.node,B.node]` (default: this checkout's native/build/snn_onednn.node). Times
 * lifForward on one thread, CPU time per call, on `tiny`'s largest neuron layer (T = 4, batch 64,
 * 28×28×16) fed standard-normal input (what a BatchNorm hands it), at V_th 1 (the default before
 * 2026-12-01) and 0.5 (after), and prints a Markdown table. A loop with a branch per neuron costs
 * more as more neurons fire (random spikes mispredict it); a branch-free one does not.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { NativeAddon } from '../src/backends/wasm-native/native.js';
import { packageRoot } from '../src/util/paths.js';
import { createRng } from '../src/util/rng.js';
import { flag } from './flags.js';

const T = 4;
const m = 64 * 28 * 28 * 16;
const TAU = 2;

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Median CPU ms per call over 5 batches of `calls`. */
function time(run: () => void, calls = 20): number {
  run();
  const per: number[] = [];
  for (let b = 0; b < 5; b++) {
    const c0 = cpuMs();
    for (let i = 0; i < calls; i++) run();
    per.push((cpuMs() - c0) / calls);
  }
  return per.sort((a, c) => a - c)[2];
}

const files = flag('addons', join(packageRoot(), 'native', 'build', 'snn_onednn.node')).split(',');
const rng = createRng(1);
const x = Float32Array.from({ length: T * m }, () => rng.normal());
const s = new Float32Array(T * m);
const h = new Float32Array(T * m);
const require = createRequire(import.meta.url);

console.log(`lifForward, 1 thread, T = ${T}, m = ${m.toLocaleString('en')} neurons (tiny's stem at batch 64), x ~ N(0, 1), τ = ${TAU}, hard reset; CPU ms per call, median of 5 batches of 20 calls.\n`);
console.log('| addon | V_th | firing rate | ms per call |');
console.log('| --- | --- | --- | --- |');
for (const file of files) {
  const addon = require(file) as NativeAddon;
  addon.setThreads(1);
  for (const vth of [1, 0.5]) {
    let count = 0;
    const ms = time(() => {
      count = addon.lifForward(x, s, h, T, m, true, true, true, 1 / TAU, vth, 0);
    });
    console.log(`| ${file} | ${vth} | ${((100 * count) / (T * m)).toFixed(1)} % | ${ms.toFixed(2)} |`);
  }
}
