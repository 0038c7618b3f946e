/**
 * End to end on synthetic data: `snn train` writes a complete run folder, `snn eval` reads it,
 * and a run stopped mid-epoch and resumed ends with the same weights and metrics as an
 * uninterrupted run with the same seed, bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadConfig } from '../src/config/load.js';
import { initBackend } from '../src/engine/backend.js';
import { runTraining } from '../src/train/session.js';
import { readMetrics } from '../src/runs/metrics.js';
import { verifyCheckpoint } from '../src/runs/checkpoint.js';
import { fixture, runCli, tempDir } from './helpers.js';

test('snn train writes a complete run folder and snn eval reproduces its test accuracy', () => {
  const runs = tempDir('e2e');
  const r = runCli(['train', '--config', fixture('synthetic.yaml'), '--runs-dir', runs, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { run: string; status: string; backend: string; finalAccuracy: number; bestAccuracy: number };
  assert.equal(summary.status, 'completed');
  assert.equal(summary.backend, 'wasm');
  for (const f of ['config.yaml', 'meta.json', 'metrics.csv', 'log.jsonl', 'summary.json']) {
    assert.ok(existsSync(join(summary.run, f)), `missing ${f}`);
  }
  const rows = readMetrics(join(summary.run, 'metrics.csv'));
  assert.equal(rows.length, 4);
  assert.ok(Number(rows[3].train_loss) < Number(rows[0].train_loss), 'training loss should fall');
  const meta = JSON.parse(readFileSync(join(summary.run, 'meta.json'), 'utf8')) as { backend: { name: string }; seed: number };
  assert.equal(meta.backend.name, 'wasm');
  assert.equal(meta.seed, 3);
  const firstLog = JSON.parse(readFileSync(join(summary.run, 'log.jsonl'), 'utf8').split('\n')[0]) as { msg: string };
  assert.match(firstLog.msg, /backend wasm/);
  const last = join(summary.run, 'checkpoints', 'last');
  assert.equal(readlinkSync(last), 'epoch-0004');
  verifyCheckpoint(last);
  assert.ok(summary.finalAccuracy > 0.5, `synthetic data should be learnable, got ${summary.finalAccuracy}`);

  const e = runCli(['eval', summary.run, '--checkpoint', 'last', '--json']);
  assert.equal(e.code, 0, e.stderr);
  const ev = JSON.parse(e.stdout) as { accuracy: number; firingRates: Record<string, number>; count: number };
  assert.equal(ev.count, 64);
  assert.ok(Math.abs(ev.accuracy - Number(rows[3].test_acc)) < 1e-9, `${ev.accuracy} vs ${rows[3].test_acc}`);
  assert.ok(Object.keys(ev.firingRates).length >= 5);
  for (const v of Object.values(ev.firingRates)) assert.ok(v >= 0 && v <= 1);

  const e3 = runCli(['eval', summary.run, '--timesteps', '3', '--json']);
  assert.equal(e3.code, 0, e3.stderr);
  assert.equal((JSON.parse(e3.stdout) as { timesteps: number }).timesteps, 3);
});

test('a run stopped mid-epoch and resumed ends bit-identical to an uninterrupted run', async () => {
  const runs = tempDir('resume');
  const cfg = loadConfig(fixture('synthetic.yaml'), ['train.epochs=3', 'data.augment=[crop,flip]', 'data.cropPadding=1']);
  await initBackend('wasm');
  const tensorsBefore = tf.memory().numTensors;
  const full = await runTraining({ config: cfg, runsDir: runs, commandLine: ['test'] });
  assert.equal(full.status, 'completed');
  assert.equal(tf.memory().numTensors, tensorsBefore, 'training left tensors behind');

  let steps = 0;
  const part = await runTraining({ config: { ...cfg, name: 'part' }, runsDir: runs, commandLine: ['test'], shouldStop: () => ++steps >= 11 });
  assert.equal(part.status, 'interrupted');
  assert.equal(part.state.epoch, 1, 'stopped in the second epoch');
  const summaryMid = JSON.parse(readFileSync(part.paths.summary, 'utf8')) as { status: string };
  assert.equal(summaryMid.status, 'interrupted');
  const resumed = await runTraining({ resume: part.paths.dir, runsDir: runs, commandLine: ['test'] });
  assert.equal(resumed.status, 'completed');
  assert.equal(tf.memory().numTensors, tensorsBefore, 'a resumed run left tensors behind');
  assert.equal(resumed.paths.dir, part.paths.dir);
  assert.equal(resumed.state.step, full.state.step);

  const bin = (dir: string): Buffer => readFileSync(join(dir, 'checkpoints', 'last', 'weights.bin'));
  assert.ok(bin(full.paths.dir).equals(bin(part.paths.dir)), 'final weights differ');
  const opt = (dir: string): Buffer => readFileSync(join(dir, 'checkpoints', 'last', 'optimizer.bin'));
  assert.ok(opt(full.paths.dir).equals(opt(part.paths.dir)), 'optimizer state differs');
  const strip = (rows: ReturnType<typeof readMetrics>) => rows.map(({ epoch, step, lr, train_loss, train_acc, test_loss, test_acc, firing_rate }) => ({ epoch, step, lr, train_loss, train_acc, test_loss, test_acc, firing_rate }));
  assert.deepEqual(strip(readMetrics(part.paths.metrics)), strip(readMetrics(full.paths.metrics)));
});
