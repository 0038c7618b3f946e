import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { multiStepLif, neuronAttrs, neuronParams } from '../src/snn/lif.js';
import { lifForwardArrays } from '../src/backends/cpu/neuronLoops.js';
import { multiStepLifComposed } from '../src/snn/lifComposed.js';
import { surrogateDerivative, surrogatePrimitive, SURROGATE_DEFAULT_ALPHA } from '../src/snn/surrogate.js';
import { surrogateGradTensor } from '../src/snn/surrogateTensor.js';
import { NeuronSchema, SURROGATES } from '../src/config/schema.js';
import { createRng } from '../src/util/rng.js';

await tf.setBackend('cpu');

const neuron = (over: Record<string, unknown> = {}) => NeuronSchema.parse(over);
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6): void => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

/** The cpu backend's forward loop for a layer of this config (k = 1/τ, IF: unused). */
const loops = (x: Float32Array, T: number, cfg: ReturnType<typeof neuron>) => {
  const p = neuronParams(cfg);
  return lifForwardArrays(x, neuronAttrs(p, T), 1 / p.tau);
};

test('LIF forward matches hand-computed membrane and spikes (hard and soft reset)', () => {
  // Two neurons over T = 4: columns are neurons. tau 2, threshold 1 (set: the default is 0.5), V_reset 0.
  // Neuron a, x = 0.8, 0.8, 0.8, 2.5: H = 0.4, 0.6, 0.7, 1.6 → spikes only at t = 3.
  // Neuron b, x = 3, 0, 0, 0: hard: H = 1.5 (spike), 0, 0, 0; soft: H = 1.5 (spike), 0.25, 0.125, 0.0625.
  const x = new Float32Array([0.8, 3, 0.8, 0, 0.8, 0, 2.5, 0]);
  const hard = loops(x, 4, neuron({ reset: 'hard', threshold: 1 }));
  close(hard.h, [0.4, 1.5, 0.6, 0, 0.7, 0, 1.6, 0]);
  close(hard.s, [0, 1, 0, 0, 0, 0, 1, 0]);
  assert.equal(hard.count, 2);
  const soft = loops(x, 4, neuron({ reset: 'soft', threshold: 1 }));
  close(soft.h, [0.4, 1.5, 0.6, 0.25, 0.7, 0.125, 1.6, 0.0625]);
  close(soft.s, [0, 1, 0, 0, 0, 0, 1, 0]);
});

test('IF neuron integrates without leak; a membrane exactly at threshold fires', () => {
  const x = new Float32Array([0.5, 0.5, 0.5]);
  const r = loops(x, 3, neuron({ type: 'if', threshold: 1 }));
  close(r.h, [0.5, 1.0, 0.5]);
  close(r.s, [0, 1, 0]);
});

test('LIF gradient matches the hand-derived BPTT with the sigmoid surrogate', () => {
  // One neuron, T = 2, V_th 1, x = 0.8, 0.8, loss = S_0 + S_1. No spikes: H = 0.4, 0.6.
  // ∂L/∂x_1 = g'(-0.4)/τ;  ∂L/∂x_0 = (g'(-0.6) + g'(-0.4)(1 - 1/τ)) / τ, with τ = 2.
  const g = surrogateDerivative('sigmoid', 4);
  const p = neuronParams(neuron({ threshold: 1 }));
  const grad = tf.grad((x: tf.Tensor) => multiStepLif(x, p).sum())(tf.tensor2d([[0.8], [0.8]]));
  const expected = [(g(-0.6) + g(-0.4) * 0.5) / 2, g(-0.4) / 2];
  close(grad.dataSync(), expected, 1e-7);
  // Cross-check the sigmoid surrogate itself at one point by its formula: α σ(αx)(1 − σ(αx)).
  const s = 1 / (1 + Math.exp(-4 * -0.4));
  assert.ok(Math.abs(g(-0.4) - 4 * s * (1 - s)) < 1e-12);
});

test('fused LIF equals the composed-ops LIF, forward and backward, for every option', () => {
  const rng = createRng(7);
  const T = 5;
  const shape = [T, 3, 4];
  const n = T * 12;
  const xs = Float32Array.from({ length: n }, () => rng.normal() * 1.5 + 0.6);
  const dy = Float32Array.from({ length: n }, () => rng.normal());
  for (const type of ['lif', 'if'] as const) {
    for (const reset of ['hard', 'soft'] as const) {
      for (const detachReset of [true, false]) {
        for (const name of SURROGATES) {
          const cfg = neuron({ type, reset, detachReset, tau: 1.7, threshold: 0.9, vReset: reset === 'hard' ? -0.1 : 0, surrogate: { name } });
          const fused = (x: tf.Tensor) => multiStepLif(x, neuronParams(cfg));
          const composed = (x: tf.Tensor) => multiStepLifComposed(x, { ...cfg, surrogate: cfg.surrogate });
          const x = tf.tensor(xs, shape);
          const dyT = tf.tensor(dy, shape);
          const label = `${type}/${reset}/detach=${detachReset}/${name}`;
          close(fused(x).dataSync(), composed(x).dataSync(), 0);
          const gf = tf.grad((v: tf.Tensor) => fused(v).mul(dyT).sum())(x).dataSync();
          const gc = tf.grad((v: tf.Tensor) => composed(v).mul(dyT).sum())(x).dataSync();
          for (let i = 0; i < n; i++) assert.ok(Math.abs(gf[i] - gc[i]) <= 1e-5 * Math.max(1, Math.abs(gc[i])), `${label} [${i}]: ${gf[i]} vs ${gc[i]}`);
        }
      }
    }
  }
});

test('detachReset changes the gradient but not the spikes', () => {
  const x = tf.tensor2d([[1.2], [0.3], [0.9], [1.4]]);
  const a = neuronParams(neuron({ detachReset: true }));
  const b = neuronParams(neuron({ detachReset: false }));
  close(multiStepLif(x, a).dataSync(), multiStepLif(x, b).dataSync(), 0);
  const ga = tf.grad((v: tf.Tensor) => multiStepLif(v, a).sum())(x).dataSync();
  const gb = tf.grad((v: tf.Tensor) => multiStepLif(v, b).sum())(x).dataSync();
  assert.ok(ga.some((v, i) => Math.abs(v - gb[i]) > 1e-4), 'gradients should differ');
});

test('each surrogate derivative is the derivative of its smooth step, which integrates to 1', () => {
  for (const name of SURROGATES) {
    for (const alpha of [SURROGATE_DEFAULT_ALPHA[name], 1.5]) {
      const d = surrogateDerivative(name, alpha);
      const f = surrogatePrimitive(name, alpha);
      for (const x of [-0.9, -0.31, -0.05, 0.12, 0.27, 0.66]) {
        const h = 1e-5;
        const fd = (f(x + h) - f(x - h)) / (2 * h);
        assert.ok(Math.abs(fd - d(x)) < 1e-4, `${name} α=${alpha} at ${x}: ${fd} vs ${d(x)}`);
      }
      assert.ok(Math.abs(f(50) - f(-50) - 1) < 0.02, `${name}: total mass ${f(50) - f(-50)}`);
    }
  }
  // The formulas themselves at one point.
  assert.ok(Math.abs(surrogateDerivative('atan', 2)(0.3) - 2 / (2 * (1 + (Math.PI / 2 * 2 * 0.3) ** 2))) < 1e-12);
  assert.equal(surrogateDerivative('rectangle', 1)(0.49), 1);
  assert.equal(surrogateDerivative('rectangle', 1)(0.51), 0);
  assert.ok(Math.abs(surrogateDerivative('triangle', 1)(0.25) - 0.75) < 1e-12);
});

test("triangle is SpikingJelly's PiecewiseQuadratic: g'(x) = α − α²|x| on |x| ≤ 1/α, α a sharpness", () => {
  // SpikingJelly (surrogate.PiecewiseQuadratic): g(x) = 0 below −1/α, −(α²/2)|x|x + αx + 1/2 on
  // |x| ≤ 1/α, 1 above; its gradient α − α²|x| inside, 0 outside. At α = 2 (half-width 0.5, peak 2):
  const d = surrogateDerivative('triangle', 2);
  const g = surrogatePrimitive('triangle', 2);
  for (const [x, grad, prim] of [
    [0, 2, 0.5],
    [0.1, 1.6, 0.68],
    [-0.25, 1, 0.125],
    [0.5, 0, 1],
    [0.7, 0, 1],
    [-0.6, 0, 0],
  ]) {
    assert.ok(Math.abs(d(x) - grad) < 1e-12, `g'(${x}) = ${d(x)}, want ${grad}`);
    assert.ok(Math.abs(g(x) - prim) < 1e-12, `g(${x}) = ${g(x)}, want ${prim}`);
  }
  const t = surrogateGradTensor(tf.tensor1d([0, 0.1, -0.25, 0.5, 0.7]), { name: 'triangle', alpha: 2 }).dataSync();
  [2, 1.6, 1, 0, 0].forEach((v, i) => assert.ok(Math.abs(t[i] - v) < 1e-6, `tensor g'[${i}] = ${t[i]}, want ${v}`));
  // The neuron layer's own backward pass: an IF neuron at T = 1 has H = X, so ∂S/∂X = g'(X − V_th).
  const p = neuronParams(neuron({ type: 'if', threshold: 1, surrogate: { name: 'triangle', alpha: 2 } }));
  const gx = tf.grad((x: tf.Tensor) => multiStepLif(x, p).sum())(tf.tensor2d([[1, 1.1, 0.75, 1.5, 1.7]])).dataSync();
  [2, 1.6, 1, 0, 0].forEach((v, i) => assert.ok(Math.abs(gx[i] - v) < 1e-5, `neuron ∂S/∂X[${i}] = ${gx[i]}, want ${v}`));
});

test('spike tallies count spikes and neuron-steps', () => {
  const tally = { spikes: 0, neurons: 0 };
  multiStepLif(tf.tensor2d([[2, 0], [2, 0]]), neuronParams(neuron()), tally);
  assert.deepEqual(tally, { spikes: 2, neurons: 4 });
});
