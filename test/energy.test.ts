/** The SOP energy estimate against a hand computation, and the layer-input records it relies on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { estimateEnergy } from '../src/train/energy.js';
import { ConfigSchema } from '../src/config/schema.js';
import { buildModel } from '../src/models/index.js';
import type { SpikingModel } from '../src/models/types.js';
import { createRng } from '../src/util/rng.js';

await tf.setBackend('cpu');

test('SOP = Σ rate_in · MACs · T and E = 0.9 pJ · SOP + 4.6 pJ · MAC (first layer once)', () => {
  const model = {
    layers: [
      { key: 'stem.conv', kind: 'conv', outShape: [], params: 0, macs: 100, input: null },
      { key: 'stem.sn', kind: 'neuron', outShape: [], params: 0, macs: 0 },
      { key: 'a.conv', kind: 'conv', outShape: [], params: 0, macs: 200, input: 'stem.sn' },
      { key: 'b.sn', kind: 'neuron', outShape: [], params: 0, macs: 0 },
      { key: 'head', kind: 'linear', outShape: [], params: 0, macs: 50, input: 'b.sn' },
    ],
  } as unknown as SpikingModel;
  // SOP = 0.1·200·4 + 0.5·50·4 = 80 + 100 = 180; MAC = 100; E = 0.9·180 + 4.6·100 = 622 pJ
  const e = estimateEnergy(model, { 'stem.sn': 0.1, 'b.sn': 0.5 }, 4);
  assert.ok(Math.abs(e.sop - 180) < 1e-9);
  assert.equal(e.mac, 100);
  assert.ok(Math.abs(e.pJ - 622) < 1e-9);
});

test("each conv records the spiking layer it reads; a shortcut reads its block's input", () => {
  const cfg = ConfigSchema.parse({ model: { preset: 'resnet20' } });
  const m = buildModel(cfg.model, { height: 32, width: 32, channels: 3, numClasses: 10 }, createRng(1));
  const input = (key: string): string | null | undefined => m.layers.find((l) => l.key === key)?.input;
  assert.equal(input('stem.conv'), null);
  assert.equal(input('stage1.block0.conv1.conv'), 'stem.sn');
  assert.equal(input('stage1.block0.conv2.conv'), 'stage1.block0.sn1');
  assert.equal(input('stage2.block0.conv1.conv'), 'stage1.block2.sn_out');
  assert.equal(input('stage2.block0.down.conv'), 'stage1.block2.sn_out');
  assert.equal(input('head'), 'stage3.block2.sn_out');
  m.dispose();
});
