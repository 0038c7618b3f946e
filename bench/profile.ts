/**
 * Where a training step's time goes, kernel by kernel: `node dist/bench/profile.js --model tiny
 * --timesteps 4 --batch 64 [--steps 5] [--backend wasm]`. Every kernel of the active backend is
 * wrapped with a timer (kernels run synchronously on wasm and cpu, so wall time per call is
 * exact), a few training steps run, and the table lists calls, milliseconds per step and share,
 * plus the time spent outside any kernel (JS: the LIF loops, tape bookkeeping, optimizer glue).
 * Native convolutions follow SNN_NATIVE as in training.
 */
import * as tf from '@tensorflow/tfjs';
import { OptimizerSchema } from '../src/config/schema.js';
import { initBackend, type BackendChoice } from '../src/engine/backend.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { createRng } from '../src/util/rng.js';
import { CaseSpecSchema, MODEL_DEFAULTS } from './cases.js';
import { caseFlags, flag } from './flags.js';
import { buildBenchModel, makeBatch, trainingStep } from './measure.js';

const { model, timesteps, batch, steps } = caseFlags({ model: 'tiny', timesteps: 4, steps: 5 });
const backendChoice = flag('backend', 'wasm') as BackendChoice;

const backend = await initBackend(backendChoice);
const spec = CaseSpecSchema.parse({ model, timesteps, batch, input: MODEL_DEFAULTS[model].input, backend: backendChoice, warmup: 1, steps, seed: 1 });
const rng = createRng(spec.seed);
const net = buildBenchModel(spec, rng);
const { x, y } = makeBatch(spec, rng);

const totals = new Map<string, { calls: number; ms: number }>();
let recording = false;
for (const config of tf.getKernelsForBackend(backend.name)) {
  const inner = config.kernelFunc;
  tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel({
    ...config,
    kernelFunc: (args) => {
      if (!recording) return inner(args);
      const t0 = performance.now();
      const out = inner(args);
      const entry = totals.get(config.kernelName) ?? { calls: 0, ms: 0 };
      entry.calls++;
      entry.ms += performance.now() - t0;
      totals.set(config.kernelName, entry);
      return out;
    },
  });
}

const opt = createOptimizer(OptimizerSchema.parse({ name: 'adam', lr: 1e-3, weightDecay: 0 }), net.params);
const step = trainingStep(net, x, y, timesteps, opt);

await step(); // warm-up: kernel JIT, Adam's slots
recording = true;
const t0 = performance.now();
for (let i = 0; i < steps; i++) await step();
const stepMs = (performance.now() - t0) / steps;
recording = false;

const rows = [...totals].map(([name, t]) => ({ name, calls: t.calls / steps, ms: t.ms / steps })).sort((a, b) => b.ms - a.ms);
const inKernels = rows.reduce((s, r) => s + r.ms, 0);
const pct = (ms: number): string => `${((100 * ms) / stepMs).toFixed(1)}%`;
console.log(`${model} T=${timesteps} batch ${batch}, backend ${backend.name}${backend.native ? ` + ${backend.native}` : ''}`);
console.log(`step ${stepMs.toFixed(1)} ms (${((batch * 1000) / stepMs).toFixed(1)} img/s), ${steps} steps after 1 warm-up\n`);
console.log('| kernel | calls/step | ms/step | share |\n| --- | --- | --- | --- |');
for (const r of rows) if (r.ms >= 0.05 * stepMs / 100) console.log(`| ${r.name} | ${r.calls} | ${r.ms.toFixed(1)} | ${pct(r.ms)} |`);
console.log(`| (outside kernels) | | ${(stepMs - inKernels).toFixed(1)} | ${pct(stepMs - inKernels)} |`);
