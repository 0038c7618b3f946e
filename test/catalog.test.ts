/**
 * The model registry as the one list of architectures and presets (src/models/catalog.ts): the
 * config accepts exactly its names, every architecture has a builder and every preset builds,
 * and `snn model --list` prints them all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ConfigSchema } from '../src/config/schema.js';
import { ARCH_NAMES, PRESET_NAMES } from '../src/models/catalog.js';
import { buildModel, listModels } from '../src/models/index.js';
import { createRng } from '../src/util/rng.js';
import { runCli } from './helpers.js';

await tf.setBackend('cpu');

test('the config accepts every catalogued architecture and preset and nothing else, naming the valid ones', () => {
  for (const arch of ARCH_NAMES) assert.equal(ConfigSchema.parse({ model: { arch, ...(arch === 'danet' ? { connection: 'da' } : {}) } }).model.arch, arch);
  for (const preset of PRESET_NAMES) assert.equal(ConfigSchema.parse({ model: { preset } }).model.preset, preset);
  const bad = ConfigSchema.safeParse({ model: { arch: 'vgg' } });
  assert.equal(bad.success, false);
  assert.match(JSON.stringify(bad.error?.issues), /spiking-resnet.*danet/);
  assert.equal(ConfigSchema.safeParse({ model: { preset: 'resnet21' } }).success, false);
});

test('every catalogued architecture has a builder, and each builds the tiny preset', () => {
  assert.deepEqual(listModels(), [...ARCH_NAMES].sort());
  for (const arch of ARCH_NAMES) {
    const cfg = ConfigSchema.parse({ model: { arch, preset: 'tiny', ...(arch === 'danet' ? { connection: 'da' } : {}) } });
    const model = buildModel(cfg.model, { height: 8, width: 8, channels: 1, numClasses: 2 }, createRng(1));
    assert.ok(model.params.size > 0, arch);
    model.dispose();
  }
});

test('snn model --list prints every architecture and preset; no config and no --list is a one-line error, exit 2', () => {
  const r = runCli(['model', '--list']);
  assert.equal(r.code, 0, r.stderr);
  for (const name of [...ARCH_NAMES, ...PRESET_NAMES]) assert.match(r.stdout, new RegExp(`^  ${name.replace('-', '\\-')} +\\S`, 'm'), name);
  assert.match(r.stdout, /^  resnet19 +cifar stem of 128, basic 3-3-2 of 128-256-512, FC 256, average readout$/m);
  const bare = runCli(['model']);
  assert.equal(bare.code, 2);
  assert.equal(bare.stderr, 'snn: snn model: give a config file, or --list for the architectures and presets\n');
});
