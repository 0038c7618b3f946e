/**
 * Concurrency: `snn train` processes started at the same moment into one runs/ folder, with
 * the same config name, each get a run folder of their own and never write into another's.
 * `--resume latest` picks the newest run (by creation time: see src/runs/runFolder.ts) that no
 * live process is training, and a run being trained cannot be resumed by a second process
 * until its owner is gone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { listRunFolders } from '../src/runs/runFolder.js';
import { verifyCheckpoint } from '../src/runs/checkpoint.js';
import { snapshot, tempDir } from './helpers.js';
import { hasLock, metricsNoTiming, readSummary, runSnn, startSnn, writeTinyConfig } from './reliabilityKit.js';

const work = tempDir('conc');
const runs = join(work, 'runs');
const cfg = writeTinyConfig(join(work, 'tiny.yaml'), { epochs: 1, train: 64, name: 'same' });
const seeds = [11, 12, 13, 14];
const byBirth = (): string[] => readdirSync(runs).map((n) => join(runs, n)).sort((a, b) => statSync(a).birthtimeMs - statSync(b).birthtimeMs);

test('4 snn train processes started at once get 4 run folders, each holding only its own run', async () => {
  const results = await Promise.all(
    seeds.map((seed) => runSnn(['train', '--config', cfg, '--runs-dir', runs, '--json', '--set', `seed=${seed}`])),
  );
  const reported = results.map((r, i) => {
    assert.equal(r.code, 0, `process ${i}: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { run: string }).run;
  });
  assert.equal(new Set(reported).size, 4, `shared folders: ${reported.join(', ')}`);
  const dirs = readdirSync(runs);
  assert.equal(dirs.length, 4, dirs.join(', '));
  for (const [i, run] of reported.entries()) {
    assert.ok(dirs.some((d) => run.endsWith(d)), `${run} is not in ${runs}`);
    assert.match(run.split('/').pop()!, /^same-\d{8}-\d{6}-[0-9a-f]{6}$/);
    const config = parse(readFileSync(join(run, 'config.yaml'), 'utf8')) as { seed: number };
    const meta = JSON.parse(readFileSync(join(run, 'meta.json'), 'utf8')) as { seed: number; commandLine: string[] };
    assert.equal(config.seed, seeds[i], `${run} holds another process's config`);
    assert.equal(meta.seed, seeds[i]);
    assert.ok(meta.commandLine.includes(`seed=${seeds[i]}`));
    assert.equal(readSummary(run).status, 'completed');
    assert.equal(metricsNoTiming(run).length, 2);
    verifyCheckpoint(join(run, 'checkpoints', 'last'));
    assert.ok(!hasLock(run), 'lock released');
  }
});

test('--resume latest picks the newest run (by creation time) and touches no other', async () => {
  const order = listRunFolders(runs);
  assert.deepEqual(order, byBirth(), 'run folders are ordered by birth time');
  const newest = order[order.length - 1];
  const others = order.slice(0, -1).map((d) => [d, snapshot(d)] as const);
  const r = await runSnn(['train', '--resume', 'latest', '--runs-dir', runs, '--json', '--set', 'train.epochs=2']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { run: string }).run, newest);
  assert.equal(metricsNoTiming(newest).length, 3, 'the newest run gained an epoch');
  for (const [d, snap] of others) assert.deepEqual(snapshot(d), snap, `${d} was touched`);
});

test('a run being trained is skipped by --resume latest, refused when named, and resumable once its process is gone', async () => {
  const before = listRunFolders(runs);
  const newestDone = before[before.length - 1];
  // A fifth run, paused at its second step: the newest folder, but busy.
  const busy = startSnn(['train', '--config', cfg, '--runs-dir', runs, '--quiet', '--set', 'seed=15'], { SNN_TEST_PAUSE_AT_STEP: '2:600000' });
  await busy.waitFor(/^snn-test: step 2 /);
  const runningDir = listRunFolders(runs).find((d) => !before.includes(d))!;
  assert.ok(runningDir && hasLock(runningDir));

  const latest = await runSnn(['train', '--resume', 'latest', '--runs-dir', runs, '--json']);
  assert.equal(latest.code, 0, latest.stderr);
  assert.equal((JSON.parse(latest.stdout) as { run: string }).run, newestDone, 'latest skips the run another process is training');

  const named = await runSnn(['train', '--resume', runningDir, '--runs-dir', runs, '--quiet']);
  assert.equal(named.code, 2, named.stderr);
  assert.equal(named.stderr.trim().split('\n').length, 1);
  assert.match(named.stderr, new RegExp(`in use by snn train \\(pid ${busy.child.pid} on `));

  busy.child.kill('SIGKILL');
  await busy.done;
  const after = await runSnn(['train', '--resume', 'latest', '--runs-dir', runs, '--json']);
  assert.equal(after.code, 0, after.stderr);
  assert.equal((JSON.parse(after.stdout) as { run: string }).run, runningDir, 'a dead owner leaves a stale lock, taken over');
  assert.equal(readSummary(runningDir).status, 'completed');
  assert.ok(!hasLock(runningDir));
});
