/** KD and TNA losses against hand computation, and which networks a step updates. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { kdLoss, klDivergence } from '../src/losses/kd.js';
import { tnaLoss } from '../src/losses/tna.js';
import { createObjective } from '../src/losses/objective.js';
import { crossEntropy } from '../src/losses/crossEntropy.js';
import { ConfigSchema } from '../src/config/schema.js';
import { buildModel } from '../src/models/index.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { createRng } from '../src/util/rng.js';

await tf.setBackend('cpu');

const logSoftmax = (z: number[]): number[] => {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
};

const zs = [
  [2.0, 0.5, -1.0],
  [0.1, 0.3, 0.2],
];
const zt = [
  [1.0, 1.5, -0.5],
  [0.4, -0.2, 0.9],
];
const labels = [0, 2];

test('cross-entropy of fixed logits', () => {
  const expected = -(logSoftmax(zs[0])[0] + logSoftmax(zs[1])[2]) / 2;
  const got = crossEntropy(tf.tensor2d(zs), tf.tensor1d(labels, 'int32')).dataSync()[0];
  assert.ok(Math.abs(got - expected) < 1e-6, `${got} vs ${expected}`);
});

test('TNA loss = CE(snn) + CE(twin) + λ · Σ(z_snn − z_twin)² / N', () => {
  const ce = (z: number[][]): number => -(logSoftmax(z[0])[labels[0]] + logSoftmax(z[1])[labels[1]]) / 2;
  // Σ of squared differences: row 0: 1 + 1 + 0.25 = 2.25; row 1: 0.09 + 0.25 + 0.49 = 0.83 → 3.08 / 2 = 1.54
  const match = 1.54;
  const lambda = 0.5;
  const t = tnaLoss(tf.tensor2d(zs), tf.tensor2d(zt), tf.tensor1d(labels, 'int32'), lambda);
  assert.ok(Math.abs(t.match.dataSync()[0] - match) < 1e-6);
  const expected = ce(zs) + ce(zt) + lambda * match;
  assert.ok(Math.abs(t.total.dataSync()[0] - expected) < 1e-5, `${t.total.dataSync()[0]} vs ${expected}`);
});

test('KD loss: (1 − α) CE + α τ² KL(p_t ‖ p_s), and the MSE variant', () => {
  const tau = 2;
  const alpha = 0.3;
  let kl = 0;
  for (let n = 0; n < 2; n++) {
    const ls = logSoftmax(zs[n].map((v) => v / tau));
    const lt = logSoftmax(zt[n].map((v) => v / tau));
    kl += lt.reduce((s, l, k) => s + Math.exp(l) * (l - ls[k]), 0);
  }
  kl /= 2;
  const ce = -(logSoftmax(zs[0])[0] + logSoftmax(zs[1])[2]) / 2;
  const y = tf.tensor1d(labels, 'int32');
  assert.ok(Math.abs(klDivergence(tf.tensor2d(zs), tf.tensor2d(zt), tau).dataSync()[0] - kl) < 1e-6);
  const k = kdLoss(tf.tensor2d(zs), tf.tensor2d(zt), y, { kind: 'kl', temperature: tau, alpha });
  assert.ok(Math.abs(k.total.dataSync()[0] - ((1 - alpha) * ce + alpha * tau * tau * kl)) < 1e-5);
  const m = kdLoss(tf.tensor2d(zs), tf.tensor2d(zt), y, { kind: 'mse', temperature: tau, alpha });
  assert.ok(Math.abs(m.total.dataSync()[0] - ((1 - alpha) * ce + alpha * 1.54)) < 1e-5);
});

function smallModel(label: string, seed: number, bits: 32 | 2 = 32) {
  const cfg = ConfigSchema.parse({ model: { widths: [2, 3], timesteps: 2 }, quant: { bits } });
  return buildModel(cfg.model, { height: 6, width: 6, channels: 1, numClasses: 3 }, createRng(seed), label, { quant: cfg.quant });
}

const snapshot = (m: Map<string, tf.Variable>): Map<string, Float32Array> =>
  new Map([...m].map(([k, v]) => [k, (v.dataSync() as Float32Array).slice()]));
const changed = (before: Map<string, Float32Array>, m: Map<string, tf.Variable>): number =>
  [...m].filter(([k, v]) => (v.dataSync() as Float32Array).some((x, i) => x !== before.get(k)![i])).length;

function oneStep(objective: ReturnType<typeof createObjective>): void {
  const rng = createRng(9);
  const x = tf.tensor4d(Float32Array.from({ length: 4 * 36 }, () => rng.normal()), [4, 6, 6, 1]);
  const y = tf.tensor1d([0, 1, 2, 1], 'int32');
  const opt = createOptimizer(ConfigSchema.parse({}).train.optimizer, objective.params);
  const keyOf = new Map([...objective.params].map(([k, v]) => [v.name, k]));
  const { grads } = tf.variableGrads(() => objective.step(x, y, { training: true, timesteps: 2 }).total, [...objective.params.values()]);
  opt.step(new Map(Object.entries(grads).map(([n, g]) => [keyOf.get(n)!, g])), 0.1);
}

test('a KD step updates the student and leaves the frozen teacher unchanged', () => {
  const student = smallModel('student', 1, 2);
  const teacher = smallModel('teacher', 2);
  const loss = ConfigSchema.parse({ loss: { mode: 'kd', kd: { teacher: 'x' } } }).loss;
  const obj = createObjective(loss, student, { teacher: { model: teacher, timesteps: 2 } });
  assert.equal(obj.params.size, student.params.size);
  const t0 = snapshot(teacher.params);
  const tb0 = snapshot(teacher.buffers);
  const s0 = snapshot(student.params);
  oneStep(obj);
  assert.equal(changed(t0, teacher.params), 0, 'teacher parameters changed');
  assert.equal(changed(tb0, teacher.buffers), 0, 'teacher BN statistics changed');
  assert.ok(changed(s0, student.params) > student.params.size / 2, 'student barely changed');
});

test('a TNA step updates both the SNN and its twin', () => {
  const snn = smallModel('snn', 1, 2);
  const twin = smallModel('twin', 2);
  const loss = ConfigSchema.parse({ loss: { mode: 'tna' } }).loss;
  const obj = createObjective(loss, snn, { twin: { model: twin, timesteps: 2 } });
  assert.equal(obj.params.size, snn.params.size + twin.params.size);
  const a0 = snapshot(snn.params);
  const b0 = snapshot(twin.params);
  oneStep(obj);
  assert.ok(changed(a0, snn.params) > snn.params.size / 2, 'SNN barely changed');
  assert.ok(changed(b0, twin.params) > twin.params.size / 2, 'twin barely changed');
});
