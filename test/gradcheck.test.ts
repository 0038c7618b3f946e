/**
 * Gradient checks. With `smooth` neurons (Θ replaced by the surrogate's smooth step g) and
 * `detachReset: false`, the surrogate-gradient machinery (the fused BPTT, every connection, BN,
 * pooling, the readout) must give the exact gradient of the network, which central finite
 * differences measure. Tolerance: relative error below 2e-2 on the largest gradient entries
 * (float32 arithmetic, step 1e-2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ConfigSchema } from '../src/config/schema.js';
import { buildModel } from '../src/models/index.js';
import { crossEntropy } from '../src/losses/crossEntropy.js';
import { createRng } from '../src/util/rng.js';

await tf.setBackend('cpu');

const rng = createRng(5);
const N = 3;
const x = tf.tensor4d(Float32Array.from({ length: N * 6 * 6 }, () => rng.normal()), [N, 6, 6, 1]);
const y = tf.tensor1d([0, 2, 1], 'int32');

function check(model: Record<string, unknown>, label: string): { worst: number; keys: Set<string> } {
  const cfg = ConfigSchema.parse({ model: { preset: 'tiny', widths: [2, 3], timesteps: 3, ...model } });
  const m = buildModel(cfg.model, { height: 6, width: 6, channels: 1, numClasses: 3 }, createRng(2), 'gc', { smooth: true });
  const loss = (): tf.Scalar => crossEntropy(m.forward(x, { training: true, timesteps: 3 }), y);
  const vars = [...m.params.values()];
  const { grads } = tf.variableGrads(loss, vars);
  let worst = 0;
  let checked = 0;
  const keys = new Set<string>();
  for (const [key, v] of m.params) {
    const g = grads[v.name].dataSync();
    // The two largest entries of each parameter tensor (small ones drown in float32 noise).
    const idx = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]) - Math.abs(g[a])).slice(0, 2);
    for (const i of idx) {
      if (Math.abs(g[i]) < 1e-3) continue;
      const base = v.dataSync().slice();
      const at = (d: number): number => {
        const p = base.slice();
        p[i] += d;
        v.assign(tf.tensor(p, v.shape));
        return tf.tidy(() => loss().dataSync()[0]);
      };
      const eps = 1e-2;
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      v.assign(tf.tensor(base, v.shape));
      const rel = Math.abs(fd - g[i]) / Math.max(Math.abs(fd), Math.abs(g[i]));
      worst = Math.max(worst, rel);
      checked++;
      keys.add(key);
      assert.ok(rel < 2e-2, `${label}: ${key}[${i}] analytic ${g[i]} vs finite difference ${fd} (rel ${rel.toFixed(4)})`);
    }
  }
  assert.ok(checked >= 10, `${label}: only ${checked} entries checked`);
  m.dispose();
  return { worst, keys };
}

const neuron = { detachReset: false, surrogate: { name: 'sigmoid', alpha: 2 } };

for (const connection of ['spike', 'sew-add', 'sew-iand', 'membrane'] as const) {
  test(`surrogate gradient equals finite differences of the smooth network: ${connection}`, (t) => {
    t.diagnostic(`worst relative error ${check({ connection, neuron }, connection).worst.toExponential(2)}`);
  });
}

test('surrogate gradient equals finite differences of the smooth network: da (DANet)', (t) => {
  t.diagnostic(`worst relative error ${check({ arch: 'danet', neuron }, 'da').worst.toExponential(2)}`);
});

test('soft reset, IF neurons and tdBN pass the same check', () => {
  check({ neuron: { ...neuron, reset: 'soft' } }, 'soft');
  check({ neuron: { ...neuron, type: 'if' }, tdBN: true }, 'if+tdBN');
});

test("PLIF's tau receives the gradient finite differences measure", () => {
  const r = check({ neuron: { ...neuron, type: 'plif' } }, 'plif');
  assert.ok([...r.keys].some((k) => k.endsWith('.w')), `no PLIF w was checked: ${[...r.keys].join(', ')}`);
});
