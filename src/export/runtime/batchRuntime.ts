/**
 * The fast runtime on one thread of JavaScript: a compiled plan (plan.ts) in one arena of a
 * kernel backend (backends.ts), run a micro-batch at a time — `begin`, T × `step`, `end` — with
 * the spike counts of every neuron layer read back after each. A batch runs as micro-batches of
 * `micro` images, so the arena (membranes and maps) is sized for a few images whatever the
 * batch; measured on resnet20, 1 to 32 images per micro-batch cost the same CPU time within
 * 10 % natively, and wasm was fastest at 8. Its outputs are bit-identical
 * to the reference runtime's (reference.ts); test/exportRuntime.test.ts checks it.
 */
import { size, type ExportModel } from '../model.js';
import type { KernelBackend } from './backends.js';
import { compilePlan, type Plan } from './plan.js';
import type { NeuronTally } from './reference.js';

/** Images per micro-batch. */
export const MICRO_BATCH = 8;

export class BatchRuntime {
  readonly micro: number;
  readonly plan: Plan;
  readonly neuronLayers: string[];
  readonly counts = new Map<string, NeuronTally>();
  private arena: ArrayBuffer;
  private programFor = -1;
  private words = { begin: 0, step: 0, end: 0 };
  readonly classes: number;

  constructor(
    readonly model: ExportModel,
    readonly timesteps: number,
    readonly batch: number,
    readonly backend: KernelBackend,
    micro = MICRO_BATCH,
  ) {
    if (!Number.isInteger(timesteps) || timesteps < 1) throw new Error(`runtime: timesteps must be a positive integer, got ${timesteps}`);
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`runtime: batch must be a positive integer, got ${batch}`);
    this.micro = Math.min(batch, micro);
    this.plan = compilePlan(model, timesteps, this.micro, backend.base);
    this.arena = backend.reserve(this.plan.arenaBytes);
    const bytes = new Uint8Array(this.arena);
    for (const r of this.plan.regions) if (r.init) bytes.set(r.init, r.offset);
    this.neuronLayers = this.plan.tallies.map((t) => t.id);
    for (const id of this.neuronLayers) this.counts.set(id, { spikes: 0, steps: 0 });
    this.classes = model.numClasses;
    if (size([this.plan.input.size]) !== model.input.height * model.input.width * model.input.channels) throw new Error('runtime: input size differs from the manifest');
  }

  /** Logits [n, classes] of n ≤ batch normalised images [n, H, W, C] (a new array). */
  run(images: Float32Array, n: number): Float32Array {
    const { input, output } = this.plan;
    if (!Number.isInteger(n) || n < 1 || n > this.batch) throw new Error(`runtime: ${n} images for a batch of ${this.batch}`);
    if (images.length !== n * input.size) throw new Error(`runtime: ${images.length} values for ${n} images of ${input.size}`);
    const out = new Float32Array(n * output.size);
    for (let s = 0; s < n; s += this.micro) {
      const m = Math.min(this.micro, n - s);
      out.set(this.runMicro(images.subarray(s * input.size, (s + m) * input.size), m), s * output.size);
    }
    return out;
  }

  private runMicro(images: Float32Array, n: number): Float32Array {
    const { input, output, program } = this.plan;
    if (this.programFor !== n) {
      const p = this.plan.programs(n);
      const all = new Float64Array(this.arena, program.offset, program.words);
      all.set(p.begin, 0);
      all.set(p.step, p.begin.length);
      all.set(p.end, p.begin.length + p.step.length);
      this.words = { begin: p.begin.length, step: p.step.length, end: p.end.length };
      this.programFor = n;
    }
    new Float32Array(this.arena, input.offset, n * input.size).set(images);
    const tallies = this.plan.tallies.map((t) => new Float64Array(this.arena, t.offset, 1));
    for (const t of tallies) t[0] = 0;
    const { begin, step, end } = this.words;
    this.backend.exec(program.offset, begin);
    for (let t = 0; t < this.timesteps; t++) this.backend.exec(program.offset + 8 * begin, step);
    this.backend.exec(program.offset + 8 * (begin + step), end);
    this.plan.tallies.forEach((t, i) => {
      const c = this.counts.get(t.id)!;
      c.spikes += tallies[i][0];
      c.steps += t.size * this.timesteps * n;
    });
    return new Float32Array(this.arena, output.offset, n * output.size);
  }

  resetTallies(): void {
    for (const c of this.counts.values()) {
      c.spikes = 0;
      c.steps = 0;
    }
  }
}
