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
import { idleHostBytes } from '../src/backends/wasm-native/hostArrays.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { createRng } from '../src/util/rng.js';
import { CaseSpecSchema, MODEL_DEFAULTS } from './cases.js';
import { caseFlags, flag } from './flags.js';
import { buildBenchModel, makeBatch, trainingStep } from './measure.js';

const { model, timesteps, batch, steps } = caseFlags({ model: 'resnet19', timesteps: 1, steps: 3 });
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
const opt = createOptimizer(OptimizerSchema.parse({ name: optimizer, lr: 1e-3, weightDecay: 0 }), net.params);
let s = 0;
const step = trainingStep(net, x, y, timesteps, opt, () => line(`step ${s}: gradients`));
console.log(`${model} T=${timesteps} batch ${batch}, ${optimizer}`);
line('before the first step');
for (s = 1; s <= steps; s++) {
  await step();
  line(`step ${s}: updated`);
}
