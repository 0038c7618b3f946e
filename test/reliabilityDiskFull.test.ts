/**
 * Disk full and unwritable folders: a write that fails in the middle of a run (a checkpoint
 * file, the switch of the `last` link, metrics.csv) leaves the previous checkpoint intact,
 * ends the run with exit 1 and one line that names the file, the reason and the checkpoint
 * that is intact, marks summary.json failed, and `--resume` then finishes the run exactly as
 * an undisturbed one.
 *
 * Tests run as root, for whom chmod does not make a folder unwritable, so the failures come
 * from the test hook SNN_TEST_FAIL_WRITE=pattern[:CODE][@N] (src/util/testHooks.ts): writes
 * to matching paths throw the errno error (ENOSPC by default) the kernel would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { verifyCheckpoint } from '../src/runs/checkpoint.js';
import { tempDir } from './helpers.js';
import { lastWeights, linkOf, metricsNoTiming, pool, readSummary, runSnn, writeTinyConfig } from './reliabilityKit.js';

const work = tempDir('diskfull');
const cfg = writeTinyConfig(join(work, 'tiny.yaml'), { epochs: 2, train: 64 });
const onlyRun = (runs: string): string => join(runs, readdirSync(runs)[0]);

const faults: { label: string; hook: string; expect: RegExp }[] = [
  {
    label: 'disk full while writing a checkpoint file',
    hook: '.tmp-epoch-0002-*/weights.bin',
    expect:
      /^snn: error: could not write checkpoint epoch-0002: cannot write \S+\/checkpoints\/\.tmp-epoch-0002-[0-9a-f]+\/weights\.bin: no space left on device \(ENOSPC\); the previous checkpoint, checkpoints\/last \(epoch-0001\), is intact$/,
  },
  {
    label: 'a read-only file system when switching the last link',
    hook: 'checkpoints/last:EROFS@2',
    expect:
      /^snn: error: could not point checkpoints\/last at epoch-0002: cannot write \S+\/checkpoints\/last: read-only file system \(EROFS\); the previous checkpoint, checkpoints\/last \(epoch-0001\), is intact$/,
  },
  {
    label: 'permission denied on metrics.csv',
    hook: 'metrics.csv:EACCES@2',
    expect: /^snn: error: cannot write \S+\/metrics\.csv: permission denied \(EACCES\); the previous checkpoint, checkpoints\/last \(epoch-0001\), is intact$/,
  },
];

test('a failed write keeps the previous checkpoint, says so in one line, and --resume finishes the run', async () => {
  const refRuns = join(work, 'ref');
  assert.equal((await runSnn(['train', '--config', cfg, '--runs-dir', refRuns, '--quiet'])).code, 0);
  const ref = onlyRun(refRuns);
  await pool(faults, 2, async (f) => {
    const runs = join(work, f.label.replace(/\W+/g, '-'));
    const r = await runSnn(['train', '--config', cfg, '--runs-dir', runs, '--quiet'], { SNN_TEST_FAIL_WRITE: f.hook });
    assert.equal(r.code, 1, `${f.label}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], f.expect, f.label);
    const run = onlyRun(runs);
    assert.equal(linkOf(run, 'last'), 'epoch-0001', f.label);
    verifyCheckpoint(join(run, 'checkpoints', 'last'));
    assert.ok(!readdirSync(join(run, 'checkpoints')).some((n) => n.startsWith('.tmp-')), 'no half-written checkpoint is left');
    const summary = readSummary(run);
    assert.equal(summary.status, 'failed');
    assert.match(String(summary.error), /is intact/);
    assert.deepEqual(metricsNoTiming(run).slice(0, 2), metricsNoTiming(ref).slice(0, 2), 'metrics.csv keeps its good rows');

    const again = await runSnn(['train', '--resume', run, '--quiet']);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(lastWeights(run).equals(lastWeights(ref)), `${f.label}: the resumed run differs`);
    assert.deepEqual(metricsNoTiming(run), metricsNoTiming(ref));
  });
});

test('no space for the very first checkpoint: the message says none was written', async () => {
  const runs = join(work, 'first');
  const r = await runSnn(['train', '--config', cfg, '--runs-dir', runs, '--quiet'], { SNN_TEST_FAIL_WRITE: '.tmp-epoch-0001' });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^snn: error: could not write checkpoint epoch-0001: cannot write \S+: no space left on device \(ENOSPC\); no checkpoint had been written yet\n$/);
  assert.equal(linkOf(onlyRun(runs), 'last'), null);
});
