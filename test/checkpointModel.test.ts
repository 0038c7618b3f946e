/**
 * modelFromCheckpoint (src/train/checkpointModel.ts), the one builder of a network from a
 * checkpoint: the weights written come back exactly, and nothing else the checkpoint holds
 * (optimizer moments, a TNA twin) stays allocated; a checkpoint of another architecture is
 * refused with the model disposed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigSchema } from '../src/config/schema.js';
import { buildModel, type SpikingModel } from '../src/models/index.js';
import { writeCheckpoint } from '../src/runs/checkpoint.js';
import { modelFromCheckpoint, modelTensors } from '../src/train/checkpointModel.js';
import { createRng } from '../src/util/rng.js';
import { tempDir } from './helpers.js';

await tf.setBackend('cpu');

const INPUT = { height: 8, width: 8, channels: 1, numClasses: 4 };
const cfgOf = (widths: number[], seed: number) =>
  ConfigSchema.parse({ seed, model: { preset: 'resnet20', blocks: [1, 1, 1], widths, timesteps: 2 } });

/** A trainer state after one epoch, as state.json must hold it. */
const STATE = { epoch: 1, step: 10, rng: [1, 2, 3, 4], batch: 0, partial: { lossSum: 0, correct: 0, seen: 0 }, bestAccuracy: 0.5, bestEpoch: 1, seconds: 1 };

/** Writes a checkpoint of a model built from `seed` (with a twin and optimizer tensors) and returns its folder and weights. */
function checkpointOf(widths: number[], seed: number): { dir: string; written: Map<string, Float32Array> } {
  const cfg = cfgOf(widths, seed);
  const model = buildModel(cfg.model, INPUT, createRng(seed));
  const twin = buildModel(cfg.model, INPUT, createRng(seed + 1));
  const weights = modelTensors(model);
  const optimizer = new Map([...model.params].map(([k, v]) => [`${k}/m`, tf.onesLike(v)]));
  const dir = writeCheckpoint(tempDir('ckmodel'), 'epoch-0001', { weights, twin: modelTensors(twin), optimizer, state: STATE });
  const written = new Map([...weights].map(([k, v]) => [k, v.dataSync() as Float32Array]));
  tf.dispose([...optimizer.values()]);
  model.dispose();
  twin.dispose();
  return { dir, written };
}

const tensorCount = (m: SpikingModel): number => m.params.size + m.buffers.size;

test('modelFromCheckpoint loads exactly the weights written, and keeps only the model allocated', () => {
  const { dir, written } = checkpointOf([4, 8, 8], 3);
  const before = tf.memory().numTensors;
  // Built from another seed: every value that matches came from the checkpoint.
  const { model, epoch } = modelFromCheckpoint(cfgOf([4, 8, 8], 99), INPUT, dir, { label: 'eval' });
  assert.equal(epoch, 1);
  assert.equal(tf.memory().numTensors - before, tensorCount(model), 'optimizer state and twin released');
  for (const [k, v] of modelTensors(model)) assert.deepEqual(v.dataSync(), written.get(k), k);
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('a checkpoint of another architecture is refused, and nothing stays allocated', () => {
  const { dir } = checkpointOf([4, 8, 8], 3);
  const before = tf.memory().numTensors;
  assert.throws(() => modelFromCheckpoint(cfgOf([4, 8, 16], 3), INPUT, join(dir), { label: 'eval' }), /has shape \[.*\] but the model expects/);
  assert.equal(tf.memory().numTensors, before);
});
