/**
 * snn's WGSL neuron kernels (src/backends/webgpu) against the cpu backend's implementation of
 * the same boundary kernels (src/backends/cpu: the JS loops; the composed ops for smooth
 * firing), on the same inputs: every reset, detachReset and surrogate, IF and LIF, PLIF's ∂L/∂k
 * and the smooth firing of gradient checks. Tolerance: 1e-5 relative (to max(1, |cpu|)) on H,
 * ∂L/∂X and ∂L/∂k; spikes equal wherever H is not within 1e-5 of the threshold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { NeuronSchema, SURROGATES } from '../src/config/schema.js';
import { ensureSnnKernels } from '../src/backends/register.js';
import { neuronAttrs, neuronParams, type NeuronParams } from '../src/snn/lif.js';
import { createRng } from '../src/util/rng.js';
import { webgpuNeuronKernels } from '../src/backends/webgpu/neuron.js';
import { needWebgpu, valuesOf, webgpuSkip, worstRelative } from './webgpuKit.js';

const TOL = 1e-5;
const T = 4;
const M = 67; // more than one workgroup of 64

function randomArray(n: number, seed: number, scale: number, shift = 0): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale + shift);
}

/** Forward then backward (given H) on the active backend; the values of s, h, dx, dDecay. */
async function runBoth(x: Float32Array, dy: Float32Array, hIn: Float32Array | null, k: number, attrs: tf.NamedAttrMap, decayGrad: boolean): Promise<Float32Array[]> {
  ensureSnnKernels();
  const xt = tf.tensor(x, [T * M]);
  const decay = tf.scalar(k);
  const [s, h] = tf.engine().runKernel('SnnNeuronForward', { x: xt, decay }, attrs) as unknown as tf.Tensor[];
  const hUsed = hIn === null ? h : tf.tensor(hIn, [T * M]);
  const [dx, dDecay] = tf.engine().runKernel(
    'SnnNeuronBackward',
    { dy: tf.tensor(dy, [T * M]), h: hUsed, decay, ...(decayGrad ? { x: xt } : {}) },
    { ...attrs, decayGrad } as unknown as tf.NamedAttrMap,
  ) as unknown as tf.Tensor[];
  const out = await Promise.all([s, h, dx, dDecay].map(valuesOf));
  tf.dispose([xt, decay, s, h, hUsed, dx, dDecay]);
  return out;
}

async function checkCase(p: NeuronParams, k: number, seed: number, label: string): Promise<number> {
  const decayGrad = p.type === 'plif';
  const x = randomArray(T * M, seed, 1.5, 0.6);
  const dy = randomArray(T * M, seed + 1, 1);
  const attrs = neuronAttrs(p, T) as unknown as tf.NamedAttrMap;
  await tf.setBackend('cpu');
  const [sRef, hRef, dxRef, dkRef] = await runBoth(x, dy, null, k, attrs, decayGrad);
  await tf.setBackend('webgpu');
  // The backward pass gets the cpu's H, so that it is checked on its own.
  const [sv, hv, dxv, dkv] = await runBoth(x, dy, hRef, k, attrs, decayGrad);
  await tf.setBackend('cpu');

  const hErr = worstRelative(hv, hRef);
  assert.ok(hErr.err <= TOL, `${label}: H differs by ${hErr.err} at ${hErr.at}`);
  for (let i = 0; i < sv.length; i++) {
    if (Math.abs(hRef[i] - p.threshold) > TOL) assert.ok(Math.abs(sv[i] - sRef[i]) <= TOL, `${label}: S[${i}] = ${sv[i]}, cpu ${sRef[i]}`);
  }
  const dxErr = worstRelative(dxv, dxRef);
  assert.ok(dxErr.err <= TOL, `${label}: ∂L/∂X differs by ${dxErr.err} at ${dxErr.at} (${dxv[dxErr.at]} vs ${dxRef[dxErr.at]})`);
  assert.equal(dkv.length, 1);
  if (decayGrad) {
    assert.ok(Math.abs(dkRef[0]) > 1e-3, `${label}: ∂L/∂k is not trivially zero`);
    const dkErr = Math.abs(dkv[0] - dkRef[0]) / Math.max(1, Math.abs(dkRef[0]));
    assert.ok(dkErr <= TOL, `${label}: ∂L/∂k = ${dkv[0]}, cpu ${dkRef[0]}`);
  } else assert.equal(dkv[0], 0);
  return sRef.reduce((n, v) => n + v, 0);
}

test('WebGPU neuron kernels equal the cpu backend kernels: LIF and IF, both resets, detachReset, every surrogate', { skip: webgpuSkip, timeout: 600_000 }, async () => {
  needWebgpu();
  for (const k of webgpuNeuronKernels) assert.equal(tf.getKernel(k.kernelName, 'webgpu')?.kernelFunc, k.kernelFunc, `${k.kernelName} is snn's WGSL kernel`);
  let seed = 1;
  let spikes = 0;
  for (const surrogate of SURROGATES) {
    for (const reset of ['hard', 'soft'] as const) {
      for (const detachReset of [true, false]) {
        const p = neuronParams(NeuronSchema.parse({ type: 'lif', tau: 2, reset, detachReset, surrogate: { name: surrogate } }));
        spikes += await checkCase(p, 0.5, seed++, `lif ${surrogate} ${reset} detach=${detachReset}`);
      }
    }
  }
  assert.ok(spikes > 0, 'the inputs make some neurons fire');
  for (const reset of ['hard', 'soft'] as const) {
    const p = neuronParams(NeuronSchema.parse({ type: 'if', reset, detachReset: false, vReset: 0.1, threshold: 0.8, surrogate: { name: 'atan', alpha: 3 } }));
    await checkCase(p, 1, seed++, `if ${reset}`);
  }
});

test('WebGPU neuron kernels: PLIF ∂L/∂k (one-workgroup sum) and smooth firing equal the cpu backend kernels', { skip: webgpuSkip, timeout: 300_000 }, async () => {
  needWebgpu();
  for (const reset of ['hard', 'soft'] as const) {
    const p = neuronParams(NeuronSchema.parse({ type: 'plif', tau: 3, reset, detachReset: reset === 'soft', surrogate: { name: 'sigmoid' } }));
    await checkCase(p, 0.37, 100 + (reset === 'hard' ? 0 : 1), `plif ${reset}`);
  }
  for (const surrogate of SURROGATES) {
    const cfg = NeuronSchema.parse({ type: 'lif', tau: 2, reset: 'hard', detachReset: false, surrogate: { name: surrogate, alpha: 1.5 } });
    const p = neuronParams(cfg, true);
    await checkCase(p, 0.5, 200, `smooth ${surrogate}`);
  }
});
