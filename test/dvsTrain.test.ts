/**
 * Training on event frames end to end: a generated CIFAR10-DVS-style folder (AEDAT files) is
 * integrated into frames, a Spiking ResNet reads one frame per time step, and the run folder
 * records the split.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, runCli, tempDir } from './helpers.js';
import { writeDvsFolder } from './dvsKit.js';

const root = join(tempDir('dvs-train'), 'cifar10-dvs');
writeDvsFolder(root, 10);
const runs = tempDir('dvs-runs');
const sets = [
  'data.dataset=cifar10-dvs',
  `data.root=${root}`,
  'data.dvs.frames=3',
  'data.dvs.size=16',
  'data.augment=[flip, roll]',
  'data.cropPadding=2',
  'model.timesteps=3',
  'model.encoding=frames',
  'data.batchSize=16',
  'train.epochs=2',
].flatMap((s) => ['--set', s]);

test('a Spiking ResNet trains on integrated event frames and records the split', () => {
  const r = runCli(['train', '--config', fixture('synthetic.yaml'), '--runs-dir', runs, '--json', ...sets]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { run: string; status: string; finalAccuracy: number };
  assert.equal(out.status, 'completed');
  const meta = JSON.parse(readFileSync(join(out.run, 'meta.json'), 'utf8')) as { data: { train: number; test: number; split: { hash: string; mode: string } } };
  assert.equal(meta.data.train + meta.data.test, 100);
  assert.equal(meta.data.split.mode, 'seeded');
  assert.match(meta.data.split.hash, /^[0-9a-f]{64}$/);
  const e = runCli(['eval', out.run, '--checkpoint', 'last', '--json']);
  assert.equal(e.code, 0, e.stderr);
  assert.equal((JSON.parse(e.stdout) as { count: number }).count, meta.data.test);
});

test('event data need frames encoding and T equal to the frame count', () => {
  const bad = (extra: string[], re: RegExp): void => {
    const r = runCli(['train', '--config', fixture('synthetic.yaml'), '--runs-dir', runs, ...sets, ...extra]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr.trim(), re);
  };
  bad(['--set', 'model.encoding=direct'], /model\.encoding: cifar10-dvs gives event frames; set model\.encoding: frames/);
  bad(['--set', 'model.timesteps=4'], /model\.timesteps: must equal data\.dvs\.frames \(3\), got 4/);
});
