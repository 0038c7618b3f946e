/**
 * The bad input corpus: every config in test/fixtures/bad-configs/ and every data set in
 * test/fixtures/bad-data/ (built by its generate.mjs) is fed to `snn train`. Each must exit
 * with code 2, print exactly one line on stderr that contains the fragment its `# expect:`
 * comment names (the key path or file, and the problem), and leave runs/ as it was.
 *
 * The corpus runs through the CLI's `main()` in this process (the code bin/snn runs, minus
 * process.exit), since a process per case would cost a second of start-up each; a few cases
 * also run as real processes to check the exit code and stderr end to end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { snnInProcess } from './reliabilityKit.js';
import { fixture, repoRoot, runCli, snapshot, tempDir } from './helpers.js';

interface Case {
  file: string;
  what: string;
  expect: string;
}

function readCase(file: string): Case {
  const lines = readFileSync(file, 'utf8').split('\n');
  const expect = lines.find((l) => l.startsWith('# expect: '));
  assert.ok(expect, `${file} has no '# expect: ' line`);
  assert.ok(lines[0].startsWith('# ') && !lines[0].startsWith('# expect:'), `${file}: the first line should say what is wrong`);
  return { file, what: lines[0].slice(2), expect: expect.slice('# expect: '.length).trim() };
}

const configDir = fixture('bad-configs');
const dataDir = fixture('bad-data');
const configCases = readdirSync(configDir)
  .filter((n) => n.endsWith('.yaml'))
  .sort()
  .map((n) => readCase(join(configDir, n)));
const dataCases = readdirSync(dataDir)
  .filter((n) => statSync(join(dataDir, n)).isDirectory())
  .sort()
  .map((n) => readCase(join(dataDir, n, 'case.yaml')));

function runsWithAnEarlierRun(): string {
  const runs = join(tempDir('corpus'), 'runs');
  mkdirSync(join(runs, 'earlier-20260101-000000-abcdef', 'checkpoints'), { recursive: true });
  writeFileSync(join(runs, 'earlier-20260101-000000-abcdef', 'config.yaml'), 'name: earlier\n');
  return runs;
}

test('the corpus is big enough: at least 30 bad configs and 10 bad data sets', () => {
  assert.ok(configCases.length >= 30, `${configCases.length} bad configs`);
  assert.ok(dataCases.length >= 10, `${dataCases.length} bad data sets`);
});

for (const [kind, cases] of [['config', configCases], ['data', dataCases]] as const) {
  test(`every bad ${kind} (${cases.length}): exit 2, one stderr line naming it, runs/ untouched`, async () => {
    const runs = runsWithAnEarlierRun();
    const failures: string[] = [];
    for (const c of cases) {
      const before = snapshot(runs);
      const r = await snnInProcess(['train', '--config', c.file, '--runs-dir', runs, '--quiet']);
      const lines = r.stderr.split('\n').filter((l) => l.length > 0);
      const name = c.file.slice(repoRoot.length + 1);
      if (r.code !== 2) failures.push(`${name} (${c.what}): exit ${r.code}: ${r.stderr.trim()}`);
      else if (lines.length !== 1) failures.push(`${name}: ${lines.length} stderr lines:\n${r.stderr}`);
      else if (!lines[0].includes(c.expect)) failures.push(`${name}: '${lines[0]}' lacks '${c.expect}'`);
      else if (!lines[0].startsWith('snn: ')) failures.push(`${name}: '${lines[0]}' is not an snn message`);
      if (JSON.stringify(snapshot(runs)) !== JSON.stringify(before)) failures.push(`${name}: runs/ changed`);
    }
    assert.deepEqual(failures, []);
  });
}

test('as real processes too: a bad config, a bad data set and a bad --set exit 2 with one line', async () => {
  const runs = runsWithAnEarlierRun();
  const before = snapshot(runs);
  const picks: { args: string[]; expect: string }[] = [
    { args: ['--config', join(configDir, 'unknown-nested-key.yaml')], expect: "unknown key 'model.timestep'" },
    { args: ['--config', join(dataDir, 'idx-truncated', 'case.yaml')], expect: 'train-images-idx3-ubyte is truncated' },
    { args: ['--config', fixture('synthetic.yaml'), '--set', 'train.optimizer.lr=[0.1'], expect: '--set train.optimizer.lr' },
  ];
  for (const p of picks) {
    const r = runCli(['train', ...p.args, '--runs-dir', runs, '--quiet']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.ok(r.stderr.includes(p.expect), r.stderr);
    assert.equal(r.stdout, '');
  }
  assert.deepEqual(snapshot(runs), before);
});
