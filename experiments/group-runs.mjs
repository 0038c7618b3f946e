#!/usr/bin/env node
// Groups the completed runs of `snn runs compare --json` (on stdin) over seeds by the config keys
// named on the command line, and prints a Markdown table: runs, best and final test accuracy
// (mean ± sample std), the best accuracy per seed, and the means of model size, firing rate and
// energy, and how much the last epoch still added (test accuracy of the last epoch minus the one
// before, from each run's metrics.csv: near zero when the runs have converged at this budget). Unlike `snn runs aggregate` it leaves out runs not completed yet (a partial sweep) and
// groups by the given keys alone (not every key that differs between runs).
//
//   snn runs compare SWEEP... --json | node experiments/group-runs.mjs loss.mode quant.bits
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const keys = process.argv.slice(2);
if (keys.length === 0) {
  console.error('group-runs: name the config keys to group by');
  process.exit(2);
}
const rows = JSON.parse(readFileSync(0, 'utf8')).filter((r) => r.status === 'completed');
const groups = new Map();
for (const r of rows) {
  const id = JSON.stringify(keys.map((k) => r[k] ?? null));
  groups.set(id, [...(groups.get(id) ?? []), r]);
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const pm = (xs) => {
  const m = mean(xs);
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  return `${(100 * m).toFixed(2)} ± ${(100 * sd).toFixed(2)}`;
};
const num = (xs, f) => {
  const v = xs.filter((x) => typeof x === 'number');
  return v.length ? f(mean(v)) : '';
};
/** Test accuracy of the last evaluated epoch minus the one before (null with fewer than two). */
const lastGain = (dir) => {
  const [header, ...lines] = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
  const col = header.split(',').indexOf('test_acc');
  const accs = lines.map((l) => l.split(',')[col]).filter((v) => v !== '' && v !== undefined).map(Number);
  return accs.length >= 2 ? accs[accs.length - 1] - accs[accs.length - 2] : null;
};
const head = [...keys, 'runs', 'best acc. (%)', 'final acc. (%)', 'per seed (best, %)', 'size (KiB)', 'firing rate', 'energy (nJ/img)', 'last-epoch gain (pt)'];
console.log(`| ${head.join(' | ')} |`);
console.log(`|${head.map(() => '---').join('|')}|`);
for (const rs of groups.values()) {
  rs.sort((a, b) => (a.seed ?? 0) - (b.seed ?? 0));
  const cells = [
    ...keys.map((k) => String(rs[0][k] ?? '')),
    rs.length,
    pm(rs.map((r) => r.best_acc)),
    pm(rs.map((r) => r.final_acc)),
    rs.map((r) => (100 * r.best_acc).toFixed(2)).join(', '),
    num(rs.map((r) => r.size), (x) => (x / 8 / 1024).toFixed(1)),
    num(rs.map((r) => r.firing_rate), (x) => x.toFixed(4)),
    num(rs.map((r) => r.energy_pj), (x) => (x / 1000).toFixed(1)),
    num(rs.map((r) => lastGain(r.dir)), (x) => (100 * x).toFixed(2)),
  ];
  console.log(`| ${cells.join(' | ')} |`);
}
