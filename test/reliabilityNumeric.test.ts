/**
 * Numerical faults: a NaN or infinite loss stops the run with epoch, step and batch named,
 * keeps the last good checkpoint untouched, marks summary.json failed and exits 1; with
 * `train.onNonFinite: skip` the batch's update is skipped and counted (metrics column
 * skipped_steps, summary skippedSteps), and a skipping run still resumes bit for bit.
 *
 * Faults come from a learning rate of 1e38 (a real divergence) or from the test hook
 * SNN_TEST_NONFINITE_AT=epoch:batch (src/util/testHooks.ts), which makes chosen losses NaN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyCheckpoint } from '../src/runs/checkpoint.js';
import { tempDir } from './helpers.js';
import { killAt, lastWeights, linkOf, metricsNoTiming, readSummary, runSnn, writeTinyConfig } from './reliabilityKit.js';

const work = tempDir('nan');
const onlyRun = (runs: string): string => join(runs, readdirSync(runs)[0]);

test('a real divergence (lr 1e38) stops at once: exit 1, one line naming epoch, step and batch', async () => {
  const cfg = writeTinyConfig(join(work, 'diverge.yaml'), { epochs: 2 });
  const runs = join(work, 'runs-diverge');
  const sets = ['--set', 'train.optimizer={name: sgd, lr: 1.0e38, momentum: 0}'];
  const r = await runSnn(['train', '--config', cfg, '--runs-dir', runs, '--quiet', ...sets]);
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^snn: error: loss is (NaN|-?Infinity) at epoch 1, step \d+, batch \d+ of 8; run stopped, no checkpoint had been written yet/);
  const run = onlyRun(runs);
  const summary = readSummary(run);
  assert.equal(summary.status, 'failed');
  assert.match(String(summary.error), /at epoch 1, step \d+, batch \d+ of 8/);
});

test('a divergence after a checkpoint keeps it; --resume then finishes the run as if nothing happened', async () => {
  const cfg = writeTinyConfig(join(work, 'late.yaml'), { epochs: 3 });
  const ref = join(work, 'runs-late-ref');
  assert.equal((await runSnn(['train', '--config', cfg, '--runs-dir', ref, '--quiet'])).code, 0);

  const runs = join(work, 'runs-late');
  const r = await runSnn(['train', '--config', cfg, '--runs-dir', runs, '--quiet'], { SNN_TEST_NONFINITE_AT: '2:5' });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(
    r.stderr,
    /^snn: error: loss is NaN at epoch 2, step 13, batch 5 of 8; run stopped, the previous checkpoint, checkpoints\/last \(epoch-0001\), is intact \(train\.onNonFinite: skip skips such steps\)\n$/,
  );
  const run = onlyRun(runs);
  assert.equal(linkOf(run, 'last'), 'epoch-0001');
  verifyCheckpoint(join(run, 'checkpoints', 'last'));
  assert.equal(readSummary(run).status, 'failed');
  assert.equal(metricsNoTiming(run).length, 2, 'header and epoch 1 only');

  // A real divergence in a resumed run (its learning rate raised by --set) also keeps the checkpoint.
  // (The optimizer itself cannot change on resume: its state in the checkpoint depends on it.)
  const d = await runSnn(['train', '--resume', run, '--quiet', '--set', 'train.optimizer.lr=1.0e38']);
  assert.equal(d.code, 1, d.stderr);
  assert.match(d.stderr, /^snn: error: loss is (NaN|-?Infinity) at epoch 2, step \d+, batch \d+ of 8; run stopped, the previous checkpoint, checkpoints\/last \(epoch-0001\), is intact/);
  assert.equal(linkOf(run, 'last'), 'epoch-0001');

  // --set on a resume is saved in the run's config.yaml: set the optimizer back.
  const ok = await runSnn(['train', '--resume', run, '--quiet', '--set', 'train.optimizer={name: adam, lr: 0.01, weightDecay: 0}']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(readSummary(run).status, 'completed');
  assert.ok(lastWeights(run).equals(lastWeights(onlyRun(ref))), 'the resumed run differs from the reference');
  assert.deepEqual(metricsNoTiming(run), metricsNoTiming(onlyRun(ref)));
});

test('onNonFinite: skip skips and counts the bad batches, and such a run resumes bit-identically', async () => {
  const cfg = writeTinyConfig(join(work, 'skip.yaml'), { epochs: 3, extra: '  onNonFinite: skip\n' });
  const hook = { SNN_TEST_NONFINITE_AT: '1:3,2:5,2:6' };
  const runsA = join(work, 'runs-skip');
  const a = await runSnn(['train', '--config', cfg, '--runs-dir', runsA, '--quiet'], hook);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stderr, '');
  const runA = onlyRun(runsA);
  const summary = readSummary(runA);
  assert.equal(summary.status, 'completed');
  assert.equal(summary.skippedSteps, 3);
  assert.equal(summary.steps, 24 - 3, 'a skipped batch is no optimizer step');
  const m = metricsNoTiming(runA);
  const col = m[0].indexOf('skipped_steps');
  assert.ok(col >= 0, `no skipped_steps column in ${m[0].join(',')}`);
  assert.deepEqual(m.slice(1).map((row) => row[col]), ['1', '3', '3']);
  assert.ok(m.slice(1).every((row) => Number.isFinite(Number(row[m[0].indexOf('train_loss')]))), 'losses stay finite');
  const warnings = readFileSync(join(runA, 'log.jsonl'), 'utf8').split('\n').filter((l) => l.includes('non-finite loss'));
  assert.equal(warnings.length, 3);

  // Killed in epoch 2 after its skipped batches, then resumed: the same run, skip count included.
  const runsB = join(work, 'runs-skip-killed');
  await killAt(['train', '--config', cfg, '--runs-dir', runsB, '--quiet'], { ...hook, SNN_TEST_PAUSE_AT_STEP: '12:600000' }, /^snn-test: step 12 /);
  const runB = onlyRun(runsB);
  const b = await runSnn(['train', '--resume', runB, '--quiet'], hook);
  assert.equal(b.code, 0, b.stderr);
  assert.ok(lastWeights(runB).equals(lastWeights(runA)));
  assert.deepEqual(metricsNoTiming(runB), m);
  assert.equal(readSummary(runB).skippedSteps, 3);
});
