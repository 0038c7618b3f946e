#!/usr/bin/env node
/**
 * Red team, kills: SIGKILL `snn train` at ≥ 30 points, half at the test hooks' exact points
 * (a step, each stage of a checkpoint write) and half after a random delay, then
 * `snn train --resume` to the end; each resumed run must end bit-identical to an uninterrupted
 * one (weights, optimizer state, metrics less timing) with no temporary left.
 *
 *   node experiments/red-team-kills.mjs [--kills 30] [--seed 1] > /tmp/kills.json
 *
 * Prints a JSON report on stdout; experiments/red-team.mjs turns it into docs/red-team.md.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const SNN = join(repo, 'bin', 'snn');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const KILLS = arg('--kills', 30);
let seed = arg('--seed', 1);
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

const work = mkdtempSync(join(tmpdir(), 'snn-redteam-kills-'));
const cfg = join(work, 'tiny.yaml');
// 64 images in batches of 16: 4 steps per epoch, 3 epochs, 12 steps.
writeFileSync(
  cfg,
  `name: kill\nseed: 7\nbackend: wasm\ndata:\n  dataset: synthetic\n  batchSize: 16\n  testBatchSize: 64\n  synthetic: { classes: 4, train: 64, test: 32, height: 8, width: 8, channels: 1, noise: 0.25 }\nmodel:\n  preset: tiny\n  widths: [4, 8]\n  timesteps: 2\ntrain:\n  epochs: 3\n  optimizer: { name: adam, lr: 0.01, weightDecay: 0 }\n`,
);

function run(args, env = {}, killWhen = null) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SNN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timer = null;
    child.stderr.on('data', (d) => {
      stderr += d;
      if (killWhen?.marker && killWhen.afterMs === undefined && killWhen.marker.test(stderr)) child.kill('SIGKILL');
    });
    if (killWhen?.afterMs !== undefined) {
      const wait = setInterval(() => {
        if (killWhen.marker.test(stderr)) {
          clearInterval(wait);
          timer = setTimeout(() => child.kill('SIGKILL'), killWhen.afterMs);
        }
      }, 5);
      child.on('close', () => clearInterval(wait));
    }
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

const only = (runs) => join(runs, readdirSync(runs)[0]);
const file = (r, f) => readFileSync(join(r, 'checkpoints', 'last', f));
const metrics = (r) =>
  readFileSync(join(r, 'metrics.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(',').filter((_, i, a) => !/img_per_s|seconds/.test(readFileSync(join(r, 'metrics.csv'), 'utf8').split('\n')[0].split(',')[i])).join(','))
    .join('\n');

const refRuns = join(work, 'ref');
const ref = await run(['train', '--config', cfg, '--runs-dir', refRuns, '--quiet']);
if (ref.code !== 0) throw new Error(`reference run failed: ${ref.stderr}`);
const refRun = only(refRuns);

const PAUSE = 600000;
const hookPoints = [];
for (let s = 1; s <= 12; s += 2) hookPoints.push({ label: `step ${s}`, env: { SNN_TEST_PAUSE_AT_STEP: `${s}:${PAUSE}` }, marker: new RegExp(`snn-test: step ${s} `) });
for (const e of ['0001', '0002', '0003']) {
  for (const stage of ['wrote weights.bin', 'wrote state.json', 'wrote checksums.json', 'renamed', 'prev']) {
    if (e === '0001' && stage === 'prev') continue; // no prev before the first checkpoint
    hookPoints.push({ label: `epoch-${e} ${stage}`, env: { SNN_TEST_PAUSE_IN_CHECKPOINT: `${PAUSE}@epoch-${e} ${stage}` }, marker: new RegExp(`snn-test: checkpoint epoch-${e} ${stage}`) });
  }
}
const kills = [];
for (let i = 0; i < KILLS; i++) {
  if (i % 2 === 0 && hookPoints.length > 0) kills.push({ kind: 'hook', ...hookPoints.splice(Math.floor(rand() * hookPoints.length), 1)[0] });
  // Random: a random delay after the first step is announced (start-up time varies too much to count from launch).
  else kills.push({ kind: 'random', label: '', env: { SNN_TEST_PAUSE_AT_STEP: '1:1' }, marker: /snn-test: step 1 /, afterMs: Math.floor(rand() * 5000) });
}

const results = [];
let next = 0;
async function worker() {
  while (next < kills.length) {
    const k = kills[next++];
    const runs = join(work, `k${results.length}-${Math.floor(rand() * 1e9)}`);
    const first = await run(['train', '--config', cfg, '--runs-dir', runs, '--quiet'], k.env, k.kind === 'hook' ? { marker: k.marker } : { marker: k.marker, afterMs: k.afterMs });
    const label = k.kind === 'hook' ? k.label : `${k.afterMs} ms after step 1`;
    const out = { kind: k.kind, label, killed: first.signal === 'SIGKILL', resumed: null, identical: false, leftovers: [] };
    if (existsSync(runs) && readdirSync(runs).length > 0) {
      const r = only(runs);
      const again = await run(['train', '--resume', r, '--quiet']);
      out.resumed = again.code;
      out.stderr = again.stderr.trim().split('\n').filter(Boolean).slice(0, 2);
      if (again.code === 0) {
        out.identical =
          file(r, 'weights.bin').equals(file(refRun, 'weights.bin')) &&
          file(r, 'optimizer.bin').equals(file(refRun, 'optimizer.bin')) &&
          metrics(r) === metrics(refRun);
        out.leftovers = readdirSync(join(r, 'checkpoints')).filter((n) => n.startsWith('.'));
      }
    } else {
      out.note = 'killed before the run folder existed; nothing to resume';
      out.identical = null;
    }
    results.push(out);
    process.stderr.write(`${results.length}/${kills.length} ${label}: killed ${out.killed}, resume exit ${out.resumed}, identical ${out.identical}\n`);
  }
}
await Promise.all([worker(), worker()]);
process.stdout.write(`${JSON.stringify({ kills: results, command: `node experiments/red-team-kills.mjs --kills ${KILLS}` }, null, 1)}\n`);
