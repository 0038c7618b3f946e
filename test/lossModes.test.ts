/**
 * The three loss modes end to end on synthetic data: a ReLU teacher, a KD student, and a
 * ternary TNA run whose twin is saved beside it and resumed with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMetrics } from '../src/runs/metrics.js';
import { fixture, runCli, tempDir } from './helpers.js';

const runs = tempDir('loss');
const train = (...sets: string[]) => {
  const r = runCli(['train', '--config', fixture('synthetic.yaml'), '--runs-dir', runs, '--json', ...sets.flatMap((s) => ['--set', s])]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { run: string; bestAccuracy: number; status: string };
};

test('KD from a ReLU teacher run; the teacher checkpoint is left as it was', () => {
  const teacher = train('name=teacher', 'model.neuron.type=relu', 'train.epochs=3');
  const weights = join(teacher.run, 'checkpoints', 'best', 'weights.bin');
  const before = readFileSync(weights);
  const kd = train('name=kd', 'loss.mode=kd', `loss.kd.teacher=${teacher.run}`, 'loss.kd.kind=kl', 'train.epochs=2');
  assert.equal(kd.status, 'completed');
  assert.ok(readFileSync(weights).equals(before));
  const rows = readMetrics(join(kd.run, 'metrics.csv'));
  assert.ok(Number.isFinite(Number(rows[0].loss_ce)) && Number.isFinite(Number(rows[0].loss_match)));
  const summary = JSON.parse(readFileSync(join(kd.run, 'summary.json'), 'utf8')) as { lossMode: string; energy: { sop: number; pJ: number } };
  assert.equal(summary.lossMode, 'kd');
  assert.ok(summary.energy.sop > 0 && summary.energy.pJ > 0);
});

test('KD with a missing teacher is a one-line error naming loss.kd.teacher', () => {
  const r = runCli(['train', '--config', fixture('synthetic.yaml'), '--runs-dir', runs, '--set', 'loss.mode=kd', '--set', 'loss.kd.teacher=no-such-run']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr.trim(), /^snn: loss\.kd\.teacher: run not found: no-such-run/);
});

test('ternary TNA: loss terms and twin accuracy in metrics, twin saved beside the SNN, resume continues both', () => {
  const tna = train('name=tna', 'loss.mode=tna', 'quant.bits=2', 'loss.tna.lambda=0.01', 'train.epochs=2');
  const rows = readMetrics(join(tna.run, 'metrics.csv'));
  for (const col of ['loss_ce', 'loss_twin_ce', 'loss_match', 'twin_train_acc', 'twin_test_acc']) {
    assert.ok(Number.isFinite(Number(rows[1][col])), `${col} = ${rows[1][col]}`);
  }
  const last = join(tna.run, 'checkpoints', 'last');
  assert.ok(existsSync(join(last, 'twin.bin')));
  const summary = JSON.parse(readFileSync(join(tna.run, 'summary.json'), 'utf8')) as {
    bits: number;
    modelSizeBits: number;
    floatSizeBits: number;
    quantLayers: { key: string; bits: number; sparsity: number; scale: number }[];
  };
  assert.equal(summary.bits, 2);
  assert.ok(summary.quantLayers.length >= 3);
  assert.ok(!summary.quantLayers.some((l) => l.key.startsWith('stem') || l.key.startsWith('head')), 'first/last stay float');
  for (const l of summary.quantLayers) assert.ok(l.sparsity > 0 && l.sparsity < 1 && l.scale > 0, JSON.stringify(l));
  assert.ok(summary.modelSizeBits < summary.floatSizeBits / 2);
  // Eval reads only the SNN (with its ternary weights) and matches the run's own last test accuracy.
  const e = runCli(['eval', tna.run, '--checkpoint', 'last', '--json']);
  assert.equal(e.code, 0, e.stderr);
  assert.ok(Math.abs((JSON.parse(e.stdout) as { accuracy: number }).accuracy - Number(rows[1].test_acc)) < 1e-9);
  const r = runCli(['train', '--resume', tna.run, '--runs-dir', runs, '--set', 'train.epochs=3', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readMetrics(join(tna.run, 'metrics.csv')).length, 3);
});

test('bad loss/quant input: no teacher, a teacher of another shape, bits outside {1,2,4,8,32}', () => {
  const bad = (sets: string[], re: RegExp): void => {
    const r = runCli(['train', '--config', fixture('synthetic.yaml'), '--runs-dir', runs, ...sets.flatMap((s) => ['--set', s])]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], re);
  };
  bad(['loss.mode=kd'], /loss\.kd\.teacher: loss\.mode kd needs a teacher/);
  const teacher = train('name=wide', 'data.synthetic.classes=5', 'train.epochs=1');
  bad(['loss.mode=kd', `loss.kd.teacher=${teacher.run}`], /loss\.kd\.teacher: the teacher was trained on 12×12×1 images, 5 classes; this run has 12×12×1 images, 4 classes/);
  bad(['quant.bits=3'], /quant\.bits: must be one of 32, 8, 4, 2, 1/);
  bad(['loss.tna.twin.bits=16'], /loss\.tna\.twin\.bits: must be one of/);
});
