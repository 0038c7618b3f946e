/**
 * Damaged checkpoints: a truncated, altered, missing or unlisted file in checkpoints/last is
 * detected and named. `--resume` then falls back to checkpoints/prev (the checkpoint `last`
 * held before) with a one-line warning, and still ends bit-identical to the undamaged run;
 * if no checkpoint is good it refuses with one line and exit 2. `snn eval` of a damaged
 * checkpoint refuses with one line naming the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, readlinkSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { verifyCheckpoint } from '../src/runs/checkpoint.js';
import { readResumeCheckpoint } from '../src/runs/resume.js';
import { runTraining } from '../src/train/session.js';
import { snapshot, tempDir } from './helpers.js';
import { lastWeights, metricsNoTiming, runSnn, writeTinyConfig } from './reliabilityKit.js';

const work = tempDir('ckpt');
const cfgFile = writeTinyConfig(join(work, 'tiny.yaml'), { epochs: 3 });
let base = '';
let goodWeights: Buffer;
let goodMetrics: string[][];

/** A copy of the finished base run to damage. */
function copyRun(label: string): string {
  const dir = join(work, 'copies', label);
  cpSync(base, dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

const ck = (run: string, link = 'last'): string => join(run, 'checkpoints', link);

test('setup: a 3-epoch run keeps last, prev and best, each verified, with sizes in checksums.json', async () => {
  const out = await runTraining({ config: loadConfig(cfgFile), runsDir: join(work, 'runs'), commandLine: ['test'] });
  assert.equal(out.status, 'completed');
  base = out.paths.dir;
  assert.equal(readlinkSync(ck(base)), 'epoch-0003');
  assert.equal(readlinkSync(ck(base, 'prev')), 'epoch-0002');
  for (const l of ['last', 'prev', 'best']) verifyCheckpoint(ck(base, l));
  const sums = JSON.parse(readFileSync(join(ck(base), 'checksums.json'), 'utf8')) as { bytes: Record<string, number> };
  assert.equal(sums.bytes['weights.bin'], readFileSync(join(ck(base), 'weights.bin')).length);
  goodWeights = lastWeights(base);
  goodMetrics = metricsNoTiming(base);
});

const damages: { label: string; harm: (ckDir: string) => void; expect: RegExp }[] = [
  { label: 'truncated weights.bin', harm: (d) => truncateSync(join(d, 'weights.bin'), 100), expect: /weights\.bin: truncated \(100 of \d+ bytes\)/ },
  {
    label: 'one flipped byte in weights.bin',
    harm: (d) => {
      const b = readFileSync(join(d, 'weights.bin'));
      b[b.length >> 1] ^= 0x40;
      writeFileSync(join(d, 'weights.bin'), b);
    },
    expect: /weights\.bin: checksum mismatch/,
  },
  {
    label: 'an edited state.json',
    harm: (d) => writeFileSync(join(d, 'state.json'), readFileSync(join(d, 'state.json'), 'utf8').replace('"epoch": 3', '"epoch": 9')),
    expect: /state\.json: (checksum mismatch|truncated|longer)/,
  },
  { label: 'a deleted optimizer.bin', harm: (d) => rmSync(join(d, 'optimizer.bin')), expect: /optimizer\.bin: missing from checkpoint/ },
  { label: 'a truncated checksums.json', harm: (d) => truncateSync(join(d, 'checksums.json'), 30), expect: /checksums\.json: unreadable checksum file/ },
  {
    label: 'checksums.json without weights.bin',
    harm: (d) => {
      const f = join(d, 'checksums.json');
      const j = JSON.parse(readFileSync(f, 'utf8')) as { sha256: Record<string, string> };
      delete j.sha256['weights.bin'];
      writeFileSync(f, JSON.stringify(j));
    },
    expect: /checksums\.json: has no checksum for weights\.bin/,
  },
  { label: 'the folder last points to deleted', harm: (d) => rmSync(d, { recursive: true }), expect: /checkpoint not found/ },
];

test('each kind of damage to last is named, and resume falls back to prev (library level)', () => {
  for (const d of damages) {
    const run = copyRun(d.label.replace(/\W+/g, '-'));
    const target = join(run, 'checkpoints', 'epoch-0003');
    d.harm(target);
    if (existsSync(target)) assert.throws(() => verifyCheckpoint(target), d.expect, d.label);
    const found = readResumeCheckpoint(join(run, 'checkpoints'));
    assert.ok(found, d.label);
    assert.equal(found.link, 'prev', d.label);
    assert.match(found.warning ?? '', d.expect, d.label);
    assert.match(found.warning ?? '', /checkpoints\/last \(epoch-0003\): .*; resuming from checkpoints\/prev \(epoch-0002\)/);
    assert.equal(found.data.state.epoch, 2);
    for (const t of [...found.data.weights.values(), ...found.data.optimizer.values()]) t.dispose();
    // Repaired: last points at the good checkpoint, the damaged folder is set aside, best no longer points at it.
    assert.equal(readlinkSync(ck(run)), 'epoch-0002');
    if (existsSync(join(run, 'checkpoints', 'corrupt-epoch-0003'))) assert.ok(!existsSync(target));
    assert.ok(!existsSync(ck(run, 'best')) || readlinkSync(ck(run, 'best')) !== 'epoch-0003');
  }
});

/**
 * The links as a kill between epoch-0003's rename and the switch of the links leaves them:
 * last (and best, if it was moving too) one checkpoint behind, prev pruned with epoch-0001.
 */
function unlinkLatest(run: string): void {
  const relink = (link: string, target: string): void => {
    rmSync(ck(run, link), { force: true });
    symlinkSync(target, ck(run, link));
  };
  relink('last', 'epoch-0002');
  rmSync(ck(run, 'prev'), { force: true });
  if (readlinkSync(ck(run, 'best')) === 'epoch-0003') relink('best', 'epoch-0002');
}

test('a complete checkpoint no link names yet is adopted as last, with the links the trainer would have made', () => {
  const run = copyRun('unlinked');
  unlinkLatest(run);
  const found = readResumeCheckpoint(join(run, 'checkpoints'));
  assert.ok(found);
  assert.equal(found.adopted, 'epoch-0003');
  assert.equal(found.link, 'last');
  assert.equal(found.warning, null);
  assert.equal(found.data.state.epoch, 3);
  for (const t of [...found.data.weights.values(), ...found.data.optimizer.values()]) t.dispose();
  for (const l of ['last', 'prev', 'best']) assert.equal(readlinkSync(ck(run, l)), readlinkSync(ck(base, l)), `checkpoints/${l}`);

  // A damaged one is left alone: resume uses last as it is.
  const hurt = copyRun('unlinked-damaged');
  unlinkLatest(hurt);
  truncateSync(join(hurt, 'checkpoints', 'epoch-0003', 'weights.bin'), 100);
  const other = readResumeCheckpoint(join(hurt, 'checkpoints'));
  assert.ok(other);
  assert.equal(other.adopted, null);
  assert.equal(other.data.state.epoch, 2);
  for (const t of [...other.data.weights.values(), ...other.data.optimizer.values()]) t.dispose();
  assert.equal(readlinkSync(ck(hurt)), 'epoch-0002');
});

test('snn train --resume with a truncated last: one warning line, then bit-identical to the undamaged run', async () => {
  const run = copyRun('cli-fallback');
  truncateSync(join(run, 'checkpoints', 'epoch-0003', 'weights.bin'), 64);
  const r = await runSnn(['train', '--resume', run, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0],
    /^snn: warning: checkpoints\/last \(epoch-0003\): .*epoch-0003\/weights\.bin: truncated \(64 of \d+ bytes\); resuming from checkpoints\/prev \(epoch-0002\); the damaged folder is kept as checkpoints\/corrupt-epoch-0003$/,
  );
  assert.ok(lastWeights(run).equals(goodWeights), 'the resumed run does not end where the undamaged one did');
  assert.deepEqual(metricsNoTiming(run), goodMetrics);
  assert.equal(readlinkSync(ck(run)), 'epoch-0003');
  assert.equal(readlinkSync(ck(run, 'prev')), 'epoch-0002');
  assert.ok(existsSync(join(run, 'checkpoints', 'corrupt-epoch-0003', 'weights.bin')), 'the damaged folder is kept for inspection');
});

test('no good checkpoint: --resume refuses with one line and exit 2, and changes nothing', async () => {
  const run = copyRun('cli-refuse');
  truncateSync(join(run, 'checkpoints', 'epoch-0003', 'weights.bin'), 10);
  writeFileSync(join(run, 'checkpoints', 'epoch-0002', 'state.json'), '{"epoch": 2}');
  const before = snapshot(run);
  const r = await runSnn(['train', '--resume', run, '--quiet']);
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^snn: .*checkpoints: no good checkpoint to resume from: /);
  assert.match(lines[0], /checkpoints\/last \(epoch-0003\): .*weights\.bin: truncated \(10 of \d+ bytes\)/);
  assert.match(lines[0], /checkpoints\/prev \(epoch-0002\): .*state\.json: (truncated|checksum mismatch)/);
  assert.deepEqual(snapshot(run), before, 'a refused resume leaves the run as it was (its lock released)');
});

test('snn eval of a damaged checkpoint refuses with one line naming the file', async () => {
  const run = copyRun('cli-eval');
  const b = readFileSync(join(run, 'checkpoints', 'epoch-0003', 'weights.bin'));
  b[7] ^= 1;
  writeFileSync(join(run, 'checkpoints', 'epoch-0003', 'weights.bin'), b);
  for (const args of [['--checkpoint', 'last'], []]) {
    const r = await runSnn(['eval', run, ...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr.trim(), /^snn: .*epoch-0003\/weights\.bin: checksum mismatch \(file is corrupt or was altered\)$/);
  }
  // The previous checkpoint, named directly, still evaluates.
  const ok = await runSnn(['eval', join(run, 'checkpoints', 'prev'), '--json']);
  assert.equal(ok.code, 0, ok.stderr);
});
