/**
 * Crashes: `snn train` is killed with SIGKILL (no handler runs, nothing is flushed) at chosen
 * points: before its first checkpoint, mid-epoch, inside a checkpoint write (a file of the
 * temporary folder written, the folder renamed into place, `prev` switched but not `last`),
 * and twice in a row. `snn train --resume RUN` then finishes the run, and its final weights,
 * optimizer state and metrics (less the timing columns) equal those of an uninterrupted run
 * with the same seed, byte for byte, on the wasm and the cpu backends.
 *
 * The kill points come from the test hooks SNN_TEST_PAUSE_AT_STEP and
 * SNN_TEST_PAUSE_IN_CHECKPOINT (src/util/testHooks.ts): the process announces the point on
 * stderr and sleeps there until it is killed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';
import { hasLock, killAt, lastOptimizer, lastWeights, linkOf, metricsNoTiming, pool, readSummary, runSnn, writeTinyConfig } from './reliabilityKit.js';

interface Kill {
  /** What the test kills through. */
  label: string;
  env: Record<string, string>;
  marker: RegExp;
  /** Where `last` must point after the kill (null: no checkpoint yet). */
  last: string | null;
  /** The epochs the resumed sessions continue from (log.jsonl's "resumed" lines). */
  resumedAt: number[];
  /** A second kill, during the first resume. */
  again?: { env: Record<string, string>; marker: RegExp; last: string };
}

const PAUSE = '600000';

function onlyRun(runs: string): string {
  const dirs = readdirSync(runs);
  assert.equal(dirs.length, 1, `expected one run folder in ${runs}, found ${dirs.join(', ')}`);
  return join(runs, dirs[0]);
}

async function crashAndResume(backend: string, cfg: string, reference: string, k: Kill): Promise<void> {
  const runs = tempDir(`crash-${backend}`);
  const train = ['train', '--config', cfg, '--runs-dir', runs, '--quiet'];
  const line = await killAt(train, k.env, k.marker);
  const run = onlyRun(runs);
  assert.equal(linkOf(run, 'last'), k.last, `${k.label}: killed at "${line}", last is ${linkOf(run, 'last')}`);
  assert.ok(hasLock(run), 'the killed process leaves its lock behind');
  assert.equal(readSummary(run).status, 'running', 'a killed run cannot mark itself');
  const resume = ['train', '--resume', run, '--runs-dir', runs, '--quiet'];
  if (k.again) {
    await killAt(resume, k.again.env, k.again.marker);
    assert.equal(linkOf(run, 'last'), k.again.last, `${k.label}: second kill`);
  }
  const r = await runSnn(resume);
  assert.equal(r.code, 0, `${k.label}: resume failed: ${r.stderr}`);
  assert.equal(r.stderr, '', 'a stale lock is taken over silently');
  assert.ok(!hasLock(run), 'the lock is released at the end');
  assert.equal(readSummary(run).status, 'completed');
  assert.ok(lastWeights(run).equals(lastWeights(reference)), `${k.label}: final weights differ from the uninterrupted run`);
  assert.ok(lastOptimizer(run).equals(lastOptimizer(reference)), `${k.label}: optimizer state differs`);
  assert.deepEqual(metricsNoTiming(run), metricsNoTiming(reference), `${k.label}: metrics differ`);
  const resumed = readFileSync(join(run, 'log.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"msg":"resumed"'))
    .map((l) => (JSON.parse(l) as { epoch: number }).epoch);
  assert.deepEqual(resumed, k.resumedAt, `${k.label}: epochs resumed from`);
  // Nothing a killed writer left behind survives the resumed run.
  const leftovers = readdirSync(join(run, 'checkpoints')).filter((n) => n.startsWith('.'));
  assert.deepEqual(leftovers, []);
  assert.ok(!readdirSync(run).some((n) => n.endsWith('.tmp')), 'stale temporary files removed');
}

async function reference(backend: string, cfg: string): Promise<string> {
  const runs = tempDir(`crash-ref-${backend}`);
  const r = await runSnn(['train', '--config', cfg, '--runs-dir', runs, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const run = onlyRun(runs);
  assert.ok(existsSync(join(run, 'checkpoints', 'last', 'weights.bin')));
  return run;
}

test('wasm: SIGKILL at five points (and twice in a row), then --resume: bit-identical to an uninterrupted run', async () => {
  // 128 images in batches of 16: 8 steps per epoch, 3 epochs.
  const cfg = writeTinyConfig(join(tempDir('crash-cfg'), 'wasm.yaml'), { backend: 'wasm', epochs: 3 });
  const kills: Kill[] = [
    { label: 'before the first checkpoint', env: { SNN_TEST_PAUSE_AT_STEP: `3:${PAUSE}` }, marker: /^snn-test: step 3 /, last: null, resumedAt: [] },
    {
      label: 'mid-epoch, then again mid-epoch during the resume',
      env: { SNN_TEST_PAUSE_AT_STEP: `12:${PAUSE}` },
      marker: /^snn-test: step 12 \(epoch 2, batch 4\)/,
      last: 'epoch-0001',
      resumedAt: [1, 2],
      again: { env: { SNN_TEST_PAUSE_AT_STEP: `21:${PAUSE}` }, marker: /^snn-test: step 21 /, last: 'epoch-0002' },
    },
    {
      label: 'inside a checkpoint write (weights.bin written, no checksums yet)',
      env: { SNN_TEST_PAUSE_IN_CHECKPOINT: `${PAUSE}@epoch-0002 wrote weights.bin` },
      marker: /^snn-test: checkpoint epoch-0002 wrote weights\.bin/,
      last: 'epoch-0001',
      resumedAt: [1],
    },
    {
      // The complete epoch-0002 no link names yet is adopted: epoch 2 is not trained again.
      label: 'after the checkpoint folder is renamed into place, before the links move',
      env: { SNN_TEST_PAUSE_IN_CHECKPOINT: `${PAUSE}@epoch-0002 renamed` },
      marker: /^snn-test: checkpoint epoch-0002 renamed/,
      last: 'epoch-0001',
      resumedAt: [2],
    },
    {
      label: 'after prev is switched, before last is',
      env: { SNN_TEST_PAUSE_IN_CHECKPOINT: `${PAUSE}@epoch-0003 prev` },
      marker: /^snn-test: checkpoint epoch-0003 prev/,
      last: 'epoch-0002',
      // epoch-0003 is the last epoch: the resume adopts it, trains nothing and marks the run completed.
      resumedAt: [3],
    },
  ];
  const ref = await reference('wasm', cfg);
  await pool(kills, 2, (k) => crashAndResume('wasm', cfg, ref, k));
});

test('cpu: SIGKILL mid-epoch and inside a checkpoint write, then --resume: bit-identical', async () => {
  // The plain-JS backend is slow: 64 images in batches of 16, 4 steps per epoch, 2 epochs.
  const cfg = writeTinyConfig(join(tempDir('crash-cfg'), 'cpu.yaml'), { backend: 'cpu', epochs: 2, train: 64, test: 16 });
  const kills: Kill[] = [
    { label: 'mid-epoch', env: { SNN_TEST_PAUSE_AT_STEP: `6:${PAUSE}` }, marker: /^snn-test: step 6 \(epoch 2, batch 2\)/, last: 'epoch-0001', resumedAt: [1] },
    {
      label: 'inside a checkpoint write',
      env: { SNN_TEST_PAUSE_IN_CHECKPOINT: `${PAUSE}@epoch-0002 wrote optimizer.bin` },
      marker: /^snn-test: checkpoint epoch-0002 wrote optimizer\.bin/,
      last: 'epoch-0001',
      resumedAt: [1],
    },
  ];
  const ref = await reference('cpu', cfg);
  await pool(kills, 2, (k) => crashAndResume('cpu', cfg, ref, k));
});
