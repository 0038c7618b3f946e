/**
 * The shipped configs: every file in configs/ loads and builds (as `snn model` does), each
 * paper config says which setting it follows, and `snn train --config configs/cifar10-tna.yaml`
 * trains a ternary SNN with an identical ternary twin on CIFAR-10 files made here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadConfig, parseYaml } from '../src/config/load.js';
import { datasetInput } from '../src/data/shapes.js';
import { buildModel } from '../src/models/index.js';
import { summarize } from '../src/models/summary.js';
import { readMetrics } from '../src/runs/metrics.js';
import { createRng } from '../src/util/rng.js';
import { twinFor } from '../src/train/session.js';
import type { DataSource } from '../src/train/dataSource.js';
import { repoRoot, runCli, tempDir } from './helpers.js';

await tf.setBackend('cpu');

const configsDir = join(repoRoot, 'configs');
const files = readdirSync(configsDir).filter((f) => f.endsWith('.yaml')).sort();

test('every config in configs/ loads and builds its network, and starts with a comment saying what it is', () => {
  for (const f of ['cifar10-tna.yaml', 'cifar10-kd.yaml', 'cifar10-plain.yaml', 'cifar100-tna.yaml', 'cifar10-dvs-tna.yaml', 'cifar10-danet.yaml']) {
    assert.ok(files.includes(f), `${f} missing from configs/`);
  }
  for (const f of files) {
    const path = join(configsDir, f);
    assert.match(readFileSync(path, 'utf8'), /^# \S/, `${f}: no header comment`);
    const cfg = loadConfig(path);
    const m = buildModel(cfg.model, datasetInput(cfg.data), createRng(cfg.seed), f, { quant: cfg.quant });
    const s = summarize(m);
    m.dispose();
    assert.ok(s.parameters > 0 && s.macsPerStep > 0, f);
    assert.equal(s.arch, cfg.model.arch, f);
  }
});

/** The config file as written (before defaults), to check what it states rather than what defaults give. */
const written = (f: string): Record<string, Record<string, unknown>> => parseYaml(readFileSync(join(configsDir, f), 'utf8'), f) as Record<string, Record<string, unknown>>;

test('the TNA, KD and plain configs: ternary, the loss they are named for, an identical twin, and the paper named', () => {
  for (const [f, dataset] of [
    ['cifar10-tna.yaml', 'cifar10'],
    ['cifar100-tna.yaml', 'cifar100'],
    ['cifar10-dvs-tna.yaml', 'cifar10-dvs'],
  ] as const) {
    const cfg = loadConfig(join(configsDir, f));
    assert.equal(cfg.data.dataset, dataset, f);
    assert.equal(cfg.quant.bits, 2, f);
    assert.equal(cfg.loss.mode, 'tna', f);
    // null: the SNN's own precision and neuron — the identical twin.
    assert.deepEqual(cfg.loss.tna.twin, { bits: null, neuron: null, seed: null }, f);
    assert.match(readFileSync(join(configsDir, f), 'utf8'), /Deckers et al\. 2024[\s\S]*identical twin[\s\S]*Reconstructed/, f);
  }
  assert.equal(loadConfig(join(configsDir, 'cifar10-kd.yaml')).loss.mode, 'kd');
  assert.equal(loadConfig(join(configsDir, 'cifar10-plain.yaml')).loss.mode, 'plain');
  for (const f of ['cifar10-kd.yaml', 'cifar10-plain.yaml']) assert.equal((written(f).quant as { bits: number }).bits, 2, f);
  assert.match(readFileSync(join(configsDir, 'cifar10-kd.yaml'), 'utf8'), /frozen[\s\S]*teacher/);
  const da = loadConfig(join(configsDir, 'cifar10-danet.yaml'));
  assert.equal(da.model.arch, 'danet');
  assert.equal(da.model.danet.links, 'dense');
  assert.match(readFileSync(join(configsDir, 'cifar10-danet.yaml'), 'utf8'), /Li, Lei and Yang 2023[\s\S]*Reconstructed/);
  // The ImageNet DANet config (another branch's) runs DANet at T = 4, as the paper.
  if (files.includes('imagenet-danet50.yaml')) {
    const im = loadConfig(join(configsDir, 'imagenet-danet50.yaml'));
    assert.equal(im.model.arch, 'danet');
    assert.equal(im.model.timesteps, 4);
  }
});

/** CIFAR-10 binary batches: n records per file of label byte + 3,072 pixel bytes (CHW). */
function writeCifar10(dir: string, n: number): void {
  mkdirSync(dir, { recursive: true });
  const g = createRng(11);
  const batch = (): Buffer => {
    const out = Buffer.alloc(n * 3073);
    for (let r = 0; r < n; r++) {
      const label = r % 10;
      out[r * 3073] = label;
      // Each class a brightness, plus noise: learnable, not trivial.
      for (let p = 0; p < 3072; p++) out[r * 3073 + 1 + p] = Math.min(255, Math.floor(label * 20 + g.next() * 60));
    }
    return out;
  };
  for (let b = 1; b <= 5; b++) writeFileSync(join(dir, `data_batch_${b}.bin`), batch());
  writeFileSync(join(dir, 'test_batch.bin'), batch());
}

test('snn train --config configs/cifar10-tna.yaml: a ternary SNN and an identical ternary twin, twin columns in metrics.csv', () => {
  const root = tempDir('tna-cifar');
  const data = join(root, 'cifar10');
  writeCifar10(data, 4);
  const runs = join(root, 'runs');
  // Tiny sizes (8 images, thin stages, T = 2, one epoch); the TNA part of the config unchanged.
  const sets = [`data.root=${data}`, 'data.trainLimit=8', 'data.testLimit=4', 'data.batchSize=4', 'data.testBatchSize=4', 'model.blocks=[1,1,1]', 'model.widths=[8,8,8]', 'model.timesteps=2', 'train.epochs=1', 'backend=wasm'];
  const r = runCli(['train', '--config', join(configsDir, 'cifar10-tna.yaml'), '--runs-dir', runs, '--json', ...sets.flatMap((s) => ['--set', s])]);
  assert.equal(r.code, 0, r.stderr);
  const run = (JSON.parse(r.stdout) as { run: string }).run;
  const resolved = parseYaml(readFileSync(join(run, 'config.yaml'), 'utf8'), 'config.yaml') as {
    quant: { bits: number };
    loss: { mode: string; tna: { twin: { bits: number | null; neuron: string | null } } };
    model: { neuron: { type: string } };
  };
  assert.equal(resolved.quant.bits, 2);
  assert.equal(resolved.loss.mode, 'tna');
  assert.deepEqual([resolved.loss.tna.twin.bits, resolved.loss.tna.twin.neuron], [null, null]); // the SNN's own
  // The twin as built: ternary, LIF, seed 43 (the run's 42 + 1).
  const meta = JSON.parse(readFileSync(join(run, 'meta.json'), 'utf8')) as { twin: { bits: number; neuron: string; seed: number; identical: boolean } };
  assert.deepEqual(meta.twin, { bits: 2, neuron: 'lif', seed: 43, identical: true });
  const rows = readMetrics(join(run, 'metrics.csv'));
  assert.equal(rows.length, 1);
  for (const col of ['loss_ce', 'loss_twin_ce', 'loss_match', 'twin_train_acc', 'twin_test_acc']) {
    assert.ok(Number.isFinite(Number(rows[0][col])), `${col} = ${rows[0][col]}`);
  }
  // The SNN trained ternary.
  const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8')) as { bits: number; lossMode: string; quantLayers: { bits: number }[] };
  assert.equal(summary.lossMode, 'tna');
  assert.ok(summary.quantLayers.length > 0 && summary.quantLayers.every((l) => l.bits === 2));
});

test('the twin the TNA configs build is the SNN again: same layers, ternary weights, LIF; float and ANN twins only when asked', () => {
  const cfg = loadConfig(join(configsDir, 'cifar10-tna.yaml'), ['model.blocks=[1,1,1]', 'model.widths=[8,8,8]']);
  const data = { input: datasetInput(cfg.data) } as DataSource;
  const snn = buildModel(cfg.model, data.input, createRng(cfg.seed), 'snn', { quant: cfg.quant });
  const twin = twinFor(cfg, data).model;
  assert.deepEqual([...twin.params.keys()], [...snn.params.keys()]);
  assert.deepEqual(twin.neuronLayers, snn.neuronLayers);
  assert.deepEqual([...twin.quantized], [...snn.quantized]);
  assert.ok(twin.quantized.size > 0 && [...twin.quantized.values()].every((q) => q.bits === 2));
  // Another initialisation (seed + 1).
  const k = 'stage1.block0.conv1.conv.weight';
  assert.notDeepEqual(twin.params.get(k)!.dataSync(), snn.params.get(k)!.dataSync());
  const float = twinFor(loadConfig(join(configsDir, 'cifar10-tna.yaml'), ['model.blocks=[1,1,1]', 'model.widths=[8,8,8]', 'loss.tna.twin.bits=32']), data).model;
  assert.equal(float.quantized.size, 0);
  const ann = twinFor(loadConfig(join(configsDir, 'cifar10-tna.yaml'), ['model.blocks=[1,1,1]', 'model.widths=[8,8,8]', 'loss.tna.twin.neuron=relu']), data).model;
  assert.equal(ann.neuronLayers.length, 0);
  for (const m of [snn, twin, float, ann]) m.dispose();
});
