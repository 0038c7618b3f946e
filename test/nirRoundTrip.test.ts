/**
 * NIR round trip against an interpreter of NIR's documented semantics (test/nirInterpreter.ts,
 * which reads the HDF5 file itself): a `tiny` and a `resnet20`, each trained briefly on a small
 * synthetic set, are exported with `--format nir`; the interpreter's predictions on the raw
 * test images (pixel/255, the normalisation being a node of the graph) are compared with the
 * checkpoint's (`snn eval --predictions`, TensorFlow.js). Also: the version the file declares,
 * numbers stored as numbers, and export.json's NIR sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { validateConfig } from '../src/config/load.js';
import { loadDataset } from '../src/data/registry.js';
import { readPredictions } from '../src/runs/predictions.js';
import { readNirFile, runNir } from './nirInterpreter.js';
import { fixture, runCli, tempDir } from './helpers.js';

const work = tempDir('nir-rt');

const models: { name: string; sets: string[] }[] = [
  { name: 'tiny', sets: ['train.epochs=2'] },
  // A deeper net: threshold 0.5 and small batches so that two short epochs leave it spiking.
  { name: 'resnet20', sets: ['model.preset=resnet20', 'model.widths=null', 'model.neuron.threshold=0.5', 'train.epochs=2', 'data.synthetic.train=128', 'data.batchSize=16'] },
];

for (const m of models) {
  test(`NIR round trip of a trained ${m.name}: an interpreter of NIR's semantics predicts what the checkpoint predicts`, async (t) => {
    const runs = join(work, m.name);
    const tr = runCli(['train', '--config', fixture('synthetic.yaml'), ...m.sets.flatMap((s) => ['--set', s]), '--runs-dir', runs, '-q']);
    assert.equal(tr.code, 0, tr.stderr);
    const run = join(runs, readdirSync(runs)[0]);
    const pFile = join(work, `${m.name}.csv`);
    const ev = runCli(['eval', run, '--predictions', pFile]);
    assert.equal(ev.code, 0, ev.stderr);
    const ex = runCli(['export', run, '--format', 'nir', '--json']);
    assert.equal(ex.code, 0, ex.stderr);
    const nirFile = join(run, 'export-nir', 'model.nir');

    const g = await readNirFile(nirFile);
    assert.equal(g.version, '1.0.6'); // LIF.v_reset is NIR 1.0.6
    const T = g.metadata.timesteps;
    assert.equal(T, 2);
    const cfg = validateConfig(parse(readFileSync(join(run, 'config.yaml'), 'utf8')), 'config.yaml');
    const data = await loadDataset(cfg.data, cfg.seed);
    assert.deepEqual(g.metadata.input_mean, [...data.mean]);
    assert.deepEqual(g.metadata.input_std, [...data.std]);
    assert.ok([...g.nodes.values()].some((n) => n.type === (m.name === 'tiny' ? 'Flatten' : 'AvgPool2d')));

    const set = data.test;
    const { height: H, width: W, channels: C } = set;
    const ref = readPredictions(pFile);
    assert.equal(ref.labels.length, set.count);
    let same = 0;
    let maxDiff = 0;
    const K = ref.classes;
    for (let i = 0; i < set.count; i++) {
      assert.equal(ref.labels[i], set.labels[i]);
      // The raw image, channels first, on the [0, 1] scale: the graph normalises it itself.
      const x = new Float32Array(C * H * W);
      for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) for (let c = 0; c < C; c++) x[(c * H + y) * W + xx] = set.images[((i * H + y) * W + xx) * C + c] / 255;
      const out = runNir(g, x, T as number);
      let best = 0;
      for (let k = 1; k < K; k++) if (out[k] > out[best]) best = k;
      if (best === ref.predictions[i]) same++;
      for (let k = 0; k < K; k++) maxDiff = Math.max(maxDiff, Math.abs(out[k] - ref.logits[i * K + k]));
    }
    const agreement = same / set.count;
    t.diagnostic(`${m.name}: ${same} of ${set.count} predictions equal (${(100 * agreement).toFixed(2)}%), largest logit difference ${maxDiff.toPrecision(3)}`);
    assert.ok(agreement >= 0.97, `${m.name}: ${same} of ${set.count}`);

    // export.json: the NIR file's own sizes.
    const info = JSON.parse(readFileSync(join(run, 'export-nir', 'export.json'), 'utf8')) as { nirVersion: string; sizes: Record<string, number> };
    assert.equal(info.nirVersion, '1.0.6');
    assert.equal(info.sizes.fileBytes, statSync(nirFile).size);
    let weights = 0;
    for (const n of g.nodes.values()) if (n.type === 'Conv2d' || n.type === 'Affine') weights += n.f.weight.data.length + n.f.bias.data.length;
    assert.equal(info.sizes.weights, weights);
    assert.equal(info.sizes.weightBytes, 4 * weights);
    assert.equal('packedBytes' in info.sizes, false);
  });
}
