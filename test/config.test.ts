import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applySet, loadConfig, configToYaml, validateConfig } from '../src/config/load.js';
import { parse } from 'yaml';
import { UserError } from '../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'snn-config-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const fails = (fn: () => unknown, re: RegExp): void => {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'), 'error must be one line');
    return true;
  });
};

test('an empty config takes every default from the schema', () => {
  const c = loadConfig(file('empty.yaml', ''));
  assert.equal(c.model.timesteps, 4);
  assert.equal(c.model.neuron.tau, 2);
  assert.equal(c.model.neuron.surrogate.name, 'sigmoid');
  assert.equal(c.train.optimizer.name, 'sgd');
  assert.equal(c.data.dataset, 'fashion-mnist');
});

test('--set overrides nested keys, parsing values as YAML scalars', () => {
  const c = loadConfig(file('base.yaml', 'model:\n  timesteps: 2\n'), [
    'model.timesteps=8',
    'train.optimizer.lr=1e-3',
    'data.augment=[crop, flip]',
    'model.neuron.detachReset=false',
    'name=abc',
  ]);
  assert.equal(c.model.timesteps, 8);
  assert.equal(c.train.optimizer.lr, 0.001);
  assert.deepEqual(c.data.augment, ['crop', 'flip']);
  assert.equal(c.model.neuron.detachReset, false);
  assert.equal(c.name, 'abc');
});

test('unknown keys name their full key path', () => {
  fails(() => loadConfig(file('u.yaml', 'model:\n  neuron:\n    taux: 2\n')), /unknown key 'model\.neuron\.taux'/);
  fails(() => loadConfig(file('u2.yaml', 'trian: {}\n')), /unknown key 'trian'/);
  fails(() => loadConfig(file('u3.yaml', ''), ['model.foo=1']), /unknown key 'model\.foo'/);
});

test('wrong types and values name the key path', () => {
  fails(() => loadConfig(file('t.yaml', 'model:\n  timesteps: four\n')), /model\.timesteps: expected number/);
  fails(() => loadConfig(file('t2.yaml', 'model:\n  preset: resnet99\n')), /model\.preset: must be one of/);
  fails(() => loadConfig(file('t3.yaml', 'train:\n  epochs: -1\n')), /train\.epochs/);
  fails(() => loadConfig(file('t4.yaml', 'model:\n  neuron:\n    tau: 0.5\n')), /model\.neuron\.tau/);
  fails(() => loadConfig(file('t5.yaml', ''), ['model.timesteps=abc']), /model\.timesteps/);
});

test('YAML syntax errors and missing files are one-line errors naming the file', () => {
  fails(() => loadConfig(file('s.yaml', 'model: [1\n')), /s\.yaml:\d+:\d+: YAML syntax error/);
  fails(() => loadConfig(file('s2.yaml', 'a: 1\na: 2\n')), /s2\.yaml.*YAML syntax error/);
  fails(() => loadConfig(join(dir, 'missing.yaml')), /config file not found: .*missing\.yaml/);
  fails(() => loadConfig(file('s3.yaml', '- 1\n- 2\n')), /must be a YAML mapping/);
  fails(() => applySet({}, 'novalue'), /expected key\.path=value/);
});

test('the resolved config round-trips through YAML unchanged', () => {
  const c = loadConfig(file('r.yaml', 'seed: 7\nmodel: { timesteps: 3 }\n'));
  const again = validateConfig(parse(configToYaml(c)), 'resolved');
  assert.deepEqual(again, c);
});
