/**
 * `snn sweep` without training: grid parsing and expansion, bad input (exit 2, one line, no
 * folder made and no run started), `--emit commands` and the Slurm script text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expandGrid, parseGridArg, pointRunName, seedAxis, splitValues } from '../src/sweep/grid.js';
import { arraySpec, slurmScript } from '../src/sweep/slurm.js';
import { shellQuote } from '../src/sweep/commands.js';
import type { SweepManifest } from '../src/sweep/manifest.js';
import { fixture, runCli, tempDir } from './helpers.js';

test('grid values split at top-level commas; the product varies the last axis fastest', () => {
  assert.deepEqual(splitValues('1, 2,3'), ['1', '2', '3']);
  assert.deepEqual(splitValues('[crop,flip],[],[crop]'), ['[crop,flip]', '[]', '[crop]']);
  assert.deepEqual(splitValues('{name: sgd, lr: 0.1},{name: adam}'), ['{name: sgd, lr: 0.1}', '{name: adam}']);
  const axes = [parseGridArg('model.timesteps=1,2'), parseGridArg('loss.mode=plain,tna'), seedAxis('7,8')];
  const pts = expandGrid(axes);
  assert.equal(pts.length, 8);
  assert.deepEqual(pts[0].overrides, [['model.timesteps', '1'], ['loss.mode', 'plain'], ['seed', '7']]);
  assert.deepEqual(pts[1].overrides, [['model.timesteps', '1'], ['loss.mode', 'plain'], ['seed', '8']]);
  assert.deepEqual(pts[7].overrides, [['model.timesteps', '2'], ['loss.mode', 'tna'], ['seed', '8']]);
  assert.equal(pointRunName('cifar', pts[5], pts.length), 'cifar-005-timesteps2-modeplain-seed8');
  assert.equal(pointRunName('x', { index: 0, overrides: [['data.augment', '[crop,flip]']] }, 1), 'x-000-augmentcrop-flip');
  assert.throws(() => parseGridArg('model.timesteps='), /empty grid/);
  assert.throws(() => parseGridArg('model.timesteps=1,,2'), /empty value/);
  assert.throws(() => parseGridArg('model.timesteps=1,1'), /given twice/);
  assert.throws(() => seedAxis('1,x'), /--seeds/);
});

test('slurm array spec and script', () => {
  assert.equal(arraySpec([0, 1, 2, 5, 7, 8]), '0-2,5,7-8');
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  const m = { name: 'demo', cwd: '/work', runs: [{}, {}, {}] } as unknown as SweepManifest;
  const s = slurmScript('/work/runs/sweeps/demo', m, [0, 2], { partition: 'gpu', time: '1:00:00', cpus: 4, mem: '8G', throttle: 2 });
  for (const line of ['#SBATCH --array=0,2%2', '#SBATCH --partition=gpu', '#SBATCH --time=1:00:00', '#SBATCH --cpus-per-task=4', '#SBATCH --mem=8G', '#SBATCH --chdir=/work']) {
    assert.ok(s.includes(`${line}\n`), `missing ${line}:\n${s}`);
  }
  assert.match(s, /--task-command "\$SLURM_ARRAY_TASK_ID"/);
});

const work = tempDir('sweep-input');
const runs = join(work, 'runs');
const base = ['sweep', '--config', fixture('synthetic.yaml'), '--runs-dir', runs];

const bad: { label: string; args: string[]; expect: RegExp }[] = [
  { label: 'a grid key not in the schema', args: ['--grid', 'model.timestep=1,2'], expect: /--grid model\.timestep=1: unknown key 'model\.timestep'/ },
  { label: 'a value of the wrong type', args: ['--grid', 'model.timesteps=2,four'], expect: /--grid model\.timesteps=four: model\.timesteps: expected number/ },
  { label: 'an empty grid value list', args: ['--grid', 'model.timesteps='], expect: /--grid model\.timesteps: empty grid/ },
  { label: 'no grid at all', args: [], expect: /empty grid/ },
  { label: '--jobs 0', args: ['--grid', 'model.timesteps=1,2', '--jobs', '0'], expect: /--jobs: expected a positive integer, got '0'/ },
  { label: 'a bad --emit', args: ['--grid', 'model.timesteps=1,2', '--emit', 'pbs'], expect: /--emit: 'pbs' is not one of commands, slurm/ },
  { label: 'a bad Slurm time', args: ['--grid', 'model.timesteps=1,2', '--emit', 'slurm', '--time', 'soon'], expect: /--time soon/ },
  { label: '--submit without --emit slurm', args: ['--grid', 'model.timesteps=1,2', '--submit'], expect: /--submit goes with --emit slurm/ },
];

for (const c of bad) {
  test(`sweep with ${c.label}: exit 2, one line, nothing created`, () => {
    const r = runCli([...base, ...c.args]);
    assert.equal(r.code, 2, `exit ${r.code}; stderr: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
    assert.match(lines[0], c.expect);
    assert.equal(existsSync(runs), false, 'no runs folder, no sweep folder');
  });
}

test('--emit commands prints one snn train line per run and records the plan', () => {
  const r = runCli([...base, '--grid', 'model.timesteps=1,2', '--grid', 'data.augment=[crop,flip],[]', '--seeds', '1,2', '--name', 'emit', '--emit', 'commands']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 8);
  assert.match(lines[0], /^snn train --config \S+\/emit\/base\.yaml --set model\.timesteps=1 --set 'data\.augment=\[crop,flip\]' --set seed=1 --name synth-000-timesteps1-augmentcrop-flip-seed1 --runs-dir \S+\/sweeps\/emit --quiet$/);
  const sweep = join(runs, 'sweeps', 'emit');
  const m = JSON.parse(readFileSync(join(sweep, 'manifest.json'), 'utf8')) as SweepManifest;
  assert.equal(m.runs.length, 8);
  assert.deepEqual(m.runs[3].overrides, { 'model.timesteps': '1', 'data.augment': '[]', seed: '2' });
  assert.deepEqual(readdirSync(sweep).sort(), ['base.yaml', 'logs', 'manifest.json']);
  // The same sweep under the same name with another grid is refused.
  const other = runCli([...base, '--grid', 'model.timesteps=3', '--name', 'emit', '--emit', 'commands']);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /holds a different sweep/);
});
