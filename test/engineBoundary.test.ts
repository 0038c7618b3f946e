/**
 * The engine boundary (src/engine/snnKernels.ts): the composed kernels (standard tfjs ops,
 * src/backends/composed) against independent oracles — the op-by-op LIF of src/snn/lifComposed.ts
 * and autodiff through tf.moments for BatchNorm — and a whole training step through them against
 * the cpu backend's own kernels (JS loops), and on a backend this project knows nothing about
 * (a renamed cpu backend), where they must read nothing back to the host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ConfigSchema, NeuronSchema, SURROGATES } from '../src/config/schema.js';
import { crossEntropy } from '../src/losses/crossEntropy.js';
import { buildModel } from '../src/models/index.js';
import { composedKernels } from '../src/backends/composed/index.js';
import { SNN_KERNELS, SnnNeuronForward, runKernels } from '../src/engine/snnKernels.js';
import { multiStepNeuron } from '../src/engine/snnOps.js';
import { ensureSnnKernels } from '../src/backends/register.js';
import { multiStepLifComposed } from '../src/snn/lifComposed.js';
import { neuronAttrs, neuronParams } from '../src/snn/lif.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { OptimizerSchema } from '../src/config/schema.js';
import { createRng } from '../src/util/rng.js';

tf.env().set('PROD', true);
await tf.setBackend('cpu');

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let norm = 1e-12;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    norm += b[i] ** 2;
  }
  return Math.sqrt(diff / norm);
}

/** Runs `f` on cpu with the composed SNN kernels in place of cpu's own, then puts those back. */
async function withComposedOnCpu<T>(f: () => T): Promise<T> {
  await tf.setBackend('cpu');
  ensureSnnKernels();
  const own = SNN_KERNELS.map((name) => tf.getKernel(name, 'cpu'));
  for (const name of SNN_KERNELS) tf.unregisterKernel(name, 'cpu');
  for (const config of composedKernels('cpu')) tf.registerKernel(config);
  try {
    return f();
  } finally {
    for (const name of SNN_KERNELS) tf.unregisterKernel(name, 'cpu');
    for (const config of own) if (config !== undefined) tf.registerKernel(config);
  }
}

const values = (ts: tf.Tensor[]): Float32Array[] => ts.map((t) => Float32Array.from(t.dataSync()));

test('composed neuron kernels equal the op-by-op LIF (autodiff): spikes exactly, ∂L/∂x to float precision, every option', async () => {
  const rng = createRng(31);
  const T = 4;
  const m = 300;
  const x = Float32Array.from({ length: T * m }, () => rng.normal() * 1.5 + 0.6);
  const dy = Float32Array.from({ length: T * m }, () => rng.normal());
  for (const type of ['lif', 'if'] as const) {
    for (const reset of ['hard', 'soft'] as const) {
      for (const detachReset of [true, false]) {
        for (const name of SURROGATES) {
          const cfg = NeuronSchema.parse({ type, reset, detachReset, tau: 2, vReset: reset === 'hard' ? 0.1 : 0, surrogate: { name } });
          const p = neuronParams(cfg);
          const label = `${type} ${reset} detach=${detachReset} ${name}`;
          const loss = (f: (t: tf.Tensor) => tf.Tensor) => (t: tf.Tensor) => f(t).mul(tf.tensor(dy, [T, m])).sum();
          const oracle = tf.tidy(() => {
            const f = (t: tf.Tensor) => multiStepLifComposed(t, { ...p, surrogate: cfg.surrogate });
            const xt = tf.tensor(x, [T, m]);
            return values([f(xt), tf.grad(loss(f))(xt)]);
          });
          const got = await withComposedOnCpu(() =>
            tf.tidy(() => {
              const f = (t: tf.Tensor) => multiStepNeuron(t, neuronAttrs(p, T), type === 'if' ? 1 : 0.5);
              const xt = tf.tensor(x, [T, m]);
              return values([f(xt), tf.grad(loss(f))(xt)]);
            }),
          );
          assert.deepEqual(got[0], oracle[0], `${label}: spikes`);
          assert.ok(relErr(got[1], oracle[1]) < 1e-6, `${label}: ∂L/∂x relative error ${relErr(got[1], oracle[1]).toExponential(2)}`);
        }
      }
    }
  }
});

test('composed and cpu-loop neuron kernels agree on PLIF: spikes, ∂L/∂x and ∂L/∂w', async () => {
  const rng = createRng(32);
  const T = 3;
  const shape = [T * 2, 5, 5, 3];
  const size = T * 2 * 75;
  const x = Float32Array.from({ length: size }, () => rng.normal() + 0.5);
  const dy = Float32Array.from({ length: size }, () => rng.normal());
  for (const reset of ['hard', 'soft'] as const) {
    const p = neuronParams(NeuronSchema.parse({ type: 'plif', reset, tau: 2.5 }));
    const run = (): Float32Array[] =>
      tf.tidy(() => {
        const w = tf.scalar(-Math.log(1.5));
        const f = (xt: tf.Tensor, wt: tf.Tensor) => multiStepNeuron(xt, neuronAttrs(p, T), tf.sigmoid(wt)).mul(tf.tensor(dy, shape)).sum();
        const xt = tf.tensor(x, shape);
        const [gx, gw] = tf.grads(f)([xt, w]);
        return values([multiStepNeuron(xt, neuronAttrs(p, T), tf.sigmoid(w)), gx, gw]);
      });
    await tf.setBackend('cpu');
    const loops = run();
    const composed = await withComposedOnCpu(run);
    assert.deepEqual(composed[0], loops[0], `${reset}: spikes`);
    assert.ok(relErr(composed[1], loops[1]) < 1e-5, `${reset}: ∂L/∂x`);
    assert.ok(relErr(composed[2], loops[2]) < 1e-4, `${reset}: ∂L/∂w ${composed[2][0]} vs ${loops[2][0]}`);
    assert.notEqual(loops[2][0], 0);
  }
});

test('the composed BatchNorm kernel equals autodiff through tf.moments: y to the bit, gradients to float precision', async () => {
  const rng = createRng(33);
  const shape = [6, 4, 4, 5];
  const x = Float32Array.from({ length: 6 * 80 }, () => rng.normal() * 2 + 1);
  const dy = Float32Array.from({ length: 6 * 80 }, () => rng.normal());
  const gamma = Float32Array.from({ length: 5 }, () => 1 + rng.normal() * 0.3);
  const beta = Float32Array.from({ length: 5 }, () => rng.normal() * 0.3);
  const eps = 1e-5;
  const withGrads = (bn: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor): Float32Array[] =>
    tf.tidy(() => {
      const ins = [tf.tensor(x, shape), tf.tensor1d(gamma), tf.tensor1d(beta)];
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => bn(a, g, b).mul(tf.tensor(dy, shape)).sum())(ins);
      return values([bn(ins[0], ins[1], ins[2]), value, ...grads]);
    });
  // The composed training BatchNorm this project used before the boundary (autodiff gradient).
  const oracle = await (async () => {
    await tf.setBackend('cpu');
    return withGrads((a, g, b) => {
      const m = tf.moments(a, [0, 1, 2]);
      const scale = g.mul(tf.rsqrt(m.variance.add(eps)));
      return a.mul(scale).add(b.sub(m.mean.mul(scale)));
    });
  })();
  // Through the kernel's registered gradient (runKernel returns [y, mean, variance]).
  const got = await withComposedOnCpu(() =>
    withGrads((a, g, b) => (tf.engine().runKernel('SnnBatchNormTrain', { x: a, gamma: g, beta: b }, { epsilon: eps }) as unknown as tf.Tensor[])[0]),
  );
  assert.deepEqual(got[0], oracle[0], 'y');
  const names = ['y', 'loss', 'dx', 'dγ', 'dβ'];
  for (let i = 1; i < oracle.length; i++) {
    assert.ok(relErr(got[i], oracle[i]) < 1e-5, `${names[i]}: relative error ${relErr(got[i], oracle[i]).toExponential(2)}`);
  }
});

/** A training step of a small network with BN, residual adds and every neuron kind: loss, every gradient, and the weights after an Adam step. */
function trainStep(connection: 'spike' | 'sew-add' | 'da', type: 'lif' | 'plif'): Float32Array[] {
  const rng = createRng(34);
  const input = { height: 10, width: 10, channels: 1, numClasses: 3 };
  const cfg = ConfigSchema.parse({
    model: { preset: 'tiny', timesteps: 2, connection, ...(connection === 'da' ? { arch: 'danet' } : {}), neuron: { type, tau: 2 } },
  });
  const xs = Float32Array.from({ length: 3 * 100 }, () => rng.next());
  const model = buildModel(cfg.model, input, createRng(6));
  const vars = [...model.params.values()];
  const opt = createOptimizer(OptimizerSchema.parse({ name: 'adamw', weightDecay: 0.01 }), model.params);
  const out = tf.tidy(() => {
    const x = tf.tensor4d(xs, [3, 10, 10, 1]);
    const y = tf.tensor1d([0, 1, 2], 'int32');
    const { value, grads } = tf.variableGrads(() => crossEntropy(model.forward(x, { training: true, timesteps: 2 }), y), vars);
    const r = values([value, ...vars.map((v) => grads[v.name])]);
    opt.step(new Map([...model.params].map(([k, v]) => [k, grads[v.name]])), 1e-2);
    return [...r, ...values(vars)];
  });
  opt.dispose();
  model.dispose();
  return out;
}

test('a training step on cpu through the composed kernels equals the cpu kernels: loss, every gradient, the updated weights', async () => {
  for (const [connection, type] of [['spike', 'lif'], ['sew-add', 'plif'], ['da', 'lif']] as const) {
    await tf.setBackend('cpu');
    const own = trainStep(connection, type);
    const before = tf.memory().numTensors;
    const composed = await withComposedOnCpu(() => trainStep(connection, type));
    assert.equal(tf.memory().numTensors, before, `${connection}: tensors left behind`);
    assert.equal(composed[0][0], own[0][0], `${connection} ${type}: loss`);
    const nGrads = (own.length - 1) / 2;
    for (let i = 1; i < own.length; i++) {
      const err = relErr(composed[i], own[i]);
      // Adam divides by √v: a weight whose gradient is near 0 moves by float noise of either.
      const [what, tol] = i <= nGrads ? ['gradient', 1e-5] : ['weights after Adam', 1e-4];
      assert.ok(err < tol, `${connection} ${type}: ${what} ${i}: relative error ${err.toExponential(2)}`);
    }
  }
});

test('a backend without SNN kernels of its own gets the composed ones, which read nothing back to the host', async () => {
  const cpu = tf.findBackend('cpu');
  assert.ok(cpu !== null);
  const Backend = cpu.constructor as new () => tf.KernelBackend;
  const name = 'snn-foreign';
  if (tf.findBackendFactory(name) === null) {
    tf.registerBackend(name, () => new Backend());
    for (const k of tf.getKernelsForBackend('cpu')) if (!(SNN_KERNELS as readonly string[]).includes(k.kernelName)) tf.registerKernel({ ...k, backendName: name });
  }
  await tf.setBackend('cpu');
  const ref = trainStep('sew-add', 'plif');
  await tf.setBackend(name);
  assert.equal(tf.getKernel(SnnNeuronForward, name), undefined);
  const backend = tf.backend() as tf.KernelBackend & { readSync(id: object): unknown; read(id: object): Promise<unknown> };
  let reads = 0;
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (id) => {
    reads++;
    return readSync(id);
  };
  // Count reads only inside the step's forward and backward (values() reads the results after).
  const got = tf.tidy(() => {
    const rng = createRng(35);
    const x = tf.tensor(Float32Array.from({ length: 4 * 48 }, () => rng.normal() + 0.5), [2 * 2, 4, 4, 3]);
    const w = tf.scalar(0.3);
    reads = 0;
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      multiStepNeuron(a, neuronAttrs(neuronParams(NeuronSchema.parse({ type: 'plif' })), 2), tf.sigmoid(b)).sum())([x, w]);
    const [y, mean] = runKernels('SnnBatchNormTrain', { x, gamma: tf.ones([3]), beta: tf.zeros([3]) }, { epsilon: 1e-5 });
    const n = reads;
    x.sum().dataSync(); // control: a host read is counted
    return { n, control: reads - n, keep: [gx, gw, y, mean] };
  });
  assert.equal(got.n, 0, 'host reads inside the composed SNN kernels');
  assert.ok(got.control > 0, 'the read counter counts');
  tf.dispose(got.keep);
  assert.notEqual(tf.getKernel(SnnNeuronForward, name), undefined);
  // The whole step on this backend equals cpu's (cpu's neuron is the JS loop).
  const foreign = trainStep('sew-add', 'plif');
  for (let i = 0; i < ref.length; i++) assert.ok(relErr(foreign[i], ref[i]) < 1e-5, `output ${i}`);
  await tf.setBackend('cpu');
});
