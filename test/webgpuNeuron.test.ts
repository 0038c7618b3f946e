/**
 * snn's WGSL neuron kernels (src/engine/webgpuKernels) against the JS loops of src/snn/lif.ts
 * run on the cpu backend: every reset, detachReset and surrogate, IF and LIF, PLIF's ∂L/∂k and
 * the smooth firing of gradient checks. Tolerance: 1e-5 relative (max(1, |reference|)) on H,
 * ∂L/∂X and ∂L/∂k; spikes equal wherever H is not within 1e-5 of the threshold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { NeuronSchema, SURROGATES } from '../src/config/schema.js';
import { lifBackwardArrays, lifForwardArrays, neuronParams, type NeuronParams } from '../src/snn/lif.js';
import { SURROGATE_DEFAULT_ALPHA, surrogateDerivative, surrogatePrimitive } from '../src/snn/surrogate.js';
import { createRng } from '../src/util/rng.js';
import { needWebgpu, valuesOf, webgpuSkip, worstRelative } from './webgpuKit.js';

const TOL = 1e-5;
const T = 4;
const M = 67; // more than one workgroup of 64

function randomArray(n: number, seed: number, scale: number, shift = 0): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale + shift);
}

function attrsOf(p: NeuronParams, decayGrad: boolean): Record<string, unknown> {
  return {
    timesteps: T,
    leak: p.type !== 'if',
    reset: p.reset,
    detachReset: p.detachReset,
    threshold: p.threshold,
    vReset: p.vReset,
    surrogate: p.surrogateConfig.name,
    alpha: p.surrogateConfig.alpha ?? SURROGATE_DEFAULT_ALPHA[p.surrogateConfig.name],
    firing: p.smooth === true ? 'smooth' : 'heaviside',
    decayGrad,
  };
}

async function checkCase(p: NeuronParams, k: number, seed: number, label: string): Promise<void> {
  const decayGrad = p.type === 'plif';
  const x = randomArray(T * M, seed, 1.5, 0.6);
  const dy = randomArray(T * M, seed + 1, 1);
  const ref = lifForwardArrays(x, T, p, k);
  const sgAll = ref.h.map((h) => p.surrogate(h - p.threshold));
  const back = lifBackwardArrays(dy, ref.h, ref.s, sgAll, T, p, k, decayGrad ? x : null);

  await tf.setBackend('webgpu');
  const attrs = attrsOf(p, decayGrad) as unknown as tf.NamedAttrMap;
  const xt = tf.tensor(x, [T * M]);
  const decay = tf.scalar(k);
  const [s, h] = tf.engine().runKernel('SnnNeuronForward', { x: xt, decay }, attrs) as unknown as tf.Tensor[];
  const [dx, dDecay] = tf.engine().runKernel(
    'SnnNeuronBackward',
    { dy: tf.tensor(dy, [T * M]), h: tf.tensor(ref.h, [T * M]), decay, ...(decayGrad ? { x: xt } : {}) },
    attrs,
  ) as unknown as tf.Tensor[];
  const [sv, hv, dxv, dkv] = await Promise.all([s, h, dx, dDecay].map(valuesOf));
  tf.disposeVariables();
  await tf.setBackend('cpu');

  const hErr = worstRelative(hv, ref.h);
  assert.ok(hErr.err <= TOL, `${label}: H differs by ${hErr.err} at ${hErr.at}`);
  for (let i = 0; i < sv.length; i++) {
    if (Math.abs(ref.h[i] - p.threshold) > TOL) assert.ok(Math.abs(sv[i] - ref.s[i]) <= TOL, `${label}: S[${i}] = ${sv[i]}, cpu ${ref.s[i]}`);
  }
  const dxErr = worstRelative(dxv, back.gx);
  assert.ok(dxErr.err <= TOL, `${label}: ∂L/∂X differs by ${dxErr.err} at ${dxErr.at} (${dxv[dxErr.at]} vs ${back.gx[dxErr.at]})`);
  assert.equal(dkv.length, 1);
  if (decayGrad) {
    const dkErr = Math.abs(dkv[0] - back.gk) / Math.max(1, Math.abs(back.gk));
    assert.ok(dkErr <= TOL, `${label}: ∂L/∂k = ${dkv[0]}, cpu ${back.gk}`);
  } else assert.equal(dkv[0], 0);
}

test('WebGPU neuron kernels equal the cpu loops: LIF and IF, both resets, detachReset, every surrogate', { skip: webgpuSkip, timeout: 600_000 }, async () => {
  needWebgpu();
  let seed = 1;
  let spikes = 0;
  for (const surrogate of SURROGATES) {
    for (const reset of ['hard', 'soft'] as const) {
      for (const detachReset of [true, false]) {
        const p = neuronParams(NeuronSchema.parse({ type: 'lif', tau: 2, reset, detachReset, surrogate: { name: surrogate } }));
        spikes += lifForwardArrays(randomArray(T * M, seed, 1.5, 0.6), T, p, 0.5).count;
        await checkCase(p, 0.5, seed++, `lif ${surrogate} ${reset} detach=${detachReset}`);
      }
    }
  }
  assert.ok(spikes > 0, 'the inputs make some neurons fire');
  for (const reset of ['hard', 'soft'] as const) {
    const p = neuronParams(NeuronSchema.parse({ type: 'if', reset, detachReset: false, vReset: 0.1, threshold: 0.8, surrogate: { name: 'atan', alpha: 3 } }));
    await checkCase(p, 1, seed++, `if ${reset}`);
  }
});

test('WebGPU neuron kernels: PLIF ∂L/∂k (one-workgroup sum) and smooth firing equal the cpu loops', { skip: webgpuSkip, timeout: 300_000 }, async () => {
  needWebgpu();
  for (const reset of ['hard', 'soft'] as const) {
    const p = neuronParams(NeuronSchema.parse({ type: 'plif', tau: 3, reset, detachReset: reset === 'soft', surrogate: { name: 'sigmoid' } }));
    await checkCase(p, 0.37, 100 + (reset === 'hard' ? 0 : 1), `plif ${reset}`);
  }
  for (const surrogate of SURROGATES) {
    const cfg = NeuronSchema.parse({ type: 'lif', tau: 2, reset: 'hard', detachReset: false, surrogate: { name: surrogate, alpha: 1.5 } });
    const p = neuronParams(cfg, true);
    // the smooth step the kernel fires with is the surrogate's primitive
    assert.ok(Math.abs(surrogatePrimitive(surrogate, 1.5)(0) - 0.5) < 1e-12);
    await checkCase(p, 0.5, 200, `smooth ${surrogate}`);
  }
});
