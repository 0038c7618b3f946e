/**
 * The guards around what the engine takes on trust: the tfjs versions whose internals
 * src/backends/wasm-native uses (a faked other version turns the native path and the heap guard
 * off with one line), the native addon's interface version, and the CI requirement rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ADDON_INTERFACE, addonProblem, nativeStatus } from '../src/backends/wasm-native/native.js';
import { installedVersions, TESTED_VERSIONS, untestedVersion } from '../src/backends/wasm-native/versions.js';
import { requirement } from './requirements.js';

const native = nativeStatus();
const skip = requirement('the native addon', native.addon === null ? native.why : null);

test('the installed tfjs packages are the tested versions that package.json pins', async () => {
  assert.equal(untestedVersion(installedVersions()), null);
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
  assert.equal(pkg.dependencies['@tensorflow/tfjs'], TESTED_VERSIONS['@tensorflow/tfjs-core']);
  assert.equal(pkg.dependencies['@tensorflow/tfjs-backend-wasm'], TESTED_VERSIONS['@tensorflow/tfjs-backend-wasm']);
});

test('any other version of either package is untested, and the reason names it', () => {
  const ok = { ...TESTED_VERSIONS };
  assert.match(untestedVersion({ ...ok, '@tensorflow/tfjs-backend-wasm': '4.22.1' }) ?? '', /@tensorflow\/tfjs-backend-wasm 4\.22\.1 is not the tested 4\.22\.0/);
  assert.match(untestedVersion({ ...ok, '@tensorflow/tfjs-core': '5.0.0' }) ?? '', /@tensorflow\/tfjs-core 5\.0\.0 is not the tested 4\.22\.0/);
  assert.match(untestedVersion({}) ?? '', /unknown is not the tested/);
});

test('a faked tfjs-backend-wasm version: the native kernels and the heap guard are off, one line says why, training still works', () => {
  const script = `
    const { initBackend } = await import('./dist/src/engine/backend.js');
    const info = await initBackend('wasm');
    const tf = await import('@tensorflow/tfjs');
    const { multiStepNeuron } = await import('./dist/src/engine/snnOps.js');
    const x = tf.tensor([0.5, 1.5, 0.7, 0.1], [2, 2]);
    const g = tf.grad((t) => multiStepNeuron(t, { timesteps: 2, leak: true, reset: 'hard', detachReset: false, threshold: 1, vReset: 0,
      surrogate: 'sigmoid', alpha: 4, firing: 'heaviside' }, 0.5).sum())(x);
    const guarded = tf.backend().wasm.snnHeapGuard === true;
    process.stdout.write(JSON.stringify({ native: info.native, why: info.nativeWhy, guarded, grad: Array.from(g.dataSync()) }));`;
  // SNN_NATIVE unset: the version check is what this test is about (off would come first).
  const { SNN_NATIVE: _, ...env } = process.env;
  const run = (version: string) =>
    spawnSync(process.execPath, ['--import', './test/fixtures/fakeWasmVersion.mjs', '--input-type=module', '-e', script], {
      env: { ...env, SNN_FAKE_WASM_VERSION: version }, encoding: 'utf8',
    });
  const faked = run('4.23.0');
  assert.equal(faked.status, 0, faked.stderr);
  const lines = faked.stderr.split('\n').filter((l) => l !== '');
  assert.deepEqual(lines, ['snn: native kernels and wasm heap guard off: @tensorflow/tfjs-backend-wasm 4.23.0 is not the tested 4.22.0, so snn does not touch its internals']);
  const out = JSON.parse(faked.stdout) as { native: string | null; why: string; guarded: boolean; grad: number[] };
  assert.equal(out.native, null);
  assert.match(out.why, /4\.23\.0 is not the tested 4\.22\.0/);
  assert.equal(out.guarded, false);
  const same = run(TESTED_VERSIONS['@tensorflow/tfjs-backend-wasm']);
  assert.equal(same.status, 0, same.stderr);
  const tested = JSON.parse(same.stdout) as typeof out;
  assert.equal(tested.guarded, true, 'the tested version is guarded');
  // The same gradient either way (native kernels or the JS loops).
  for (let i = 0; i < out.grad.length; i++) assert.ok(Math.abs(out.grad[i] - tested.grad[i]) < 1e-6);
});

test('an addon without the current interface version is refused with a line saying what to do', () => {
  const fns = Object.fromEntries(['conv2d', 'lifForward'].map((f) => [f, () => 0]));
  assert.match(addonProblem({ ...fns }, 'x.node') ?? '', /^x\.node has interface none, this snn needs \d+: rebuild it \(npm run build:native\)$/);
  assert.match(addonProblem({ ...fns, interfaceVersion: ADDON_INTERFACE - 1 }, 'x.node') ?? '', new RegExp(`has interface ${ADDON_INTERFACE - 1}, this snn needs ${ADDON_INTERFACE}`));
  assert.match(addonProblem({ interfaceVersion: ADDON_INTERFACE }, 'x.node') ?? '', /lacks conv2d, avgPool, lifForward/);
  assert.match(addonProblem(42, 'x.node') ?? '', /not snn's addon/);
});

test('the built addon carries the interface version this code calls', { skip }, () => {
  assert.equal(native.addon?.interfaceVersion, ADDON_INTERFACE);
  assert.equal(addonProblem(native.addon, 'built'), null);
});

test('in CI a missing requirement is a failing test, outside CI a skip with the reason', () => {
  const script = `
    const { requirement } = await import('./dist/test/requirements.js');
    const r = requirement('the frobnicator', 'not installed');
    process.stdout.write(JSON.stringify(r));`;
  // Without NODE_TEST_CONTEXT: the child reports as a test run of its own, not to this runner.
  const { NODE_TEST_CONTEXT: _, ...parent } = process.env;
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['--test-reporter=tap', '--input-type=module', '-e', script], { env: { ...parent, CI: '', SNN_CI: '', ...env }, encoding: 'utf8' });
  const outside = run({});
  assert.equal(outside.status, 0);
  assert.match(outside.stdout, /"the frobnicator unavailable: not installed"/);
  const ci = run({ SNN_CI: '1' });
  assert.notEqual(ci.status, 0, 'a missing requirement fails in CI');
  assert.match(ci.stdout, /not ok 1 - the frobnicator is installed \(required in CI\)/);
});
