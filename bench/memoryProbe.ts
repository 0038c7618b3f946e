/**
 * Where a training step's memory is, step by step: `node dist/bench/memoryProbe.js --model
 * resnet19 --timesteps 1 --batch 128 [--steps 3] [--optimizer sgd]`. After the gradients of each
 * step (the high point) and after its optimizer update, one line: the process's RSS, the wasm
 * heap's size (it never shrinks), the bytes of ArrayBuffers outside it (what the native path
 * saves for the backward pass, and the pool of idle ones), and tfjs's live tensors. A heap that
 * still grows after the first step means the step's allocations are scattered (fragmentation).
 */
import * as tf from '@tensorflow/tfjs';
import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { OptimizerSchema } from '../src/config/schema.js';
import { initBackend } from '../src/engine/backend.js';
import { idleHostBytes } from '../src/engine/hostArrays.js';
import { crossEntropy } from '../src/losses/crossEntropy.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { createRng } from '../src/util/rng.js';
import { CaseSpecSchema, MODEL_DEFAULTS, MODELS, type BenchModel } from './cases.js';
import { buildBenchModel, makeBatch } from './measure.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const model = flag('model', 'resnet19') as BenchModel;
if (!MODELS.includes(model)) throw new Error(`--model: one of ${MODELS.join(', ')}`);
const timesteps = Number(flag('timesteps', '1'));
const batch = Number(flag('batch', String(MODEL_DEFAULTS[model].batch)));
const steps = Number(flag('steps', '3'));
const optimizer = flag('optimizer', 'adam');

await initBackend('wasm');
const spec = CaseSpecSchema.parse({ model, timesteps, batch, backend: 'wasm', seed: 1, input: MODEL_DEFAULTS[model].input, warmup: 0, steps });
const MB = 1024 * 1024;
const heapMB = (): number => {
  const b = tf.backend();
  return b instanceof BackendWasm ? b.wasm.HEAPU8.length / MB : 0;
};
const line = (what: string): void => {
  const m = process.memoryUsage();
  const t = tf.memory();
  console.log(
    `${what.padEnd(22)} RSS ${(m.rss / MB).toFixed(0).padStart(6)} MB | wasm heap ${heapMB().toFixed(0).padStart(5)} MB | ` +
      `outside it ${(m.arrayBuffers / MB).toFixed(0).padStart(5)} MB (${(idleHostBytes() / MB).toFixed(0)} idle in the pool) | ` +
      `${t.numTensors} tensors, ${(t.numBytes / MB).toFixed(0)} MB`,
  );
};

const rng = createRng(spec.seed);
const net = buildBenchModel(spec, rng);
const { x, y } = makeBatch(spec, rng);
const vars = [...net.params.values()];
const keyOf = new Map([...net.params].map(([k, v]) => [v.name, k]));
const opt = createOptimizer(OptimizerSchema.parse({ name: optimizer, lr: 1e-3, weightDecay: 0 }), net.params);
console.log(`${model} T=${timesteps} batch ${batch}, ${optimizer}`);
line('before the first step');
for (let s = 1; s <= steps; s++) {
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => crossEntropy(net.forward(x, { training: true, timesteps }), y), vars);
    line(`step ${s}: gradients`);
    const byKey = new Map<string, tf.Tensor>();
    for (const [name, g] of Object.entries(grads)) byKey.set(keyOf.get(name) ?? name, g);
    opt.step(byKey, 1e-3);
    value.dataSync();
  });
  line(`step ${s}: updated`);
}
