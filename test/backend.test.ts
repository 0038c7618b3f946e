/**
 * Backend selection. The tfjs-node packages are optional dependencies that are not installed in
 * this environment, so `auto` must fall back to wasm and say why. All tests share one engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/engine/backend.js';
import { isUserError } from '../src/util/errors.js';
import { adapterLine, isSoftwareAdapter } from '../src/backends/webgpu/device.js';
import { backendLine, type BackendInfo } from '../src/engine/backend.js';

function installed(pkg: string): boolean {
  try {
    import.meta.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

const nativeInstalled = installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu');

test("initBackend('wasm') selects wasm and can train a conv", async () => {
  const info = await initBackend('wasm');
  assert.equal(info.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(info.package, '@tensorflow/tfjs-backend-wasm');
  assert.match(info.version, /^\d+\.\d+\.\d+/);
  assert.ok(info.threads !== null && info.threads >= 1);
  assert.deepEqual(info.fallbacks, []);
  // The filter gradient exists only because initBackend registered the training kernels.
  const g = tf.tidy(() => tf.grad((w: tf.Tensor) => tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid').sum())(tf.ones([3, 3, 1, 1])).dataSync());
  assert.deepEqual(Array.from(g), new Array(9).fill(4));
});

test("initBackend('cpu') selects cpu", async () => {
  const info = await initBackend('cpu');
  assert.equal(info.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(info.requested, 'cpu');
  assert.equal(info.threads, 1);
});

test("initBackend('auto') loads a backend and records the missing native packages", { skip: nativeInstalled && 'tfjs-node is installed here' }, async () => {
  const info = await initBackend('auto');
  assert.equal(info.requested, 'auto');
  assert.equal(info.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(info.fallbacks.length, 3);
  // No GPU here: Dawn finds lavapipe (a software device, never chosen by auto) or no adapter.
  assert.match(info.fallbacks[0], /^webgpu: (no GPU device node|the only adapter is a software device|Dawn found no GPU adapter|the 'webgpu' package)/);
  assert.match(info.fallbacks[1], /^tensorflow-gpu: @tensorflow\/tfjs-node-gpu is not installed/);
  assert.match(info.fallbacks[2], /^tensorflow: @tensorflow\/tfjs-node is not installed/);
});

test("a forced 'tensorflow-gpu' that cannot load throws a one-line UserError naming it", { skip: nativeInstalled && 'tfjs-node is installed here' }, async () => {
  const before = tf.getBackend();
  await assert.rejects(initBackend('tensorflow-gpu'), (e: unknown) => {
    assert.ok(isUserError(e));
    assert.match(e.message, /^backend 'tensorflow-gpu' is not available: @tensorflow\/tfjs-node-gpu is not installed/);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
  assert.equal(tf.getBackend(), before, 'a failed choice leaves the current backend alone');
  await assert.rejects(initBackend('tensorflow'), /backend 'tensorflow' is not available/);
});

test('software adapters are recognised from what they report; GPUs are not', () => {
  // As Dawn reports them: Mesa's lavapipe (Debian bookworm-backports), SwiftShader, an NVIDIA GPU
  // on Vulkan, an AMD GPU on Mesa's RADV, Apple silicon on Metal.
  const lavapipe = { vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1' };
  assert.equal(isSoftwareAdapter(lavapipe, false), true);
  assert.equal(isSoftwareAdapter({ vendor: 'google', architecture: '', device: 'swiftshader device', description: 'SwiftShader Device (Subzero)' }, false), true);
  assert.equal(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA: 550.54.14 550.54.14.0' }, false), false);
  assert.equal(isSoftwareAdapter({ vendor: 'amd', architecture: 'rdna-2', device: '', description: 'radv: Mesa 25.0.7' }, false), false);
  assert.equal(isSoftwareAdapter({ vendor: 'apple', architecture: 'metal-3', device: '', description: '' }, false), false);
  // Dawn's own flag wins over the names
  assert.equal(isSoftwareAdapter({ vendor: 'x', architecture: 'y', device: 'z', description: '' }, true), true);
  assert.equal(
    adapterLine({ ...lavapipe, software: true }),
    'mesa llvmpipe-llvm-15-0-6-256-bits- (llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1; software)',
  );
  // the first line of a run's log
  const info: BackendInfo = {
    requested: 'webgpu', name: 'webgpu', package: '@tensorflow/tfjs-backend-webgpu', version: '4.22.0', threads: null, fallbacks: [], native: null,
    adapter: { vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA: 550.54.14', software: false },
  };
  assert.equal(backendLine(info), 'backend webgpu (adapter: nvidia (NVIDIA: 550.54.14))');
  assert.equal(backendLine({ ...info, name: 'wasm', adapter: undefined, native: 'oneDNN 2.6.3, 2 threads' }), 'backend wasm (convolutions: oneDNN 2.6.3, 2 threads)');
});
