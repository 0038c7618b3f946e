/**
 * A run folder that was edited, damaged or left half-done (issue 18, items 1, 2, 4, 5, 9, 11):
 * an edited or truncated config.yaml is refused by eval and resume; `--set` on resume refuses
 * what the checkpoint cannot take and logs what it changes; a resume first removes the
 * temporaries of a killed checkpoint write; a damaged metrics.csv is rebuilt from log.jsonl;
 * missing links fall back with one line; a failed start leaves no run folder, and a second
 * SIGTERM does not leave summary.json at `running`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { snapshot, tempDir } from './helpers.js';
import { linesOf, linkOf, metricsNoTiming, readSummary, runSnn, snnInProcess, startSnn, writeTinyConfig } from './reliabilityKit.js';

const work = tempDir('runfolder');
const cfg = writeTinyConfig(join(work, 'tiny.yaml'), { epochs: 2, train: 64 });
let base = '';

function copyRun(label: string): string {
  const dir = join(work, 'copies', label);
  cpSync(base, dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

/** Exit 2, one stderr line matching `re`. */
function refused(r: { code: number | null; stderr: string }, re: RegExp, label: string): void {
  assert.equal(r.code, 2, `${label}: ${r.stderr}`);
  const lines = linesOf(r.stderr);
  assert.equal(lines.length, 1, `${label}: ${r.stderr}`);
  assert.match(lines[0], re, label);
}

test('setup: a 2-epoch tiny run', async () => {
  const r = await snnInProcess(['train', '--config', cfg, '--runs-dir', join(work, 'runs'), '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  base = join(work, 'runs', readdirSync(join(work, 'runs'))[0]);
});

test('item 1: an edited or truncated config.yaml is refused by eval and --resume (exit 2, one line), and nothing is rewritten', async () => {
  const cases: [string, (s: string) => string][] = [
    ['one edited value', (s) => s.replace('timesteps: 2', 'timesteps: 3')],
    ['truncated', (s) => s.slice(0, 200)],
  ];
  for (const [label, harm] of cases) {
    const run = copyRun(`config-${label.replace(/\W+/g, '-')}`);
    writeFileSync(join(run, 'config.yaml'), harm(readFileSync(join(run, 'config.yaml'), 'utf8')));
    const before = snapshot(run);
    refused(await snnInProcess(['eval', run]), /config\.yaml: is not the config checkpoint epoch-000\d was trained with/, `eval, ${label}`);
    refused(await runSnn(['train', '--resume', run, '--quiet']), /config\.yaml: is not the config checkpoint epoch-0002 was trained with/, `resume, ${label}`);
    assert.deepEqual(snapshot(run), before, `${label}: the run folder changed`);
  }
});

test('item 2: --set on resume refuses an architecture change before writing anything, and logs an allowed one', async () => {
  const run = copyRun('resume-set');
  const before = snapshot(run);
  refused(await snnInProcess(['train', '--resume', run, '--set', 'model.preset=resnet20', '--quiet']), /--set model\.preset: cannot change when resuming \("tiny" → "resnet20"\)/, 'preset');
  refused(await snnInProcess(['train', '--resume', run, '--set', 'quant.bits=2', '--quiet']), /--set quant\.bits: cannot change when resuming/, 'quant');
  assert.deepEqual(snapshot(run), before, 'a refused override changed the run folder');

  const r = await snnInProcess(['train', '--resume', run, '--set', 'train.epochs=3', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(metricsNoTiming(run).length, 4, 'header + 3 epochs');
  const changed = linesOf(readFileSync(join(run, 'log.jsonl'), 'utf8'))
    .map((l) => JSON.parse(l) as { msg: string; changed?: { key: string; from: unknown; to: unknown }[] })
    .filter((l) => l.msg.startsWith('config changed on resume'));
  assert.deepEqual(changed.map((l) => l.changed), [[{ key: 'train.epochs', from: 2, to: 3 }]]);
  const meta = JSON.parse(readFileSync(join(run, 'meta.json'), 'utf8')) as { configChanges: { set: unknown[] }[] };
  assert.equal(meta.configChanges.length, 1);
  // The checkpoints from before the change (best may be one) still evaluate: the change is on record.
  assert.equal(linkOf(run, 'prev'), 'epoch-0002');
  const ev = await runSnn(['eval', join(run, 'checkpoints', 'prev'), '--json']);
  assert.equal(ev.code, 0, ev.stderr);
});

test('item 4: --resume removes checkpoints/.tmp-* a killed write left before it trains', async () => {
  const run = copyRun('tmp-leftover');
  const leftover = join(run, 'checkpoints', '.tmp-epoch-0003-0badf00d');
  mkdirSync(leftover);
  writeFileSync(join(leftover, 'weights.bin'), Buffer.alloc(1000));
  // Paused at the first step of epoch 3 (8 steps per epoch... 4 here: 64 images, batches of 16).
  const r = startSnn(['train', '--resume', run, '--set', 'train.epochs=3', '--quiet'], { SNN_TEST_PAUSE_AT_STEP: '9:600000' });
  try {
    await r.waitFor(/^snn-test: step 9 /);
    assert.deepEqual(readdirSync(join(run, 'checkpoints')).filter((n) => n.startsWith('.')), [], 'leftovers are gone before training starts');
  } finally {
    r.child.kill('SIGKILL');
    await r.done;
  }
});

test('item 5: a truncated, deleted or garbled metrics.csv is rebuilt from log.jsonl on resume, in one line', async () => {
  const good = metricsNoTiming(base);
  const harms: [string, (f: string) => void][] = [
    ['truncated', (f) => truncateSync(f, readFileSync(f, 'utf8').indexOf('\n2,'))],
    ['deleted', (f) => rmSync(f)],
    ['garbled', (f) => writeFileSync(f, readFileSync(f, 'utf8').replace(/,/g, ';'))],
  ];
  for (const [label, harm] of harms) {
    const run = copyRun(`metrics-${label}`);
    harm(join(run, 'metrics.csv'));
    const r = await snnInProcess(['train', '--resume', run, '--set', 'train.epochs=3', '--quiet']);
    assert.equal(r.code, 0, `${label}: ${r.stderr}`);
    const lines = linesOf(r.stderr);
    assert.equal(lines.length, 1, `${label}: ${r.stderr}`);
    assert.match(lines[0], /^snn: warning: \S+metrics\.csv: .*; rebuilt 2 of 2 epoch rows from log\.jsonl$/, label);
    assert.deepEqual(metricsNoTiming(run).slice(0, 3), good, `${label}: epochs 1-2 differ from the undamaged run's`);
    assert.equal(metricsNoTiming(run).length, 4);
  }
});

test('item 9: a dangling best falls back to last, and missing links to the newest good checkpoint, each said in one line', async () => {
  const run = copyRun('links');
  // best is pointed at epoch-0001 (which epoch was best depends on the training), then that
  // checkpoint is removed, so best dangles.
  rmSync(join(run, 'checkpoints', 'best'), { force: true });
  symlinkSync('epoch-0001', join(run, 'checkpoints', 'best'));
  assert.equal(linkOf(run, 'best'), 'epoch-0001');
  assert.equal(linkOf(run, 'last'), 'epoch-0002');
  rmSync(join(run, 'checkpoints', 'epoch-0001'), { recursive: true });
  // (In this process; the table it prints on stdout is not read: the warning names the checkpoint used.)
  const r = await snnInProcess(['eval', run]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(linesOf(r.stderr), ['snn: warning: checkpoints/best points to epoch-0001, which is missing; using checkpoints/last (epoch-0002)']);

  for (const l of ['last', 'prev', 'best']) rmSync(join(run, 'checkpoints', l), { force: true });
  const again = await snnInProcess(['eval', run]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(linesOf(again.stderr).length, 1, again.stderr);
  assert.match(again.stderr, /has no usable best or last link; using the newest checkpoint that verifies, epoch-0002/);
});

test('item 11: a disk full at start leaves no run folder; a second SIGTERM leaves summary.json failed, not running', async () => {
  for (const hook of ['/.lock-', 'config.yaml', 'meta.json']) {
    const runs = join(work, `full-${hook.replace(/\W+/g, '')}`);
    process.env.SNN_TEST_FAIL_WRITE = hook; // read on each write (src/util/testHooks.ts)
    const r = await snnInProcess(['train', '--config', cfg, '--runs-dir', runs, '--quiet']).finally(() => delete process.env.SNN_TEST_FAIL_WRITE);
    assert.equal(r.code, 1, `${hook}: ${r.stderr}`);
    assert.equal(linesOf(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /no space left on device \(ENOSPC\)/);
    assert.deepEqual(existsSync(runs) ? readdirSync(runs) : [], [], `${hook}: a half-made run folder is left`);
  }

  const runs = join(work, 'sigterm');
  const p = startSnn(['train', '--config', cfg, '--runs-dir', runs, '--quiet'], { SNN_TEST_PAUSE_AT_STEP: '3:1500' });
  await p.waitFor(/^snn-test: step 3 /);
  p.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  p.child.kill('SIGTERM');
  const end = await p.done;
  assert.equal(end.code, 143, end.stderr);
  const s = readSummary(join(runs, readdirSync(runs)[0]));
  assert.equal(s.status, 'failed');
  assert.match(String(s.error), /aborted by a second signal/);
});
