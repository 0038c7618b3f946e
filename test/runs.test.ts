/**
 * `snn runs list|compare|show|plots` on run folders written by hand (no training): varied keys
 * from the config diff, the summary columns (bits, size, energy when present), sorting, the
 * CSV and JSON forms, and SVG plots drawn by vega.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildRows, columns, energyOf, sortRows, toCsv, variedKeys } from '../src/reports/compare.js';
import { writeRunPlots } from '../src/reports/plots.js';
import { runCli, tempDir } from './helpers.js';

const runsDir = tempDir('runs');

function makeRun(name: string, cfg: Record<string, unknown>, summary: Record<string, unknown>, epochs: number): string {
  const dir = join(runsDir, `${name}-20260101-120000-abcdef`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.yaml'), stringify({ name, seed: 1, ...cfg }));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ name, epochs, epochsDone: epochs, backend: 'wasm', ...summary }));
  const rows = Array.from({ length: epochs }, (_, i) =>
    [i + 1, 8 * (i + 1), 0.01, 1.3 - 0.2 * i, 0.4 + 0.1 * i, 1.4 - 0.2 * i, 0.3 + 0.1 * i, 0.02 + 0.01 * i, 500, 0.5].join(','),
  );
  writeFileSync(
    join(dir, 'metrics.csv'),
    ['epoch,step,lr,train_loss,train_acc,test_loss,test_acc,firing_rate,train_img_per_s,epoch_seconds', ...rows].join('\n') + '\n',
  );
  return dir;
}

const a = makeRun('alpha', { model: { timesteps: 2, preset: 'tiny' } }, { status: 'completed', bestAccuracy: 0.9, finalAccuracy: 0.88, parameters: 5828, meanFiringRate: 0.05, trainSeconds: 75, firingRates: { 'stem.sn': 0.04, 'stage1.block0.sn1': 0.06 } }, 4);
const b = makeRun('beta', { model: { timesteps: 4, preset: 'tiny' }, quant: { bits: 2 } }, { status: 'interrupted', bestAccuracy: 0.95, finalAccuracy: 0.95, parameters: 5828, modelSizeBits: 11656, meanFiringRate: 0.07, trainSeconds: 30, energy: { sop: 123456, pJ: 2.5e6 } }, 2);

test('rows carry the varied config keys and the summary figures', () => {
  const { rows, keys } = buildRows([{ dir: a, name: 'alpha' }, { dir: b, name: 'beta' }]);
  assert.deepEqual(keys, ['model.timesteps', 'quant.bits']);
  assert.deepEqual(rows.map((r) => [r.varied['model.timesteps'], r.bits, r.modelSizeBits, r.sop, r.energyPJ]), [
    [2, 32, null, null, null],
    [4, 2, 11656, 123456, 2.5e6],
  ]);
  const cols = columns(keys, 'compare');
  assert.deepEqual(sortRows(rows, cols, '-best_acc').map((r) => r.status), ['interrupted', 'completed']);
  assert.deepEqual(sortRows(rows, cols, 'timesteps:desc').map((r) => r.bits), [2, 32]);
  assert.throws(() => sortRows(rows, cols, 'nope'), /no column 'nope'/);
  const csv = toCsv(rows, cols).split('\n');
  assert.equal(csv[0], 'run,status,model.timesteps,quant.bits,best_acc,final_acc,bits,params,size,firing_rate,sop,energy_pj,epochs,wall,backend');
  assert.match(csv[2], /^beta-20260101-120000-abcdef,interrupted,4,2,0\.95,0\.95,2,5828,11656,0\.07,123456,2500000,2,30,wasm$/);
  assert.deepEqual(variedKeys([{ x: 1, name: 'p' }, { x: 1, name: 'q' }]), []);
  assert.deepEqual(energyOf({ energy: 42 }), { sop: null, pJ: 42 });
});

test('snn runs list/compare/show as a user runs them', () => {
  const list = runCli(['runs', 'list', '--runs-dir', runsDir]);
  assert.equal(list.code, 0, list.stderr);
  const lines = list.stdout.trim().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^run\s+status\s+model\.timesteps\s+quant\.bits\s+best_acc\s+final_acc\s+epochs\s+wall\s+backend$/);
  assert.match(lines[1], /alpha-\S+\s+completed\s+2\s+90\.00\s+88\.00\s+4\/4\s+1m15s\s+wasm/);
  const cmp = runCli(['runs', 'compare', a, b, '--sort', '-best_acc']);
  assert.equal(cmp.code, 0, cmp.stderr);
  assert.match(cmp.stdout.split('\n')[1], /^beta-.*1\.4 KiB.*123\.5k\s+2\.50 µJ/);
  const json = runCli(['runs', 'compare', '--runs-dir', runsDir, '--json']);
  assert.equal((JSON.parse(json.stdout) as unknown[]).length, 2);
  const show = runCli(['runs', 'show', a]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /accuracy\s+best 90\.00%, final 88\.00%/);
  assert.match(show.stdout, /model\.timesteps = 2/);
  assert.match(show.stdout, /stage1\.block0\.sn1\s+0\.0600/);
  const bad = runCli(['runs', 'show', 'no-such-run', '--runs-dir', runsDir]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /run not found: no-such-run/);
  const badSort = runCli(['runs', 'list', '--runs-dir', runsDir, '--sort', 'colour']);
  assert.equal(badSort.code, 2);
  assert.match(badSort.stderr, /--sort colour: no column 'colour'/);
});

test('run plots are SVG drawn from metrics.csv and summary.json', async () => {
  const files = await writeRunPlots(a);
  assert.deepEqual(files.map((f) => f.slice(a.length + 1)), ['loss.svg', 'accuracy.svg', 'firing-rate.svg']);
  for (const f of files) {
    const svg = readFileSync(f, 'utf8');
    assert.match(svg, /^<svg[^>]+xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<path/);
  }
  assert.match(readFileSync(join(a, 'firing-rate.svg'), 'utf8'), /stage1\.block0\.sn1/);
  assert.match(readFileSync(join(a, 'accuracy.svg'), 'utf8'), /accuracy \(%\)/);
  const r = runCli(['runs', 'plots', b, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(b, 'loss.svg')));
});
