/**
 * `npm run bench:exported`: the exported ternary network's runtime (src/export/runtime: native
 * and wasm kernels) against PyTorch's float forward (bench/torch_reference.py, same preset, same
 * input shape, eval mode) and snn's TensorFlow.js forward of the same network, for each model at
 * T = 4, batch 1 and 32, 1 and 2 threads; the reference runtime at batch 1; the runtime against
 * the firing rate (the model as given and with every threshold raised); resident weight bytes.
 *
 *   node dist/bench/exported.js [--models tiny,resnet20,resnet19] [--export tiny=DIR ...]
 *                               [--seconds 2] [--out bench/results]
 *
 * `--export model=DIR` uses a trained export (`snn export RUN --ternary`) and its test images;
 * without it the model is built untrained with ternary weights (quant.bits 2) and exported in
 * process (BatchNorm statistics from 4 training-mode passes), on random images. Wall time on a shared machine is noisy: every figure also has its
 * CPU time (all threads of the process), and the Markdown gives ratios of both.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { ConfigSchema } from '../src/config/schema.js';
import { loadDataset } from '../src/data/registry.js';
import { normalisationTable } from '../src/data/loader.js';
import { initBackend } from '../src/engine/backend.js';
import { nativeStatus } from '../src/backends/wasm-native/native.js';
import { exportModel } from '../src/export/graph.js';
import { float32Bytes, type ExportModel } from '../src/export/model.js';
import { createRunner, type Runner } from '../src/export/runtime/runner.js';
import { readSnnExport } from '../src/export/snnFormat.js';
import { buildModel } from '../src/models/index.js';
import { createRng } from '../src/util/rng.js';
import { packageRoot } from '../src/util/paths.js';
import { flag } from './flags.js';
import { gitCommit, stamp } from './report.js';
import { formatExportedMarkdown, type ExportedBench, type Measure, type ModelBench } from './exportedReport.js';
import { TORCH_PYTHON } from './cases.js';

const T = 4;
const seconds = Number(flag('seconds', '2'));

/** Median wall and CPU ms of `f` over at least 3 runs and `seconds`, after one warm-up run. */
async function time(f: () => Promise<unknown>, images: number, budget = seconds): Promise<Measure> {
  await f();
  const wall: number[] = [];
  const cpu: number[] = [];
  const start = performance.now();
  // At least 3 runs (2 when one takes longer than the budget), more while the budget lasts.
  while (wall.length < 2 || (wall.length < 3 && wall[0] < budget * 1000) || (performance.now() - start < budget * 1000 && wall.length < 50)) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await f();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const ms = med(wall);
  const cpuMs = med(cpu);
  return { msPerBatch: ms, imagesPerSecond: (images * 1000) / ms, cpuMsPerBatch: cpuMs, imagesPerCpuSecond: (images * 1000) / cpuMs, runs: wall.length };
}

function parseExports(): Map<string, string> {
  const out = new Map<string, string>();
  process.argv.forEach((a, i) => {
    if (a === '--export') {
      const [k, dir] = process.argv[i + 1].split('=');
      out.set(k, dir);
    }
  });
  return out;
}

/** The model (trained export or untrained, exported here), its config and a batch of 32 normalised images. */
async function load(name: string, dir: string | undefined): Promise<{ em: ExportModel; cfg: ReturnType<typeof ConfigSchema.parse>; images: Float32Array; trained: boolean; packedBytes: number | null }> {
  if (dir) {
    const { model, manifest } = readSnnExport(dir);
    const cfg = ConfigSchema.parse(manifest.source?.config);
    const data = await loadDataset(cfg.data, cfg.seed);
    const { height: H, width: W, channels: C } = data.test;
    const px = H * W * C;
    const lut = normalisationTable(manifest.input.mean, manifest.input.std);
    const images = Float32Array.from(data.test.images.subarray(0, 32 * px), (v, j) => lut[(j % C) * 256 + v]);
    return { em: model, cfg, images, trained: true, packedBytes: manifest.sizes.packedBytes };
  }
  const cfg = ConfigSchema.parse({ model: { preset: name, timesteps: T }, quant: { bits: 2 } });
  const input = { height: 32, width: 32, channels: 3, numClasses: 10 };
  const m = buildModel(cfg.model, input, createRng(1), name, { quant: cfg.quant });
  const rng = createRng(2);
  const images = Float32Array.from({ length: 32 * 32 * 32 * 3 }, () => rng.next());
  // BatchNorm's running statistics from forward passes in training mode on these images, so
  // that pre-activations are normalised as after training and the neurons fire at a realistic
  // rate: from 0, k passes at momentum 0.1 leave (1 − 0.9^k)·(batch statistics), so divide by that.
  const running = [...m.buffers].filter(([k]) => k.endsWith('running_mean') || k.endsWith('running_var')).map(([, v]) => v);
  for (const v of running) v.assign(tf.zerosLike(v));
  const x = tf.tensor4d(images.subarray(0, 8 * 3072), [8, 32, 32, 3]);
  const passes = 4;
  for (let i = 0; i < passes; i++) tf.tidy(() => m.forward(x, { training: true, timesteps: T }).dataSync());
  for (const v of running) tf.tidy(() => v.assign(v.div(1 - 0.9 ** passes)));
  x.dispose();
  const em = exportModel(m, { ...input, mean: [0, 0, 0], std: [1, 1, 1] }, 10, T, { ternary: true });
  m.dispose();
  return { em, cfg, images, trained: false, packedBytes: null };
}

/** Every neuron's threshold × k (fewer spikes). */
const raiseThresholds = (em: ExportModel, k: number): ExportModel => ({
  ...em,
  nodes: em.nodes.map((n) => (n.op === 'neuron' ? { ...n, neuron: { ...n.neuron, threshold: n.neuron.threshold * k } } : n)),
});

async function runtimeMeasure(em: ExportModel, images: Float32Array, runtime: 'native' | 'wasm' | 'reference', batch: number, threads: number): Promise<{ m: Measure; rate: number; runner: string; weightBytes: number | null }> {
  const r: Runner = await createRunner(em, { runtime, batch, threads, timesteps: T });
  try {
    const x = images.subarray(0, (images.length / 32) * batch);
    r.resetTallies();
    const m = await time(() => r.run(x, batch), batch, runtime === 'reference' ? Math.min(seconds, 1) : seconds);
    let spikes = 0;
    let steps = 0;
    for (const t of r.tallies().values()) {
      spikes += t.spikes;
      steps += t.steps;
    }
    return { m, rate: steps > 0 ? spikes / steps : 0, runner: r.description, weightBytes: r.weightBytes };
  } finally {
    await r.close();
  }
}

function torchForward(model: string, input: { height: number; width: number; channels: number }, batch: number, threads: number): Measure | string {
  const args = ['bench/torch_reference.py', '--model', model, '--timesteps', String(T), '--batch', String(batch), '--threads', String(threads),
    '--input', `${input.height}x${input.width}x${input.channels}`, '--skip-train', '--warmup', '1', '--warmup-seconds', String(seconds / 2), '--steps', batch === 1 ? '10' : '2'];
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  const p = spawnSync(TORCH_PYTHON, args, { cwd: packageRoot(), env, encoding: 'utf8', timeout: 1_800_000 });
  const line = (p.stdout ?? '').trim().split('\n').pop() ?? '';
  if (p.status !== 0 || !line.startsWith('{')) return `python3 failed: ${(p.stderr ?? '').trim().split('\n').pop() ?? p.status}`;
  const f = JSON.parse(line).forward as { msPerBatch: number; cpuMsPerBatch: number };
  return { msPerBatch: f.msPerBatch, imagesPerSecond: (batch * 1000) / f.msPerBatch, cpuMsPerBatch: f.cpuMsPerBatch, imagesPerCpuSecond: (batch * 1000) / f.cpuMsPerBatch, runs: batch === 1 ? 10 : 2 };
}

async function tfjsForward(cfg: ReturnType<typeof ConfigSchema.parse>, name: string, em: ExportModel, images: Float32Array, batch: number, threads: number): Promise<Measure> {
  nativeStatus().addon?.setThreads(threads);
  const input = { height: em.input.height, width: em.input.width, channels: em.input.channels, numClasses: em.numClasses };
  const m = buildModel({ ...cfg.model, timesteps: T }, input, createRng(1), name, { quant: cfg.quant });
  const x = tf.tensor4d(images.subarray(0, (images.length / 32) * batch), [batch, input.height, input.width, input.channels]);
  try {
    return await time(async () => tf.tidy(() => m.forward(x, { training: false, timesteps: T }).dataSync()), batch);
  } finally {
    x.dispose();
    m.dispose();
  }
}

async function main(): Promise<void> {
  const models = flag('models', 'tiny,resnet20,resnet19').split(',');
  const exports = parseExports();
  const outDir = flag('out', join(packageRoot(), 'bench', 'results'));
  const backend = await initBackend('auto');
  const load0 = loadavg()[0];
  const results: ModelBench[] = [];
  const base = join(outDir, `exported-${stamp(new Date())}`);
  mkdirSync(outDir, { recursive: true });
  const write = (models: ModelBench[]): void => {
    const report: ExportedBench = {
      createdAt: new Date().toISOString(),
      command: `node dist/bench/exported.js ${process.argv.slice(2).join(' ')}`.trim(),
      commit: gitCommit(packageRoot()),
      machine: { cpu: cpus()[0]?.model ?? null, cores: cpus().length, loadAtStart: load0, loadAtEnd: loadavg()[0], tfjsBackend: `${backend.name}${backend.native ? ` + ${backend.native}` : ''}` },
      models,
    };
    writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(`${base}.md`, formatExportedMarkdown(report));
    process.stderr.write(`wrote ${base}.json and .md\n`);
  };
  for (const name of models) {
    const { em, cfg, images, trained, packedBytes } = await load(name, exports.get(name));
    process.stderr.write(`${name}: ${trained ? 'trained export' : 'untrained, exported here'}\n`);
    const mb: ModelBench = { model: name, trained, input: [em.input.height, em.input.width, em.input.channels], timesteps: T, rows: [], rates: [], memory: { weightBytesResident: 0, float32Bytes: float32Bytes(em), packedFileBytes: packedBytes } };
    for (const batch of [1, 32]) {
      for (const threads of [1, 2]) {
        const native = await runtimeMeasure(em, images, 'native', batch, threads);
        const wasm = await runtimeMeasure(em, images, 'wasm', batch, threads);
        mb.memory.weightBytesResident = native.weightBytes ?? 0;
        const torch = torchForward(name, em.input, batch, threads);
        const tfjs = await tfjsForward(cfg, name, em, images, batch, threads);
        mb.rows.push({ batch, threads, native: native.m, nativeRunner: native.runner, wasm: wasm.m, wasmRunner: wasm.runner, torch, tfjs, firingRate: native.rate });
        process.stderr.write(`  batch ${batch}, ${threads} thread(s): native ${native.m.imagesPerSecond.toFixed(0)} img/s, wasm ${wasm.m.imagesPerSecond.toFixed(0)}, torch ${typeof torch === 'string' ? torch : torch.imagesPerSecond.toFixed(0)}, tfjs ${tfjs.imagesPerSecond.toFixed(0)}\n`);
      }
    }
    for (const k of [1, 1.5, 3]) {
      const v = raiseThresholds(em, k);
      const native = await runtimeMeasure(v, images, 'native', 32, 1);
      const wasm = await runtimeMeasure(v, images, 'wasm', 32, 1);
      const reference = await runtimeMeasure(v, images, 'reference', 1, 1);
      mb.rates.push({ thresholdScale: k, firingRate: native.rate, native: native.m, wasm: wasm.m, reference: reference.m });
      process.stderr.write(`  V_th ×${k}: rate ${native.rate.toFixed(4)}, native ${native.m.imagesPerSecond.toFixed(0)} img/s, reference ${reference.m.imagesPerSecond.toFixed(1)}\n`);
    }
    results.push(mb);
    write(results); // after every model: a long run that is stopped keeps what it measured
  }
}
await main();
