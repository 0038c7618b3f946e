/**
 * A full wasm heap (src/backends/wasm-native/heapGuard.ts): an allocation beyond its 4 GB throws one clear
 * line at once instead of handing tfjs address 0, and `snn train` on a model too large for it
 * exits 2 with that line, the run marked failed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../src/engine/backend.js';
import { isUserError } from '../src/util/errors.js';
import { fixture, runCli, tempDir } from './helpers.js';

const FULL = /the wasm heap is full: 2048 MB more do not fit in its 4 GB \(\d+ MB in use\); lower data\.batchSize or model\.timesteps/;

test('an allocation the 4 GB heap cannot hold throws a UserError; the backend goes on working', async () => {
  await initBackend('wasm');
  const backend = tf.backend() as BackendWasm;
  // Allocated, never written: the pages are reserved, not resident.
  const big = backend.makeOutput([768 * 1024 * 1024], 'float32');
  assert.throws(() => backend.makeOutput([512 * 1024 * 1024], 'float32'), (e: unknown) => isUserError(e) && FULL.test((e as Error).message));
  backend.disposeData(big.dataId);
  assert.deepEqual(Array.from(tf.ones([3]).add(1).dataSync()), [2, 2, 2]);
});

test('snn train on a model too large for the wasm heap: exit 2, one line, the run marked failed', () => {
  const runs = tempDir('heapfull');
  // 64 images of 512×512 at T = 8: the first layer's output alone is 4.3 GB.
  const r = runCli([
    'train', '--config', fixture('synthetic.yaml'), '--runs-dir', runs, '--quiet',
    '--set', 'data.synthetic.height=512', '--set', 'data.synthetic.width=512', '--set', 'data.synthetic.train=64',
    '--set', 'data.synthetic.test=16', '--set', 'data.batchSize=64', '--set', 'model.timesteps=8', '--set', 'backend=wasm',
  ]);
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /the wasm heap is full: \d+ MB more do not fit in its 4 GB .*lower data\.batchSize or model\.timesteps/);
  const [run] = readdirSync(runs);
  const summary = JSON.parse(readFileSync(join(runs, run, 'summary.json'), 'utf8')) as { status: string; error: string };
  assert.equal(summary.status, 'failed');
  assert.match(summary.error, /wasm heap is full/);
});
