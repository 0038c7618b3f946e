/**
 * Runs one benchmark case in this process: backend → model → timed forward passes → timed
 * training steps. Meant to run in a fresh child process per case, so that the peak RSS is the
 * case's own (the wasm heap grows and never shrinks, so a shared process would carry the largest
 * case's heap into every later one).
 */
import * as tf from '@tensorflow/tfjs';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { ConfigSchema, NeuronSchema, OptimizerSchema } from '../src/config/schema.js';
import { initBackend, type BackendInfo } from '../src/engine/backend.js';
import { crossEntropy } from '../src/losses/crossEntropy.js';
import { buildModel, type SpikingModel } from '../src/models/index.js';
import { createOptimizer, type Optimizer } from '../src/train/optimizer.js';
import { createRng, type Rng } from '../src/util/rng.js';
import type { CaseSpec } from './cases.js';
import { buildReferenceCnn } from './referenceCnn.js';

export interface Timing {
  /** Median over the timed steps, milliseconds per batch. */
  msPerBatch: number;
  imagesPerSecond: number;
  /** Every timed step, in order (ms). */
  samplesMs: number[];
  /**
   * Median CPU time of the process per step (user + system, all its threads), ms; with one
   * compute thread it hardly moves with the machine's load, where wall time does.
   */
  cpuMsPerBatch: number;
  /** batch ÷ CPU seconds per step: throughput per CPU-second. */
  imagesPerCpuSecond: number;
  cpuSamplesMs: number[];
}

export interface CaseResult {
  spec: CaseSpec;
  backend: BackendInfo;
  versions: { node: string; tfjs: string; tfjsBackendWasm: string };
  parameters: number;
  /** null when the case did not measure forward passes (the memory sweep). */
  forward: Timing | null;
  train: Timing;
  memory: {
    /** Largest process.memoryUsage().rss seen (sampled before, inside and after each step). */
    peakRssMB: number;
    /** process.resourceUsage().maxRSS: the kernel's high-water mark for this process. */
    maxRssMB: number;
    /** GPU engines: peak bytes of device buffers tfjs holds (tensors and pooled buffers); else null. */
    peakDeviceMB: number | null;
    /** Tensors left behind per timed step (0 unless something leaks; null without a warm-up step). */
    tensorsLeakedPerStep: number | null;
  };
  /** Loss at the first and last training step, a sanity check that the step really trains. */
  loss: { first: number; last: number };
}

const LR = 1e-3;
const MB = 1024 * 1024;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timing(samples: number[], cpuSamples: number[], batch: number): Timing {
  const ms = median(samples);
  const cpu = median(cpuSamples);
  const r2 = (v: number): number => Math.round(v * 100) / 100; // µs noise is not information
  return {
    msPerBatch: r2(ms),
    imagesPerSecond: r2((batch * 1000) / ms),
    samplesMs: samples.map(r2),
    cpuMsPerBatch: r2(cpu),
    imagesPerCpuSecond: r2((batch * 1000) / cpu),
    cpuSamplesMs: cpuSamples.map(r2),
  };
}

/** CPU time of this process so far (user + system), ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function buildBenchModel(spec: CaseSpec, rng: Rng): SpikingModel {
  if (spec.model === 'reference') return buildReferenceCnn(spec.input, rng, NeuronSchema.parse({}));
  const cfg = ConfigSchema.parse({ model: { preset: spec.model, timesteps: spec.timesteps } });
  return buildModel(cfg.model, spec.input, rng, spec.model);
}

/** A fixed batch of inputs in [0, 1) and random labels, from the case's seed. */
export function makeBatch(spec: CaseSpec, rng: Rng): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const { height: h, width: w, channels: c, numClasses } = spec.input;
  const xs = new Float32Array(spec.batch * h * w * c);
  for (let i = 0; i < xs.length; i++) xs[i] = rng.next();
  const ys = new Int32Array(spec.batch);
  for (let i = 0; i < ys.length; i++) ys[i] = rng.int(numClasses);
  return { x: tf.tensor4d(xs, [spec.batch, h, w, c]), y: tf.tensor1d(ys, 'int32') };
}

/**
 * One training step of the bench (forward, gradients, optimizer update at LR) as a function
 * returning the loss; `atGradients` runs while the step's gradients and saved tensors are alive.
 */
export function trainingStep(
  model: SpikingModel,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  timesteps: number,
  opt: Optimizer,
  atGradients: () => void = () => {},
): () => Promise<number> {
  // Gradients come back keyed by tfjs variable name; the optimizer wants the model's keys.
  const vars = [...model.params.values()];
  const keyOf = new Map([...model.params].map(([k, v]) => [v.name, k]));
  return async () => {
    const value = tf.tidy(() => {
      const { value: v, grads } = tf.variableGrads(() => crossEntropy(model.forward(x, { training: true, timesteps }), y), vars);
      atGradients();
      const byKey = new Map<string, tf.Tensor>();
      for (const [name, g] of Object.entries(grads)) byKey.set(keyOf.get(name) ?? name, g);
      opt.step(byKey, LR);
      return v;
    });
    // Read after the update: waits for the whole step on an asynchronous engine (WebGPU).
    const loss = (await value.data())[0];
    value.dispose();
    if (!Number.isFinite(loss)) throw new Error(`loss is ${loss}`);
    return loss;
  };
}

export async function runCase(spec: CaseSpec): Promise<CaseResult> {
  let peakRss = process.memoryUsage().rss;
  // GPU engines: bytes of device buffers tfjs holds (tensors and its buffer pool).
  let peakDevice: number | null = null;
  const sample = (): void => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const m = tf.memory() as tf.MemoryInfo & { numBytesAllocatedInGPU?: number };
    if (m.numBytesAllocatedInGPU !== undefined) peakDevice = Math.max(peakDevice ?? 0, m.numBytesAllocatedInGPU);
  };
  const backend = await initBackend(spec.backend);
  const rng = createRng(spec.seed);
  const model = buildBenchModel(spec, rng);
  const { x, y } = makeBatch(spec, rng);
  const T = spec.timesteps;

  const forwardStep = async (): Promise<void> => {
    const z = tf.tidy(() => {
      const out = model.forward(x, { training: false, timesteps: T });
      sample(); // activations are still alive here
      return out;
    });
    await z.data(); // wait for the result (at once on synchronous backends, needed on async ones)
    z.dispose();
  };

  const opt = createOptimizer(OptimizerSchema.parse({ name: 'adam', lr: LR, weightDecay: 0 }), model.params);
  // sample(): forward activations, saved tensors and gradients all alive, the step's high point.
  const trainStep = trainingStep(model, x, y, T, opt, sample);

  /**
   * Warm-up steps (at least `warmup`, and for at least `warmupSeconds` when `warmup` > 0),
   * then timed steps; also counts tensors left behind by the timed ones. With
   * `slowStepSeconds`, a first warm-up step slower than that drops the rest of the warm-up and
   * times at most 3 steps (a --full grid case that would otherwise take many minutes).
   */
  const timed = async (f: () => Promise<void>): Promise<{ samples: number[]; cpuSamples: number[]; leakedPerStep: number | null }> => {
    let warmup = spec.warmup;
    let steps = spec.steps;
    let minMs = spec.warmupSeconds * 1000;
    const start = performance.now();
    for (let i = 0; i < warmup || (warmup > 0 && performance.now() - start < minMs); i++) {
      const t0 = performance.now();
      await f();
      sample();
      if (i === 0 && spec.slowStepSeconds !== null && performance.now() - t0 > spec.slowStepSeconds * 1000) {
        warmup = 1;
        minMs = 0;
        steps = Math.min(steps, 3);
      }
    }
    // Counted after warm-up: Adam allocates its moment slots at the first step, which is no leak.
    const tensorsBefore = tf.memory().numTensors;
    const samples: number[] = [];
    const cpuSamples: number[] = [];
    for (let i = 0; i < steps; i++) {
      const c0 = cpuMs();
      const t0 = performance.now();
      await f();
      samples.push(performance.now() - t0);
      cpuSamples.push(cpuMs() - c0);
      sample();
    }
    // Without a warm-up step the first timed one allocates Adam's slots: no leak count then.
    const leakedPerStep = warmup > 0 ? (tf.memory().numTensors - tensorsBefore) / steps : null;
    return { samples, cpuSamples, leakedPerStep };
  };

  const fwd = spec.measureForward ? await timed(forwardStep) : null;
  const losses: number[] = [];
  const trn = await timed(async () => {
    losses.push(await trainStep());
  });

  const result: CaseResult = {
    spec,
    backend,
    versions: { node: process.version, tfjs: tf.version.tfjs, tfjsBackendWasm: version_wasm },
    parameters: [...model.params.values()].reduce((n, v) => n + v.size, 0),
    forward: fwd ? timing(fwd.samples, fwd.cpuSamples, spec.batch) : null,
    train: timing(trn.samples, trn.cpuSamples, spec.batch),
    memory: {
      peakRssMB: peakRss / MB,
      maxRssMB: (process.resourceUsage().maxRSS * 1024) / MB, // maxRSS is in kilobytes
      peakDeviceMB: peakDevice === null ? null : peakDevice / MB,
      tensorsLeakedPerStep: trn.leakedPerStep === null ? null : Math.max(fwd?.leakedPerStep ?? 0, trn.leakedPerStep),
    },
    loss: { first: losses[0], last: losses[losses.length - 1] },
  };
  opt.dispose();
  model.dispose();
  x.dispose();
  y.dispose();
  return result;
}
