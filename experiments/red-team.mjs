#!/usr/bin/env node
/**
 * Red team, bad inputs: generates ≥ 300 hostile or unlucky inputs in categories (configs,
 * --set strings, command-line paths, data files, run-folder configs, resume overrides,
 * checkpoints with recomputed checksums, export manifests) and runs `snn` on each, through the
 * CLI's main() in this process, or as a process (60 s limit) where the input could hang or
 * exhaust memory in older code. Each must exit 2 with exactly one line on stderr, write nothing outside the runs
 * folder, and leave the run it was pointed at as it was. A last category, fallbacks, must exit 0
 * with one warning line. Writes experiments/results/red-team.json and docs/red-team.md (with the
 * kills of experiments/red-team-kills.mjs, if its JSON is there).
 *
 *   npm run build && node experiments/red-team-kills.mjs > experiments/results/red-team-kills.json
 *   node experiments/red-team.mjs [--only CATEGORY]
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, lstatSync, writeSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const SNN = join(repo, 'bin', 'snn');
const flag = (n, d) => (process.argv.includes(n) ? process.argv[process.argv.indexOf(n) + 1] : d);
const JOBS = Number(flag('--jobs', 1)); // more than 1 blurs which case wrote what
const ONLY = flag('--only', null);

const REPORT_ONLY = process.argv.includes('--report-only'); // rewrite docs/red-team.md from the saved JSON
const work = mkdtempSync(join(tmpdir(), 'snn-redteam-'));
const runs = join(work, 'runs');
const inputs = join(work, 'inputs');
const cwd = join(work, 'cwd');
mkdirSync(inputs);
mkdirSync(cwd);
let n = 0;
const input = (name, content) => {
  const p = join(inputs, `${n++}-${name}`);
  writeFileSync(p, content);
  return p;
};
const snnSync = (args) => spawnSync(process.execPath, [SNN, ...args], { cwd, encoding: 'utf8' });

// ---- the workspace: a finished 2-epoch run, its export, a good data set -------------------
const TINY = `name: rt\nseed: 5\nbackend: wasm\ndata:\n  dataset: synthetic\n  batchSize: 16\n  testBatchSize: 64\n  synthetic: { classes: 4, train: 64, test: 32, height: 8, width: 8, channels: 1, noise: 0.25 }\nmodel:\n  preset: tiny\n  widths: [4, 8]\n  timesteps: 2\ntrain:\n  epochs: 2\n  optimizer: { name: adam, lr: 0.01, weightDecay: 0 }\n`;
const tinyCfg = input('tiny.yaml', TINY);
const made = REPORT_ONLY ? { status: 0 } : snnSync(['train', '--config', tinyCfg, '--runs-dir', join(work, 'base'), '--quiet']);
if (made.status !== 0) throw new Error(`base run: ${made.stderr}`);
const base = REPORT_ONLY ? '' : join(work, 'base', readdirSync(join(work, 'base'))[0]);
const exported = join(work, 'export');
const ex = REPORT_ONLY ? { status: 0 } : snnSync(['export', base, '--format', 'snn', '--out', exported]);
if (ex.status !== 0) throw new Error(`export: ${ex.stderr}`);
let copies = 0;
/** A copy of the base run inside runs/ (the folder a case may touch). */
const runCopy = () => {
  const d = join(runs, `rt-20260101-000000-${String(copies++).padStart(6, '0')}`);
  cpSync(base, d, { recursive: true, verbatimSymlinks: true });
  return d;
};
const editJson = (file, edit) => {
  const j = JSON.parse(readFileSync(file, 'utf8'));
  edit(j);
  writeFileSync(file, JSON.stringify(j));
};
const recompute = (ck) => {
  const f = join(ck, 'checksums.json');
  if (!lstatSync(f).isFile()) return; // the case made it a link (to /dev/zero, say): nothing to recompute
  const s = JSON.parse(readFileSync(f, 'utf8'));
  for (const name of Object.keys(s.sha256)) {
    try {
      if (!lstatSync(join(ck, name)).isFile()) continue; // a link out (to /dev/zero, say): leave its entry
      const b = readFileSync(join(ck, name));
      s.sha256[name] = createHash('sha256').update(b).digest('hex');
      s.bytes[name] = b.length;
    } catch {
      // a link to a device or a folder: leave its entry
    }
  }
  writeFileSync(f, JSON.stringify(s));
};

// ---- the cases ---------------------------------------------------------------------------
/** { category, label, args, prepare?: () => args, expect: 2 | 'warn' } */
const cases = [];
const add = (category, label, make, expect = 2) => cases.push({ category, label, make, expect });

// Configs: the committed corpus, and a wrong-typed value for every key of the schema.
for (const f of readdirSync(join(repo, 'test', 'fixtures', 'bad-configs')).filter((x) => x.endsWith('.yaml'))) {
  add('config file', `fixture ${f}`, () => ['train', '--config', join(repo, 'test', 'fixtures', 'bad-configs', f), '--runs-dir', runs]);
}
const defaults = REPORT_ONLY ? {} : JSON.parse(snnSync(['runs', 'show', base, '--json']).stdout).config;
const leaves = [];
const walk = (o, p) => {
  for (const [k, v] of Object.entries(o)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) walk(v, p ? `${p}.${k}` : k);
    else leaves.push([p ? `${p}.${k}` : k, v]);
  }
};
walk(defaults, '');
const nest = (key, yaml) => key.split('.').reverse().reduce((acc, k) => `{${k}: ${acc}}`, yaml);
for (const [key, v] of leaves) {
  const wrong = typeof v === 'number' ? '"many"' : typeof v === 'boolean' ? '[1, 2]' : typeof v === 'string' ? '{a: 1}' : Array.isArray(v) ? '7' : '{a: 1}';
  // One key with a wrong type, in flow style under its path: `a: {b: {c: "many"}}`.
  add('config file', `${key}: ${wrong}`, () => ['train', '--config', input('wrong.yaml', `${nest(key, wrong).slice(1, -1)}\n`), '--runs-dir', runs]);
}

// --set strings.
const sets = [
  'model.timesteps=0', 'model.timesteps=-2', 'model.timesteps=1.5', 'model.timesteps=abc', 'model.timesteps=[1', 'train.epochs=0',
  'train.optimizer.lr=-1', 'train.optimizer.lr=0', 'data.batchSize=0', 'data.batchSize=1e12', 'quant.bits=3', 'seed=-1', 'seed=1e20',
  'model.preset=resnet1000', 'backend=tpu', 'model.neuron.type=hh', 'loss.mode=magic', 'data.augment=[spin]', 'name=a/b', 'name=',
  'nokey', '=1', 'a..b=1', '.a=1', '__proto__.x=1', 'constructor.prototype.x=1', 'model.timestep=4', 'model=1', 'model.timesteps.x=1',
  'data.synthetic.noise=-1', 'train.schedule.name=linear', 'train.evalEvery=0', 'model.neuron.tau=0', 'data.cropPadding=-1',
  `model=${'['.repeat(3000)}${']'.repeat(3000)}`, 'train.gradClip=-3', 'loss.kd.alpha=2', 'data.dataset=imagenet',
];
for (const s of sets) add('--set string', s.length > 60 ? `${s.slice(0, 40)}… (${s.length} chars)` : s, () => ['train', '--config', tinyCfg, '--set', s, '--runs-dir', runs]);

// Command-line paths and flags.
const fifo = join(inputs, 'fifo.yaml');
spawnSync('mkfifo', [fifo]);
const loop = join(inputs, 'loop.yaml');
symlinkSync(loop, loop);
const paths = [
  ['--runs-dir /proc/x', ['train', '--config', tinyCfg, '--runs-dir', '/proc/x']],
  ['--runs-dir /sys/x', ['train', '--config', tinyCfg, '--runs-dir', '/sys/x']],
  ['--runs-dir a file', ['train', '--config', tinyCfg, '--runs-dir', tinyCfg]],
  ['--runs-dir under a file', ['train', '--config', tinyCfg, '--runs-dir', join(tinyCfg, 'runs')]],
  ['--runs-dir /dev/null', ['train', '--config', tinyCfg, '--runs-dir', '/dev/null']],
  ['--runs-dir 4000 chars', ['train', '--config', tinyCfg, '--runs-dir', `/tmp/${'d'.repeat(4000)}`]],
  ['--name .', ['train', '--config', tinyCfg, '--name', '.', '--runs-dir', runs]],
  ['--name ..', ['train', '--config', tinyCfg, '--name', '..', '--runs-dir', runs]],
  ['--name .hidden', ['train', '--config', tinyCfg, '--name', '.hidden', '--runs-dir', runs]],
  ['--name -x', ['train', '--config', tinyCfg, '--name', '-x', '--runs-dir', runs]],
  ['--name a/b', ['train', '--config', tinyCfg, '--name', 'a/b', '--runs-dir', runs]],
  ['--name ../escape', ['train', '--config', tinyCfg, '--name', '../escape', '--runs-dir', runs]],
  ['--name 300 chars', ['train', '--config', tinyCfg, '--name', 'n'.repeat(300), '--runs-dir', runs]],
  ['--name with a newline', ['train', '--config', tinyCfg, '--name', 'a\nb', '--runs-dir', runs]],
  ['--name é', ['train', '--config', tinyCfg, '--name', 'é', '--runs-dir', runs]],
  ['--config /dev/zero', ['train', '--config', '/dev/zero', '--runs-dir', runs]],
  ['--config /dev/urandom', ['train', '--config', '/dev/urandom', '--runs-dir', runs]],
  ['--config a FIFO', ['train', '--config', fifo, '--runs-dir', runs]],
  ['--config a folder', ['train', '--config', inputs, '--runs-dir', runs]],
  ['--config a symlink loop', ['train', '--config', loop, '--runs-dir', runs]],
  ['--config missing', ['train', '--config', join(inputs, 'nope.yaml'), '--runs-dir', runs]],
  ['--config 2 MiB', ['train', '--config', input('big.yaml', `# ${'x'.repeat(2 << 20)}\n`), '--runs-dir', runs]],
  ['--config binary garbage', ['train', '--config', input('bin.yaml', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256))), '--runs-dir', runs]],
  ['--config a list', ['train', '--config', input('list.yaml', '- 1\n- 2\n'), '--runs-dir', runs]],
  ['--config alias bomb', ['train', '--config', input('bomb.yaml', `a: &a [x,x,x,x,x,x,x,x,x]\n${Array.from({ length: 12 }, (_, i) => `b${i}: &b${i} [*${i ? `b${i - 1}` : 'a'},*${i ? `b${i - 1}` : 'a'},*${i ? `b${i - 1}` : 'a'},*${i ? `b${i - 1}` : 'a'}]`).join('\n')}\n`), '--runs-dir', runs]],
  ['--backend tpu', ['train', '--config', tinyCfg, '--backend', 'tpu', '--runs-dir', runs]],
  ['eval --timesteps 0', ['eval', 'x', '--timesteps', '0', '--runs-dir', runs]],
  ['eval --timesteps 1e9', ['eval', 'x', '--timesteps', '1e9', '--runs-dir', runs]],
  ['eval --timesteps abc', ['eval', 'x', '--timesteps', 'abc', '--runs-dir', runs]],
  ['eval --split valid', ['eval', 'x', '--split', 'valid', '--runs-dir', runs]],
  ['eval --checkpoint first', ['eval', 'x', '--checkpoint', 'first', '--runs-dir', runs]],
  ['eval a run that does not exist', ['eval', 'no-such-run', '--runs-dir', runs]],
  ['eval latest with no runs', ['eval', 'latest', '--runs-dir', join(work, 'empty-runs')]],
  ['eval a folder that is no run', ['eval', inputs, '--runs-dir', runs]],
  ['train --resume a missing run', ['train', '--resume', 'no-such-run', '--runs-dir', runs]],
  ['train --resume latest, no runs', ['train', '--resume', 'latest', '--runs-dir', join(work, 'empty-runs')]],
  ['train with neither --config nor --resume', ['train', '--runs-dir', runs]],
  ['eval --exported a missing folder', ['eval', '--exported', join(inputs, 'nope')]],
  ['eval --exported a NIR-less empty folder', ['eval', '--exported', inputs]],
  ['export --format onnx', ['export', base, '--format', 'onnx', '--out', join(work, 'x-onnx')]],
];
for (const [label, args] of paths) add('command line', label, () => args);

// Data files: the committed corpus, and generated ones.
for (const d of readdirSync(join(repo, 'test', 'fixtures', 'bad-data')).filter((x) => existsSync(join(repo, 'test', 'fixtures', 'bad-data', x, 'case.yaml')))) {
  add('data file', `fixture ${d}`, () => ['train', '--config', join(repo, 'test', 'fixtures', 'bad-data', d, 'case.yaml'), '--runs-dir', runs]);
}
const idx = (dims, data) => {
  const b = Buffer.alloc(4 + 4 * dims.length + data.length);
  b[2] = 8;
  b[3] = dims.length;
  dims.forEach((x, i) => b.writeUInt32BE(x, 4 + 4 * i));
  Buffer.from(data).copy(b, 4 + 4 * dims.length);
  return b;
};
const mnistDir = (label, mutate) => {
  const d = join(inputs, `mnist-${n++}-${label.replace(/\W+/g, '-')}`);
  mkdirSync(d);
  const files = {
    'train-images-idx3-ubyte': idx([20, 8, 8], new Uint8Array(1280)),
    'train-labels-idx1-ubyte': idx([20], new Uint8Array(20)),
    't10k-images-idx3-ubyte': idx([10, 8, 8], new Uint8Array(640)),
    't10k-labels-idx1-ubyte': idx([10], new Uint8Array(10)),
  };
  for (const [f, b] of Object.entries(files)) writeFileSync(join(d, f), b);
  mutate(d, files);
  return ['train', '--config', input('data.yaml', `data: {dataset: mnist, root: ${d}, batchSize: 4}\nmodel: {preset: tiny, widths: [4, 8], timesteps: 1}\ntrain: {epochs: 1}\nbackend: wasm\n`), '--runs-dir', runs];
};
const bomb = () => {
  const member = gzipSync(Buffer.alloc(64 << 20), { level: 9 });
  return Buffer.concat([gzipSync(idx([600, 28, 28], new Uint8Array(600 * 784))), ...Array.from({ length: 48 }, () => member)]);
};
const dataCases = [
  ['gzip bomb: 600 images promised, 3 GiB inflated', (d) => { rmSync(join(d, 'train-images-idx3-ubyte')); writeFileSync(join(d, 'train-images-idx3-ubyte.gz'), bomb()); }],
  ['labels file with an images header', (d, f) => { const b = Buffer.from(f['train-labels-idx1-ubyte']); b[3] = 3; writeFileSync(join(d, 'train-labels-idx1-ubyte'), b); }],
  ['images file with a labels header', (d, f) => { const b = Buffer.from(f['t10k-images-idx3-ubyte']); b[3] = 1; writeFileSync(join(d, 't10k-images-idx3-ubyte'), b); }],
  ['header promising 4e9 images', (d, f) => { const b = Buffer.from(f['train-images-idx3-ubyte']); b.writeUInt32BE(4e9, 4); writeFileSync(join(d, 'train-images-idx3-ubyte'), b); }],
  ['images file a symlink to /dev/zero', (d) => { rmSync(join(d, 'train-images-idx3-ubyte')); symlinkSync('/dev/zero', join(d, 'train-images-idx3-ubyte')); }],
  ['labels file a FIFO', (d) => { rmSync(join(d, 't10k-labels-idx1-ubyte')); spawnSync('mkfifo', [join(d, 't10k-labels-idx1-ubyte')]); }],
  ['labels file a folder', (d) => { rmSync(join(d, 't10k-labels-idx1-ubyte')); mkdirSync(join(d, 't10k-labels-idx1-ubyte')); }],
  ['gzip of a truncated images file', (d, f) => { rmSync(join(d, 'train-images-idx3-ubyte')); writeFileSync(join(d, 'train-images-idx3-ubyte.gz'), gzipSync(f['train-images-idx3-ubyte'].subarray(0, 500))); }],
  ['gzip cut off', (d, f) => { rmSync(join(d, 'train-images-idx3-ubyte')); const g = gzipSync(f['train-images-idx3-ubyte']); writeFileSync(join(d, 'train-images-idx3-ubyte.gz'), g.subarray(0, g.length - 9)); }],
  ['gzip magic, garbage after', (d) => writeFileSync(join(d, 'train-labels-idx1-ubyte'), Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8]))],
  ['label 200 of 10 classes', (d) => writeFileSync(join(d, 't10k-labels-idx1-ubyte'), idx([10], new Uint8Array(10).fill(200)))],
  ['image sizes differ between splits', (d) => writeFileSync(join(d, 't10k-images-idx3-ubyte'), idx([10, 9, 9], new Uint8Array(810)))],
  ['0 images', (d) => { writeFileSync(join(d, 'train-images-idx3-ubyte'), idx([0, 8, 8], new Uint8Array(0))); writeFileSync(join(d, 'train-labels-idx1-ubyte'), idx([0], new Uint8Array(0))); }],
];
for (const [label, mutate] of dataCases) add('data file', label, () => mnistDir(label, mutate));
const cifarDir = (label, extra) => {
  const d = join(inputs, `cifar-${n++}`);
  mkdirSync(d);
  writeFileSync(join(d, 'train.bin'), Buffer.concat([Buffer.alloc(2 * 3074), Buffer.alloc(extra)]));
  writeFileSync(join(d, 'test.bin'), Buffer.alloc(3074));
  return ['train', '--config', input('c.yaml', `data: {dataset: cifar100, root: ${d}, batchSize: 1}\nmodel: {preset: tiny, widths: [4, 8], timesteps: 1}\nbackend: wasm\n`), '--runs-dir', runs];
};
for (const extra of [1, 5, 3073]) add('data file', `CIFAR-100 file with ${extra} bytes appended`, () => cifarDir('x', extra));

// A run folder's config.yaml, edited or damaged after training: eval and resume.
const cfgHarms = [
  ['timesteps 2 → 3', (t) => t.replace('timesteps: 2', 'timesteps: 3')],
  ['tau 2 → 3', (t) => t.replace(/tau: 2\b/, 'tau: 3')],
  ['lr edited', (t) => t.replace('lr: 0.01', 'lr: 0.02')],
  ['epochs 2 → 8', (t) => t.replace('epochs: 2', 'epochs: 8')],
  ['seed edited', (t) => t.replace('seed: 5', 'seed: 6')],
  ['a comment added', (t) => `# note\n${t}`],
  ['a trailing space', (t) => `${t} `],
  ['CRLF line ends', (t) => t.replace(/\n/g, '\r\n')],
  ['truncated to 10 bytes', (t) => t.slice(0, 10)],
  ['truncated to a third', (t) => t.slice(0, Math.floor(t.length / 3))],
  ['truncated to two thirds', (t) => t.slice(0, Math.floor((2 * t.length) / 3))],
  ['last line cut', (t) => t.slice(0, t.length - 5)],
  ['emptied', () => ''],
  ['garbage', () => '{{{{ ::: ]]'],
  ['binary', () => Buffer.from([0, 1, 2, 255, 254]).toString('latin1')],
  ['a list', () => '- 1\n'],
];
for (const [label, harm] of cfgHarms) {
  for (const cmd of ['eval', 'resume']) {
    add('run config.yaml', `${label} (${cmd})`, () => {
      const r = runCopy();
      writeFileSync(join(r, 'config.yaml'), harm(readFileSync(join(r, 'config.yaml'), 'utf8')));
      return { target: r, args: cmd === 'eval' ? ['eval', r] : ['train', '--resume', r, '--set', 'train.epochs=3'] };
    });
  }
}
for (const [label, harm] of [
  ['a symlink to /dev/zero', (p) => { rmSync(p); symlinkSync('/dev/zero', p); }],
  ['a FIFO', (p) => { rmSync(p); spawnSync('mkfifo', [p]); }],
]) {
  for (const cmd of ['eval', 'resume']) {
    add('run config.yaml', `${label} (${cmd})`, () => {
      const r = runCopy();
      harm(join(r, 'config.yaml'));
      return { target: r, args: cmd === 'eval' ? ['eval', r] : ['train', '--resume', r] };
    });
  }
}

// Resume overrides no checkpoint can take: a changed valid value for keys outside RESUME_SETTABLE.
const settable = ['train.epochs', 'train.evalEvery', 'train.optimizer.lr', 'train.optimizer.weightDecay', 'train.gradClip', 'train.onNonFinite', 'data.root', 'data.testBatchSize', 'data.cache', 'backend'];
const changedValue = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? v + 1 : v / 2) : typeof v === 'boolean' ? !v : null);
for (const [key, v] of leaves) {
  if (settable.includes(key) || key.startsWith('train.schedule.') || key.startsWith('data.dvs.')) continue;
  const to = changedValue(v);
  if (to === null) continue;
  add('resume override', `--set ${key}=${to}`, () => {
    const r = runCopy();
    return { target: r, args: ['train', '--resume', r, '--set', `${key}=${to}`] };
  });
}
for (const s of ['model.preset=resnet20', 'model.arch=danet', 'name=other', 'data.dataset=mnist', 'model.widths=[8,16]', 'data.augment=[flip]', 'train.optimizer.name=sgd', 'loss.mode=tna', 'train.epochs=1']) {
  add('resume override', `--set ${s}`, () => {
    const r = runCopy();
    return { target: r, args: ['train', '--resume', r, '--set', s] };
  });
}

// Checkpoints with recomputed checksums.
const outsideBin = REPORT_ONLY ? '' : input('outside.bin', readFileSync(join(base, 'checkpoints', 'epoch-0002', 'weights.bin')));
const ckHarms = [
  ['model.json path ../../outside', (c) => editJson(join(c, 'model.json'), (j) => (j.weightsManifest[0].paths = ['../../../../inputs/outside.bin']))],
  ['model.json absolute path', (c) => editJson(join(c, 'model.json'), (j) => (j.weightsManifest[0].paths = [outsideBin]))],
  ['model.json path ../../dev/zero', (c) => editJson(join(c, 'model.json'), (j) => (j.weightsManifest[0].paths = ['../../../../../../../dev/zero']))],
  ['optimizer.json path escape', (c) => editJson(join(c, 'optimizer.json'), (j) => (j.weightsManifest[0].paths = ['../epoch-0001/optimizer.bin']))],
  ['weights.bin a symlink out', (c) => { rmSync(join(c, 'weights.bin')); symlinkSync(outsideBin, join(c, 'weights.bin')); }],
  ['weights.bin a symlink to /dev/zero', (c) => { rmSync(join(c, 'weights.bin')); symlinkSync('/dev/zero', join(c, 'weights.bin')); }],
  ['state.json a symlink to /dev/zero', (c) => { rmSync(join(c, 'state.json')); symlinkSync('/dev/zero', join(c, 'state.json')); }],
  ['checksums.json a symlink to /dev/zero', (c) => { rmSync(join(c, 'checksums.json')); symlinkSync('/dev/zero', join(c, 'checksums.json')); }],
  ['a negative shape', (c) => editJson(join(c, 'model.json'), (j) => (j.weightsManifest[0].weights[0].shape = [-3, 4]))],
  ['a fractional shape', (c) => editJson(join(c, 'model.json'), (j) => (j.weightsManifest[0].weights[0].shape = [1.5, 4]))],
  ['a huge shape', (c) => editJson(join(c, 'model.json'), (j) => (j.weightsManifest[0].weights[0].shape = [1e6, 1e6]))],
  ['shapes one value short', (c) => editJson(join(c, 'model.json'), (j) => { const s = j.weightsManifest[0].weights[0].shape; s[s.length - 1] -= 1; })],
  ['dtype int32', (c) => editJson(join(c, 'model.json'), (j) => (j.weightsManifest[0].weights[0].dtype = 'int32'))],
  ['no weightsManifest', (c) => editJson(join(c, 'model.json'), (j) => delete j.weightsManifest)],
  ['two path entries', (c) => editJson(join(c, 'model.json'), (j) => (j.weightsManifest[0].paths = ['weights.bin', 'weights.bin']))],
  ['state epoch "abc"', (c) => editJson(join(c, 'state.json'), (j) => (j.epoch = 'abc'))],
  ['state epoch -1', (c) => editJson(join(c, 'state.json'), (j) => (j.epoch = -1))],
  ['state epoch 1e9', (c) => editJson(join(c, 'state.json'), (j) => (j.epoch = 1e9))],
  ['state step -5', (c) => editJson(join(c, 'state.json'), (j) => (j.step = -5))],
  ['state step 2.5', (c) => editJson(join(c, 'state.json'), (j) => (j.step = 2.5))],
  ['state rng of 3 words', (c) => editJson(join(c, 'state.json'), (j) => (j.rng = [1, 2, 3]))],
  ['state rng word 2^40', (c) => editJson(join(c, 'state.json'), (j) => (j.rng[0] = 2 ** 40))],
  ['state batch -1', (c) => editJson(join(c, 'state.json'), (j) => (j.batch = -1))],
  ['state bestEpoch after epoch', (c) => editJson(join(c, 'state.json'), (j) => (j.bestEpoch = 9))],
  ['state bestAccuracy 7', (c) => editJson(join(c, 'state.json'), (j) => (j.bestAccuracy = 7))],
  ['state partial.correct > seen', (c) => editJson(join(c, 'state.json'), (j) => (j.partial = { lossSum: 0, correct: 5, seen: 1 }))],
  ['state without partial', (c) => editJson(join(c, 'state.json'), (j) => delete j.partial)],
  ['state seconds -1', (c) => editJson(join(c, 'state.json'), (j) => (j.seconds = -1))],
  ['state configSha256 not hex', (c) => editJson(join(c, 'state.json'), (j) => (j.configSha256 = 'zz'))],
  ['state.json an array', (c) => writeFileSync(join(c, 'state.json'), '[]')],
  ['checksums.json naming ../x', (c) => editJson(join(c, 'checksums.json'), (j) => (j.sha256['../x'] = 'a'.repeat(64)))],
];
for (const [label, harm] of ckHarms) {
  for (const cmd of ['eval', 'resume']) {
    add('checkpoint (checksums recomputed)', `${label} (${cmd})`, () => {
      const r = runCopy();
      // Both checkpoints damaged alike, so resume cannot fall back to prev.
      for (const t of ['epoch-0001', 'epoch-0002']) {
        harm(join(r, 'checkpoints', t));
        recompute(join(r, 'checkpoints', t));
      }
      return { target: r, args: cmd === 'eval' ? ['eval', r, '--checkpoint', 'last'] : ['train', '--resume', r, '--set', 'train.epochs=3'] };
    });
  }
}
for (const [label, to] of [['last → ../../etc', '../../etc'], ['last → /', '/'], ['last → a file', 'epoch-0002/weights.bin']]) {
  add('checkpoint (checksums recomputed)', `link ${label} (eval)`, () => {
    const r = runCopy();
    for (const l of ['last', 'prev', 'best']) rmSync(join(r, 'checkpoints', l));
    for (const t of ['epoch-0001', 'epoch-0002']) rmSync(join(r, 'checkpoints', t), { recursive: true });
    symlinkSync(to, join(r, 'checkpoints', 'last'));
    return { target: r, args: ['eval', r, '--checkpoint', 'last'] };
  });
}

// Export manifests.
const conv = (j) => j.nodes.find((x) => x.op === 'conv');
const lin = (j) => j.nodes.find((x) => x.op === 'linear');
const manHarms = [
  ['stride 0', (j) => (conv(j).stride = 0)], ['stride -1', (j) => (conv(j).stride = -1)], ['stride 1e9', (j) => (conv(j).stride = 1e9)],
  ['stride "2"', (j) => (conv(j).stride = '2')], ['pad -1', (j) => (conv(j).pad = -1)], ['pad 1.5', (j) => (conv(j).pad = 1.5)],
  ['kernel 0', (j) => (conv(j).kernel = 0)], ['kernel 1e6', (j) => (conv(j).kernel = 1e6)], ['timesteps 1e9', (j) => (j.timesteps = 1e9)],
  ['timesteps 0', (j) => (j.timesteps = 0)], ['timesteps -4', (j) => (j.timesteps = -4)], ['timesteps "4"', (j) => (j.timesteps = '4')],
  ['binary.file ../../../../etc/passwd', (j) => (j.binary.file = '../../../../etc/passwd')], ['binary.file absolute', (j) => (j.binary.file = '/etc/passwd')],
  ['binary.file missing', (j) => delete j.binary.file], ['binary.bytes -1', (j) => (j.binary.bytes = -1)], ['binary.bytes + 4', (j) => (j.binary.bytes += 4)],
  ['binary.sha256 short', (j) => (j.binary.sha256 = 'abc')], ['weights.bytes -8', (j) => (conv(j).weights.bytes = -8)],
  ['weights.offset past the end', (j) => (conv(j).weights.offset = j.binary.bytes + 100)], ['weights.count wrong', (j) => (conv(j).weights.count += 1)],
  ['bias.offset negative', (j) => (conv(j).bias.offset = -4)], ['weights.encoding int4', (j) => (conv(j).weights.encoding = 'int4')],
  ['inChannels 0', (j) => (conv(j).inChannels = 0)], ['outChannels 1e9', (j) => (conv(j).outChannels = 1e9)], ['linear inFeatures wrong', (j) => (lin(j).inFeatures += 1)],
  ['input from nowhere', (j) => (conv(j).inputs = ['nowhere'])], ['output missing', (j) => (j.output = 'nowhere')], ['a duplicate id', (j) => (j.nodes[1].id = j.nodes[0].id)],
  ['an unknown op', (j) => (j.nodes[1].op = 'softmax')], ['no nodes', (j) => (j.nodes = [])], ['nodes not a list', (j) => (j.nodes = {})],
  ['format other', (j) => (j.format = 'onnx')], ['formatVersion 9', (j) => (j.formatVersion = 9)], ['input.std 0', (j) => (j.input.std = [0])],
  ['input.height -1', (j) => (j.input.height = -1)], ['numClasses 0', (j) => (j.numClasses = 0)], ['neuron decay 5', (j) => (j.nodes.find((x) => x.op === 'neuron').neuron.decay = 5)],
];
for (const f of ['kernel', 'stride', 'pad', 'inShape', 'weights', 'bias', 'inChannels', 'precision', 'id', 'inputs', 'shape']) manHarms.push([`conv ${f} missing`, (j) => delete conv(j)[f]]);
for (const f of ['input', 'numClasses', 'timesteps', 'output', 'nodes', 'binary']) manHarms.push([`${f} missing`, (j) => delete j[f]]);
for (const [label, harm] of manHarms) {
  add('export manifest', label, () => {
    const d = join(inputs, `export-${n++}`);
    cpSync(exported, d, { recursive: true });
    editJson(join(d, 'manifest.json'), harm);
    return ['eval', '--exported', d];
  });
}
add('export manifest', 'manifest.json not JSON', () => {
  const d = join(inputs, `export-${n++}`);
  cpSync(exported, d, { recursive: true });
  writeFileSync(join(d, 'manifest.json'), '{"format": "snn-ex');
  return ['eval', '--exported', d];
});
add('export manifest', 'model.bin a symlink to /dev/zero', () => {
  const d = join(inputs, `export-${n++}`);
  cpSync(exported, d, { recursive: true });
  rmSync(join(d, 'model.bin'));
  symlinkSync('/dev/zero', join(d, 'model.bin'));
  return ['eval', '--exported', d];
});

// Fallbacks: the right thing is to go on, and say so in one line.
const fallbacks = [
  ['metrics.csv truncated (resume)', (r) => truncateSync(join(r, 'metrics.csv'), 40), (r) => ['train', '--resume', r, '--set', 'train.epochs=3']],
  ['metrics.csv deleted (resume)', (r) => rmSync(join(r, 'metrics.csv')), (r) => ['train', '--resume', r, '--set', 'train.epochs=3']],
  ['metrics.csv garbled (resume)', (r) => writeFileSync(join(r, 'metrics.csv'), 'x;y\n1;2\n'), (r) => ['train', '--resume', r, '--set', 'train.epochs=3']],
  ['best dangling (eval)', (r) => { rmSync(join(r, 'checkpoints', 'best')); symlinkSync('epoch-0009', join(r, 'checkpoints', 'best')); }, (r) => ['eval', r]],
  ['links gone (eval)', (r) => { for (const l of ['last', 'prev', 'best']) rmSync(join(r, 'checkpoints', l)); }, (r) => ['eval', r]],
  ['links gone (resume)', (r) => { for (const l of ['last', 'prev', 'best']) rmSync(join(r, 'checkpoints', l)); }, (r) => ['train', '--resume', r, '--set', 'train.epochs=3']],
  ['checkpoints/last damaged (resume)', (r) => truncateSync(join(r, 'checkpoints', 'epoch-0002', 'weights.bin'), 10), (r) => ['train', '--resume', r, '--set', 'train.epochs=3']],
];
for (const [label, harm, args] of fallbacks) {
  add('fallback (exit 0, one warning)', label, () => {
    const r = runCopy();
    harm(r);
    return { target: r, args: args(r), mayChange: true };
  }, 'warn');
}

// ---- running them ------------------------------------------------------------------------
function snap(dir, skip) {
  const out = [];
  const walk2 = (d) => {
    let names = [];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const x of names.sort()) {
      const p = join(d, x);
      if (p === skip) continue;
      let s;
      try {
        s = lstatSync(p, { throwIfNoEntry: false }) ?? null; // a link is not followed: it may lead to /
      } catch {
        s = null;
      }
      if (s?.isDirectory()) walk2(p);
      else out.push(`${p}:${s ? `${s.size}:${s.mtimeMs}` : 'link'}`);
    }
  };
  walk2(dir);
  return out.join('\n');
}

/**
 * Runs `snn args` as a process (60 s limit) when the case could hang or exhaust memory in the
 * old code (FIFOs, devices, /proc, symbolic links out), else through the CLI's main() in this
 * process: the same code bin/snn runs, without a second of start-up per case.
 */
const { main } = await import(join(repo, 'dist', 'src', 'cli', 'main.js'));
let inProcess = Promise.resolve();
function runCase(args, proc) {
  if (proc) return runProcess(args);
  // One at a time: stderr, stdout and the working folder are the process's own.
  const run = inProcess.then(() => runHere(args));
  inProcess = run.catch(() => {});
  return run;
}
async function runHere(args) {
  const full = [...args, ...(args[0] === 'train' ? ['--quiet'] : [])];
  {
    const writes = { out: process.stdout.write, err: process.stderr.write };
    const listeners = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
    let stderr = '';
    process.stdout.write = () => true;
    process.stderr.write = (chunk) => {
      stderr += String(chunk);
      return true;
    };
    const here = process.cwd();
    process.chdir(cwd);
    try {
      const code = await main(['node', 'snn', ...full]);
      return { code, signal: null, stderr };
    } catch (e) {
      return { code: -1, signal: null, stderr: `${stderr}uncaught: ${e.message}\n` };
    } finally {
      process.chdir(here);
      process.stdout.write = writes.out;
      process.stderr.write = writes.err;
      process.exitCode = undefined;
      for (const sig of ['SIGINT', 'SIGTERM']) for (const l of process.listeners(sig)) if (!listeners[sig].includes(l)) process.off(sig, l);
    }
  }
}
function runProcess(args) {
  const full = [...args, ...(args[0] === 'train' ? ['--quiet'] : [])];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SNN, ...full], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}
const HANGS = /proc|sys\/x|\/dev\/|FIFO|symlink|bomb|a folder|urandom/i;

const selected = REPORT_ONLY ? [] : cases.filter((c) => !ONLY || c.category === ONLY);
const results = REPORT_ONLY ? JSON.parse(readFileSync(join(repo, 'experiments', 'results', 'red-team.json'), 'utf8')) : [];
let next = 0;
async function worker() {
  while (next < selected.length) {
    const c = selected[next++];
    let made;
    try {
      made = c.make();
    } catch (e) {
      results.push({ category: c.category, label: c.label, ok: false, why: `could not prepare: ${e.message}` });
      continue;
    }
    const { args, target, mayChange } = Array.isArray(made) ? { args: made } : made;
    const outside = snap(work, runs);
    const before = target ? snap(target) : null;
    const r = await runCase(args, HANGS.test(c.label));
    const lines = r.stderr.split('\n').filter((l) => l.length > 0);
    const problems = [];
    if (c.expect === 2 && r.code !== 2) problems.push(`exit ${r.code}${r.signal ? ` (${r.signal})` : ''}`);
    if (c.expect === 'warn' && r.code !== 0) problems.push(`exit ${r.code}`);
    if (lines.length !== 1) problems.push(`${lines.length} stderr lines`);
    if (c.expect === 'warn' && lines.length === 1 && !lines[0].startsWith('snn: warning: ')) problems.push('not a warning');
    if (snap(work, runs) !== outside) problems.push('wrote outside the runs folder');
    if (target && !mayChange && snap(target) !== before) problems.push('changed the run');
    if (c.expect === 2 && existsSync(runs) && readdirSync(runs).some((d) => !/-000000-\d{6}$/.test(d))) problems.push('made a run folder');
    results.push({ category: c.category, label: c.label, ok: problems.length === 0, why: problems.join(', '), line: lines[0]?.slice(0, 300) ?? '' });
    if (target) rmSync(target, { recursive: true, force: true });
    for (const d of existsSync(runs) ? readdirSync(runs) : []) if (!/-000000-\d{6}$/.test(d)) rmSync(join(runs, d), { recursive: true, force: true });
    writeSync(2, `${results.length}/${selected.length} ${problems.length ? 'FAIL' : 'ok  '} ${c.category}: ${c.label}${problems.length ? ` (${problems.join(', ')})` : ''}\n`);
  }
}
await Promise.all(Array.from({ length: JOBS }, worker));
mkdirSync(join(repo, 'experiments', 'results'), { recursive: true });
if (!REPORT_ONLY) writeFileSync(join(repo, 'experiments', 'results', 'red-team.json'), `${JSON.stringify(results, null, 1)}\n`);

// ---- the report --------------------------------------------------------------------------
const cats = [...new Set(results.map((r) => r.category))];
const esc = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const exit2 = results.filter((r) => r.category !== 'fallback (exit 0, one warning)');
const md = [
  '# Red team: bad inputs and kills',
  '',
  'Generated by `node experiments/red-team.mjs` (bad inputs) and `node experiments/red-team-kills.mjs` (kills); do not edit by hand.',
  `Each bad input runs \`snn\` through the CLI's main() in the script's process (the code bin/snn runs), or, where the input could hang or exhaust memory (FIFOs, devices, /proc, links out, the gzip bomb), as a process of its own with a 60 s limit. Each must exit 2 with exactly one line on stderr, write nothing outside the runs folder, create no run folder and leave the run it names as it was. Fallbacks must exit 0 with one \`snn: warning:\` line.`,
  '',
  `## Bad inputs: ${exit2.filter((r) => r.ok).length} of ${exit2.length} as required (+ ${results.length - exit2.length} fallbacks)`,
  '',
  '| category | cases | as required | failed |',
  '|---|---|---|---|',
  ...cats.map((c) => {
    const rs = results.filter((r) => r.category === c);
    const bad = rs.filter((r) => !r.ok);
    return `| ${c} | ${rs.length} | ${rs.length - bad.length} | ${bad.length ? bad.map((b) => `${esc(b.label)}: ${esc(b.why)}`).join('; ') : ''} |`;
  }),
  '',
];
const killsFile = join(repo, 'experiments', 'results', 'red-team-kills.json');
if (existsSync(killsFile)) {
  const k = JSON.parse(readFileSync(killsFile, 'utf8')).kills;
  const killed = k.filter((x) => x.killed);
  const same = killed.filter((x) => x.identical === true && x.leftovers.length === 0);
  md.push(
    `## Kills: ${same.length} of ${killed.length} SIGKILLed runs resumed bit-identical`,
    '',
    'SIGKILL at a test-hook point (a step, a stage of a checkpoint write) or at a random delay after the first step, then `snn train --resume` to the end: weights, optimizer state and metrics (less timing) compared with an uninterrupted run; no temporary may be left in `checkpoints/`.',
    '',
    '| kill point | killed | resume exit | bit-identical | leftovers |',
    '|---|---|---|---|---|',
    ...k.map((x) => `| ${x.kind === 'hook' ? `hook: ${esc(x.label)}` : `random: ${esc(x.label)}`} | ${x.killed ? 'yes' : 'no'} | ${x.resumed ?? '-'} | ${x.identical === null ? '- (the process ended before the kill point, no run folder: a start-up failure, its exit code not recorded)' : x.identical ? 'yes' : 'NO'} | ${x.leftovers?.length ? esc(x.leftovers.join(' ')) : ''} |`),
    '',
  );
}
md.push('## Every bad input', '', '| category | input | first stderr line |', '|---|---|---|');
for (const r of results) md.push(`| ${r.category} | ${esc(r.label)}${r.ok ? '' : ` **(${esc(r.why)})**`} | ${esc(r.line.replace(/\/tmp\/snn-redteam-[A-Za-z0-9]+/g, '…'))} |`);
writeFileSync(join(repo, 'docs', 'red-team.md'), `${md.join('\n')}\n`);
process.stderr.write(`${results.filter((r) => r.ok).length}/${results.length} as required; docs/red-team.md written\n`);
rmSync(work, { recursive: true, force: true });
