/**
 * Hostile and unlucky files (issue 18, items 6, 7, 8, 10, 12): a checkpoint whose checksums were
 * recomputed after an edit (paths out of the folder, symbolic links, impossible shapes, a bad
 * state.json), an export manifest with impossible fields, a gzip bomb, paths that are not what
 * they seem (/proc, a FIFO, /dev/zero, `.` as a name), and the messages that used to mislead.
 * Each is a one-line error with exit code 2 (or a UserError naming the file and field).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readCheckpoint } from '../src/runs/checkpoint.js';
import { readSnnExport } from '../src/export/snnFormat.js';
import { encodeIdx, loadIdxDataset, readIdx } from '../src/data/idx.js';
import { loadCifarDataset } from '../src/data/cifar.js';
import { UserError } from '../src/util/errors.js';
import { repoRoot, snapshot, tempDir } from './helpers.js';
import { linesOf, readSummary, runSnn, snnInProcess, writeTinyConfig } from './reliabilityKit.js';

const work = tempDir('hostile');
const cfg = writeTinyConfig(join(work, 'tiny.yaml'), { epochs: 1, train: 64 });
let run = '';

const userError = (re: RegExp) => (e: unknown): boolean => e instanceof UserError && re.test(e.message);

/** checksums.json rewritten from the files as they are now: what a careful forger does. */
function recomputeChecksums(ck: string): void {
  const sums = JSON.parse(readFileSync(join(ck, 'checksums.json'), 'utf8')) as { sha256: Record<string, string>; bytes: Record<string, number> };
  for (const name of Object.keys(sums.sha256)) {
    const b = readFileSync(join(ck, name));
    sums.sha256[name] = createHash('sha256').update(b).digest('hex');
    sums.bytes[name] = b.length;
  }
  writeFileSync(join(ck, 'checksums.json'), JSON.stringify(sums));
}

function copyCheckpoint(label: string): string {
  const dir = join(work, 'ck', label, 'checkpoints', 'epoch-0001');
  cpSync(join(run, 'checkpoints', 'epoch-0001'), dir, { recursive: true });
  return dir;
}

const editJson = (file: string, edit: (j: Record<string, any>) => void): void => {
  const j = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
  edit(j);
  writeFileSync(file, JSON.stringify(j));
};

test('setup: a 1-epoch tiny run', async () => {
  const r = await snnInProcess(['train', '--config', cfg, '--runs-dir', join(work, 'runs'), '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  run = join(work, 'runs', readdirSync(join(work, 'runs'))[0]);
});

test('item 6: a checkpoint with recomputed checksums is still confined to its folder and its shapes and state checked', async () => {
  const outside = join(work, 'ck', 'outside.bin');
  mkdirSync(join(work, 'ck'), { recursive: true });
  writeFileSync(outside, readFileSync(join(run, 'checkpoints', 'epoch-0001', 'weights.bin')));
  const cases: [string, (ck: string) => void, RegExp][] = [
    ['a path out of the folder', (ck) => editJson(join(ck, 'model.json'), (j) => (j.weightsManifest[0].paths = ['../../outside.bin'])), /model\.json: weightsManifest\.0\.paths\.0: must be a plain file name/],
    ['an absolute path', (ck) => editJson(join(ck, 'model.json'), (j) => (j.weightsManifest[0].paths = [outside])), /paths\.0: must be a plain file name/],
    [
      'weights.bin a symbolic link out',
      (ck) => {
        rmSync(join(ck, 'weights.bin'));
        symlinkSync(outside, join(ck, 'weights.bin'));
      },
      /weights\.bin: is a symbolic link/,
    ],
    ['a negative shape', (ck) => editJson(join(ck, 'model.json'), (j) => (j.weightsManifest[0].weights[0].shape = [-3, 4])), /model\.json: weightsManifest\.0\.weights\.0\.shape\.0: Too small/],
    ['a shape bigger than the file', (ck) => editJson(join(ck, 'model.json'), (j) => (j.weightsManifest[0].weights[0].shape = [100000, 1000])), /model\.json: .*more than a checkpoint file holds|its shapes need/],
    ['state.json epoch "abc"', (ck) => editJson(join(ck, 'state.json'), (j) => (j.epoch = 'abc')), /state\.json: epoch: expected number/],
    ['state.json step -5', (ck) => editJson(join(ck, 'state.json'), (j) => (j.step = -5)), /state\.json: step: Too small/],
  ];
  for (const [label, harm, re] of cases) {
    const ck = copyCheckpoint(label.replace(/\W+/g, '-'));
    harm(ck);
    recomputeChecksums(ck);
    assert.throws(() => readCheckpoint(ck), userError(re), label);
  }
  // End to end, the case: resume refuses and the run is not marked completed.
  const bad = join(work, 'ck', 'cli-run');
  cpSync(run, bad, { recursive: true, verbatimSymlinks: true });
  const ck = join(bad, 'checkpoints', 'epoch-0001');
  editJson(join(ck, 'state.json'), (j) => Object.assign(j, { epoch: 'abc', step: -5 }));
  recomputeChecksums(ck);
  const r = await runSnn(['train', '--resume', bad, '--set', 'train.epochs=2', '--quiet']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(linesOf(r.stderr).length, 1, r.stderr);
  assert.match(r.stderr, /state\.json: epoch: expected number/);
  assert.equal(readSummary(bad).status, 'completed', 'summary.json is left as it was');
  assert.equal(readSummary(bad).epochsDone, 1);
});

test('item 7: snn eval --exported checks the manifest: strides, pads, timesteps, byte counts, binary.file, missing fields', async () => {
  const exp = join(work, 'export');
  const e = await runSnn(['export', run, '--format', 'snn', '--out', exp]);
  assert.equal(e.code, 0, e.stderr);
  const convAt = (j: Record<string, any>): number => (j.nodes as { op: string }[]).findIndex((n) => n.op === 'conv');
  const cases: [string, (j: Record<string, any>) => void, RegExp][] = [
    ['stride 0', (j) => (j.nodes[convAt(j)].stride = 0), /nodes\.\d+\.stride: Too small/],
    ['a negative pad', (j) => (j.nodes[convAt(j)].pad = -1), /nodes\.\d+\.pad: Too small/],
    ['timesteps 1e9', (j) => (j.timesteps = 1e9), /timesteps: Too big/],
    ['binary.file out of the folder', (j) => (j.binary.file = '../../../../etc/passwd'), /binary\.file: must be a plain file name of the export folder/],
    ['a missing kernel', (j) => delete j.nodes[convAt(j)].kernel, /nodes\.\d+\.kernel: expected number, received undefined/],
    ['a negative byte count', (j) => (j.nodes[convAt(j)].weights.bytes = -8), /nodes\.\d+\.weights\.bytes: Too small/],
    ['a tensor past the end of model.bin', (j) => (j.nodes[convAt(j)].bias.offset = j.binary.bytes), /nodes\.\d+\.bias: bytes .* lie outside model\.bin/],
    ['an input that is no node', (j) => (j.nodes[convAt(j)].inputs = ['nowhere']), /nodes\.\d+\.inputs: 'nowhere' is not a node before it/],
  ];
  for (const [label, harm, re] of cases) {
    const dir = join(work, 'exports', label.replace(/\W+/g, '-'));
    cpSync(exp, dir, { recursive: true });
    editJson(join(dir, 'manifest.json'), harm);
    assert.throws(() => readSnnExport(dir), userError(re), label);
  }
  const r = await snnInProcess(['eval', '--exported', join(work, 'exports', 'stride-0')]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(linesOf(r.stderr).length, 1, r.stderr);
});

test('item 8: a gzip bomb (600 images promised, 3 GiB inflated) stops where the IDX header says', async () => {
  const header = encodeIdx([600, 28, 28], new Uint8Array(600 * 784));
  const member = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
  const bomb = Buffer.concat([gzipSync(header), ...Array.from({ length: 48 }, () => member)]);
  const file = join(work, 'train-images-idx3-ubyte.gz');
  writeFileSync(file, bomb);
  await assert.rejects(readIdx(file), userError(new RegExp(`longer than its header says: more than ${header.length} bytes after decompression \\(stopped there\\)`)));
  // A header that promises more than any data set: refused from the header alone.
  const huge = Buffer.from(header.subarray(0, 16));
  huge.writeUInt32BE(4_000_000_000, 4);
  writeFileSync(file, gzipSync(huge));
  await assert.rejects(readIdx(file), userError(/its IDX header says 4000000000×28×28 values/));
});

test('item 10: /proc as --runs-dir, ".", ".." or a 300-character name, /dev/zero, a FIFO or a huge file as --config: exit 2, one line, no hang', async () => {
  const good = join(repoRoot, 'test', 'fixtures', 'synthetic.yaml');
  const fifo = join(work, 'fifo.yaml');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const big = join(work, 'big.yaml');
  writeFileSync(big, `# ${'x'.repeat(2 * 1024 * 1024)}\n`);
  const runs = join(work, 'runs10');
  // The ones that used to hang run as processes with a time limit; the others in this process.
  const hung: [string[], RegExp][] = [
    [['--config', good, '--runs-dir', '/proc/x'], /--runs-dir \/proc\/x: cannot create run folders in \/proc/],
    [['--config', '/dev/zero', '--runs-dir', runs], /config file \/dev\/zero is a device, not a regular file/],
    [['--config', fifo, '--runs-dir', runs], /config file \S+fifo\.yaml is a FIFO \(named pipe\), not a regular file/],
  ];
  for (const [args, re] of hung) {
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'snn'), 'train', ...args, '--quiet'], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    assert.equal(r.status, 2, `${args.join(' ')}: status ${r.status} signal ${r.signal}: ${r.stderr}`);
    assert.equal(linesOf(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
  const quick: [string[], RegExp][] = [
    [['--config', good, '--runs-dir', runs, '--name', '.'], /name: "\." cannot name a run folder/],
    [['--config', good, '--runs-dir', runs, '--name', '..'], /name: "\.\." cannot name a run folder/],
    [['--config', good, '--runs-dir', runs, '--name', 'n'.repeat(300)], /name: 300 characters, more than the 200/],
    [['--config', big, '--runs-dir', runs], /config file \S+big\.yaml is 2\.0 MiB, more than the 1\.0 MiB snn reads/],
  ];
  for (const [args, re] of quick) {
    const r = await snnInProcess(['train', ...args, '--quiet']);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(linesOf(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
  assert.deepEqual(snapshot(runs), [], 'nothing written');
});

test('item 12: the messages that misled now say what is wrong', async () => {
  const empty = join(work, 'no-runs');
  mkdirSync(empty);
  const latest = await snnInProcess(['eval', 'latest', '--runs-dir', empty]);
  assert.equal(latest.code, 2);
  assert.deepEqual(linesOf(latest.stderr), [`snn: no run folders in ${empty}`]);

  // A label file whose header is an image file's: said, not "truncated: expected 12037256776861216 bytes".
  const idx = join(work, 'idx');
  mkdirSync(idx);
  const img = encodeIdx([2, 4, 4], new Uint8Array(32));
  const lab = encodeIdx([2], Uint8Array.from([0, 1]));
  for (const p of ['train', 't10k']) {
    writeFileSync(join(idx, `${p}-images-idx3-ubyte`), img);
    writeFileSync(join(idx, `${p}-labels-idx1-ubyte`), lab);
  }
  const swapped = Buffer.from(lab);
  swapped[3] = 3;
  writeFileSync(join(idx, 'train-labels-idx1-ubyte'), swapped);
  await assert.rejects(loadIdxDataset(idx), userError(/train-labels-idx1-ubyte has 3 dimensions; a label file has 1 \(the header of an image file: the other file of the pair\?\)/));

  // A CIFAR file with bytes appended is not "truncated".
  const cifar = join(work, 'cifar');
  mkdirSync(cifar);
  const rec = Buffer.alloc(3074);
  writeFileSync(join(cifar, 'train.bin'), Buffer.concat([rec, rec, Buffer.alloc(5)]));
  writeFileSync(join(cifar, 'test.bin'), rec);
  await assert.rejects(loadCifarDataset(cifar, 'cifar100'), userError(/train\.bin: 6153 bytes is not a whole number of 3074-byte records \(2 records and 5 bytes more\)/));

  // Deep nesting: "nested too deeply", not "Maximum call stack size exceeded".
  const deep = join(work, 'deep.yaml');
  writeFileSync(deep, `model: ${'['.repeat(5000)}${']'.repeat(5000)}\n`);
  const d = await snnInProcess(['train', '--config', deep, '--runs-dir', join(work, 'runs12'), '--quiet']);
  assert.equal(d.code, 2);
  assert.match(d.stderr, /nested too deeply/);
  assert.doesNotMatch(d.stderr, /call stack/);

  // Four runs of one combination, three with an unreadable summary.json.
  const runs = join(work, 'agg');
  for (const [i, summary] of ['{"status":"completed","bestAccuracy":0.752,"finalAccuracy":0.75}', '{"stat', '', '[1,'].entries()) {
    const dir = join(runs, `agg-20260101-00000${i}-abcde${i}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.yaml'), `name: agg\nseed: ${i}\n`);
    writeFileSync(join(dir, 'summary.json'), summary);
  }
  const agg = await runSnn(['runs', 'aggregate', '--runs-dir', runs]);
  assert.equal(agg.code, 0, agg.stderr);
  assert.match(agg.stdout, /\| 1 \| 75\.20 ± 0\.00 \|/, agg.stdout);
  assert.equal(linesOf(agg.stderr).length, 1, agg.stderr);
  assert.match(agg.stderr, /^snn: warning: 3 of 4 runs left out: .*summary\.json unreadable/);
  const list = await runSnn(['runs', 'list', '--runs-dir', runs, '--json']);
  const statuses = (JSON.parse(list.stdout) as { status: string }[]).map((r) => r.status);
  assert.deepEqual(statuses, ['completed', 'damaged', 'damaged', 'damaged']);
});
