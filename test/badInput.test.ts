/**
 * Bad input to `snn train` / `snn eval`: each case must exit with code 2, print one line that
 * names the problem, and leave the runs folder exactly as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { repoRoot, runCli, snapshot, tempDir } from './helpers.js';

const work = tempDir('bad');
const runs = join(work, 'runs');
mkdirSync(join(runs, 'earlier-run'), { recursive: true });
writeFileSync(join(runs, 'earlier-run', 'config.yaml'), 'name: earlier\n');
const cfg = (name: string, text: string): string => {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
};

// A Fashion-MNIST folder whose training images file is cut short.
const truncated = join(work, 'truncated-fmnist');
mkdirSync(truncated);
const subset = join(repoRoot, 'datasets', 'fashion-mnist-subset');
for (const f of ['train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) {
  writeFileSync(join(truncated, f), readFileSync(join(subset, f)));
}
const images = gunzipSync(readFileSync(join(subset, 'train-images-idx3-ubyte.gz')));
writeFileSync(join(truncated, 'train-images-idx3-ubyte.gz'), gzipSync(images.subarray(0, 5000)));

const cases: { label: string; args: string[]; expect: RegExp }[] = [
  { label: 'missing config', args: ['--config', join(work, 'nope.yaml')], expect: /config file not found: .*nope\.yaml/ },
  { label: 'YAML syntax error', args: ['--config', cfg('syntax.yaml', 'model: {timesteps: 4\n')], expect: /syntax\.yaml:\d+:\d+: YAML syntax error/ },
  { label: 'unknown key', args: ['--config', cfg('unknown.yaml', 'model:\n  timestep: 4\n')], expect: /unknown key 'model\.timestep'/ },
  { label: 'wrong type', args: ['--config', cfg('type.yaml', 'train:\n  epochs: ten\n')], expect: /train\.epochs: expected number/ },
  { label: 'unknown preset', args: ['--config', cfg('preset.yaml', 'model:\n  preset: resnet1000\n')], expect: /model\.preset: must be one of/ },
  {
    label: 'missing data root',
    args: ['--config', cfg('root.yaml', `data:\n  root: ${join(work, 'no-such-folder')}\n`)],
    expect: /data\.root.*no-such-folder/,
  },
  {
    label: 'data root that is a file',
    args: ['--config', cfg('rootfile.yaml', `data:\n  root: ${join(truncated, 't10k-labels-idx1-ubyte.gz')}\n`)],
    expect: /data\.root: .*t10k-labels-idx1-ubyte\.gz is a file, not a folder/,
  },
  {
    label: 'truncated data file',
    args: ['--config', cfg('trunc.yaml', `data:\n  root: ${truncated}\n`)],
    expect: /train-images-idx3-ubyte\.gz.*truncated/,
  },
  { label: 'bad --set', args: ['--config', cfg('ok.yaml', ''), '--set', 'model.timesteps=-2'], expect: /model\.timesteps/ },
  { label: 'unknown backend flag value', args: ['--config', cfg('ok2.yaml', ''), '--backend', 'tpu'], expect: /--backend: 'tpu' is not one of/ },
];

for (const c of cases) {
  test(`train with ${c.label}: exit 2, one line naming it, runs/ untouched`, () => {
    const before = snapshot(runs);
    const r = runCli(['train', ...c.args, '--runs-dir', runs, '--quiet']);
    assert.equal(r.code, 2, `exit ${r.code}; stderr: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
    assert.match(lines[0], c.expect);
    assert.deepEqual(snapshot(runs), before);
  });
}

test('eval of a run that does not exist: exit 2, one line', () => {
  const r = runCli(['eval', 'no-such-run', '--runs-dir', runs]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr.trim(), /^snn: run not found: no-such-run/);
});

test('an unknown command or flag exits 2', () => {
  assert.equal(runCli(['trian']).code, 2);
  assert.equal(runCli(['train', '--no-such-flag']).code, 2);
});
