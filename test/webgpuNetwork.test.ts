/**
 * Whole networks on the WebGPU engine against the cpu backend: the same weights and batch give
 * the same loss and the same gradient for every parameter, for two residual connections
 * (spike, and DANet's densely additive one), and a few training steps keep the weights
 * together. Heaviside spikes, as in training. Tolerances (float32 on two engines, whose
 * convolutions sum in different orders): loss 1e-4 relative; each parameter's gradient within
 * 1e-3 of its largest entry; weights after 3 Adam steps within 1e-3 of their largest entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ConfigSchema, OptimizerSchema } from '../src/config/schema.js';
import { buildModel } from '../src/models/index.js';
import { crossEntropy } from '../src/losses/crossEntropy.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { createRng } from '../src/util/rng.js';
import { needWebgpu, valuesOf, webgpuSkip } from './webgpuKit.js';

const N = 4;
const SIDE = 8;
const T = 2;
const rngX = createRng(11);
const xs = Float32Array.from({ length: N * SIDE * SIDE }, () => rngX.normal() + 0.5);
const ys = Int32Array.from([0, 2, 1, 2]);

type Model = ReturnType<typeof buildModel>;

function modelFor(model: Record<string, unknown>): Model {
  const cfg = ConfigSchema.parse({ model: { preset: 'tiny', widths: [4, 6], timesteps: T, ...model } });
  return buildModel(cfg.model, { height: SIDE, width: SIDE, channels: 1, numClasses: 3 }, createRng(3), 'net');
}

/** Loss and every parameter's gradient on the active backend, read asynchronously. */
async function lossAndGrads(model: Record<string, unknown>): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  const m = modelFor(model);
  const x = tf.tensor4d(xs, [N, SIDE, SIDE, 1]);
  const y = tf.tensor1d(ys, 'int32');
  const { value, grads } = tf.variableGrads(() => crossEntropy(m.forward(x, { training: true, timesteps: T }), y), [...m.params.values()]);
  const out = new Map<string, Float32Array>();
  for (const [key, v] of m.params) out.set(key, await valuesOf(grads[v.name]));
  const loss = (await valuesOf(value))[0];
  tf.dispose([x, y, value, ...Object.values(grads)]);
  m.dispose();
  return { loss, grads: out };
}

function assertClose(label: string, gpu: Float32Array, cpu: Float32Array, tol: number): void {
  const scale = cpu.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
  let worst = 0;
  for (let i = 0; i < cpu.length; i++) worst = Math.max(worst, Math.abs(gpu[i] - cpu[i]));
  assert.ok(worst <= tol * Math.max(scale, 1e-6), `${label}: differs by ${worst} (largest entry ${scale})`);
}

for (const [label, model] of [
  ['spike connection', { connection: 'spike' }],
  ['DANet (da connection)', { arch: 'danet' }],
] as const) {
  test(`WebGPU: loss and every gradient of a ${label} network equal the cpu backend's`, { skip: webgpuSkip, timeout: 600_000 }, async () => {
    needWebgpu();
    await tf.setBackend('cpu');
    const ref = await lossAndGrads(model);
    await tf.setBackend('webgpu');
    const got = await lossAndGrads(model);
    await tf.setBackend('cpu');
    assert.ok(Math.abs(got.loss - ref.loss) <= 1e-4 * Math.abs(ref.loss), `loss ${got.loss}, cpu ${ref.loss}`);
    assert.deepEqual([...got.grads.keys()], [...ref.grads.keys()]);
    let nonzero = 0;
    for (const [key, g] of ref.grads) {
      assertClose(`${label}: ∂L/∂${key}`, got.grads.get(key) as Float32Array, g, 1e-3);
      if (g.some((v) => v !== 0)) nonzero++;
    }
    assert.ok(nonzero >= ref.grads.size / 2, `${label}: only ${nonzero} of ${ref.grads.size} gradients are nonzero`);
  });
}

/** Weights after `steps` Adam steps on the active backend. */
async function trainedWeights(steps: number): Promise<Map<string, Float32Array>> {
  const m = modelFor({ connection: 'spike' });
  const x = tf.tensor4d(xs, [N, SIDE, SIDE, 1]);
  const y = tf.tensor1d(ys, 'int32');
  const opt = createOptimizer(OptimizerSchema.parse({ name: 'adamw', lr: 0.01, weightDecay: 0.01 }), m.params);
  const keyOf = new Map([...m.params].map(([k, v]) => [v.name, k]));
  for (let s = 0; s < steps; s++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => crossEntropy(m.forward(x, { training: true, timesteps: T }), y), [...m.params.values()]);
      opt.step(new Map(Object.entries(grads).map(([n, g]) => [keyOf.get(n) ?? n, g])), 0.01);
    });
  }
  const out = new Map<string, Float32Array>();
  for (const [key, v] of [...m.params, ...m.buffers]) out.set(key, await valuesOf(v));
  tf.dispose([x, y]);
  opt.dispose();
  m.dispose();
  return out;
}

test('WebGPU: 3 AdamW training steps keep the weights and BN statistics with the cpu backend', { skip: webgpuSkip, timeout: 600_000 }, async () => {
  needWebgpu();
  await tf.setBackend('cpu');
  const ref = await trainedWeights(3);
  await tf.setBackend('webgpu');
  const got = await trainedWeights(3);
  await tf.setBackend('cpu');
  const initial = modelFor({ connection: 'spike' });
  let moved = 0;
  for (const [key, w] of ref) {
    assertClose(`weights ${key}`, got.get(key) as Float32Array, w, 1e-3);
    const w0 = await valuesOf((initial.params.get(key) ?? initial.buffers.get(key)) as tf.Tensor);
    if (w0.some((v, i) => v !== w[i])) moved++;
  }
  initial.dispose();
  assert.ok(moved >= ref.size / 2, `only ${moved} of ${ref.size} tensors changed in training`);
});
