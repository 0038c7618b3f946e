/**
 * Benchmark cases and the command line that selects them.
 *
 * A case is one (model, T, batch, input, backend) point. The baseline — the reference CNN at
 * T=4, batch 32, 32×32×3 — is always measured (unless --no-baseline), so that every results file
 * has the row that compares with the engine notes' table.
 */
import { z } from 'zod';
import { BACKENDS, type BackendName } from '../src/config/schema.js';

export const MODELS = ['reference', 'tiny', 'resnet19', 'resnet20'] as const;
export type BenchModel = (typeof MODELS)[number];

const posInt = z.number().int().positive();

const InputShapeSchema = z.strictObject({ height: posInt, width: posInt, channels: posInt, numClasses: posInt });
export type InputShape = z.infer<typeof InputShapeSchema>;

/** One case, as the parent process hands it to a child (`--case JSON`), validated there. */
export const CaseSpecSchema = z.strictObject({
  model: z.enum(MODELS),
  timesteps: posInt,
  batch: posInt,
  input: InputShapeSchema,
  backend: z.enum(BACKENDS),
  /** Untimed steps before measuring (first calls compile kernels and allocate optimizer state). */
  warmup: z.number().int().nonnegative(),
  /**
   * The warm-up also lasts at least this long (when `warmup` > 0): a step of a few milliseconds
   * needs hundreds of calls before V8 and the caches settle, and both engines get the same rule.
   */
  warmupSeconds: z.number().nonnegative().default(0),
  /** Timed steps; the reported figure is their median. */
  steps: posInt,
  seed: z.number().int().nonnegative(),
  /**
   * Threads of snn's native kernels (SNN_THREADS in the child), set per run by the parent;
   * null: the engine's default (every core).
   */
  threads: z.number().int().positive().nullable().default(null),
  /** Measure forward passes too (false in the memory sweep, which needs the training peak only). */
  measureForward: z.boolean().default(true),
  /**
   * When the first warm-up step of a phase takes longer than this, the rest of the warm-up is
   * dropped and at most 3 steps are timed (the --full grid and the memory sweep; null: never).
   */
  slowStepSeconds: z.number().positive().nullable().default(null),
});
export type CaseSpec = z.infer<typeof CaseSpecSchema>;

const CIFAR: InputShape = { height: 32, width: 32, channels: 3, numClasses: 10 };
const FASHION: InputShape = { height: 28, width: 28, channels: 1, numClasses: 10 };

/** Each model's usual input and batch: CIFAR-sized for the CIFAR networks, Fashion-MNIST for tiny. */
export const MODEL_DEFAULTS: Record<BenchModel, { input: InputShape; batch: number }> = {
  reference: { input: CIFAR, batch: 32 },
  tiny: { input: FASHION, batch: 64 },
  resnet19: { input: CIFAR, batch: 32 },
  resnet20: { input: CIFAR, batch: 32 },
};

export const BASELINE = { model: 'reference', timesteps: 4, batch: 32 } as const;

/** The grid of issue 6 (`--full`): every model × T × batch below. */
export const FULL_GRID = {
  models: ['reference', 'tiny', 'resnet19'] as BenchModel[],
  timesteps: [1, 2, 4, 8],
  batches: [32, 128],
};

/** The memory-versus-T sweep (`--memory-sweep`): resnet19 at batch 32, T = 1, 2, 4, 8. */
export const MEMORY_SWEEP = { models: ['resnet19'] as BenchModel[], timesteps: [1, 2, 4, 8], batches: [32] };

/** The interpreter the PyTorch reference runs on (Debian's python3-torch). */
export const TORCH_PYTHON = '/usr/bin/python3';

export interface BenchOptions {
  models: BenchModel[] | null;
  timesteps: number[] | null;
  batches: number[] | null;
  backend: BackendName;
  warmup: number;
  warmupSeconds: number;
  steps: number;
  quick: boolean;
  baseline: boolean;
  seed: number;
  /** Run the whole grid (FULL_GRID), with per-step time caps. */
  full: boolean;
  /** Peak RSS against T instead of the throughput table (MEMORY_SWEEP unless --models etc.). */
  memorySweep: boolean;
  /** Run the PyTorch reference next to every case (when /usr/bin/python3 has torch). */
  torch: boolean;
  /** Thread counts the PyTorch reference runs with, one fresh process each. */
  torchThreads: number[] | null;
  /** --full: skip a case whose predicted training step (from smaller ones) exceeds this. */
  maxStepSeconds: number;
  /** Re-render the Markdown of a results JSON (bench-STAMP.json → bench-STAMP.md), measuring nothing. */
  render: string | null;
  /** A single case to run in this process (the child side of bench.ts). */
  caseJson: string | null;
  help: boolean;
}

export const USAGE = `usage: node dist/bench/bench.js [options]
  --models a,b     ${MODELS.join(', ')}
                   (default: reference at T=4 batch 32 and tiny at T=4 batch 64)
  --timesteps a,b  time steps T (default 4)
  --batch a,b      batch sizes (default per model: 32, tiny 64)
  --backend NAME   ${BACKENDS.join(' | ')} (default wasm; cpu takes minutes per train step)
  --steps N        timed steps per measurement, median reported (default 5)
  --warmup N       untimed steps before them (default 2)
  --warmup-seconds S   and warm up for at least S seconds, both engines (default 2)
  --quick          1 warm-up and 2 timed steps: a smoke test, not a measurement
  --no-baseline    leave out the reference CNN at T=4 batch 32 (included otherwise)
  --seed N         seed of weights and inputs (default 1)
  --full           the issue-6 grid: ${FULL_GRID.models.join(',')} × T ${FULL_GRID.timesteps.join(',')} × batch ${FULL_GRID.batches.join(',')}
                   (cases run cheapest first; one predicted from the smaller ones to take more than
                   --max-step-seconds per training step, or more than the wasm heap's 4 GB, is
                   skipped, and so is one at least as large as a case that failed or predicted to
                   need 80 % of the available memory; a step slower than 20 s cuts the steps to 1 + 3)
  --max-step-seconds N   the --full cap (default 120)
  --memory-sweep   peak RSS against T: resnet19, batch 32, T ${MEMORY_SWEEP.timesteps.join(',')} (--models, --batch,
                   --timesteps override); one training step per point, no forward passes
  --no-torch       leave out the PyTorch reference
  --torch-threads a,b   thread counts of the PyTorch reference (default 1,2; the memory sweep 1)
  --render FILE    rewrite the Markdown of a results JSON (FILE.json → FILE.md), measuring nothing
Inputs: reference, resnet19, resnet20 32×32×3; tiny 28×28×1; 10 classes. One child process per case
and engine. The PyTorch reference (bench/torch_reference.py) runs when ${TORCH_PYTHON} can import torch.`;

function positiveInts(flag: string, v: string): number[] {
  const out = v.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new Error(`${flag}: expected positive integers separated by commas, got '${v}'`);
  }
  return out;
}

function isModel(s: string): s is BenchModel {
  return (MODELS as readonly string[]).includes(s);
}

function isBackend(s: string): s is BackendName {
  return (BACKENDS as readonly string[]).includes(s);
}

export function parseArgs(argv: readonly string[]): BenchOptions {
  const o: BenchOptions = {
    models: null,
    timesteps: null,
    batches: null,
    backend: 'wasm',
    warmup: 2,
    warmupSeconds: 2,
    steps: 5,
    quick: false,
    baseline: true,
    seed: 1,
    full: false,
    memorySweep: false,
    torch: true,
    torchThreads: null,
    maxStepSeconds: 120,
    render: null,
    caseJson: null,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag}: missing value`);
      return v;
    };
    switch (flag) {
      case '--models': {
        const names = value().split(',').map((s) => s.trim());
        const bad = names.filter((n) => !isModel(n));
        if (bad.length > 0) throw new Error(`--models: unknown ${bad.join(', ')} (known: ${MODELS.join(', ')})`);
        o.models = names.filter(isModel);
        break;
      }
      case '--timesteps':
        o.timesteps = positiveInts(flag, value());
        break;
      case '--batch':
        o.batches = positiveInts(flag, value());
        break;
      case '--backend': {
        const b = value();
        if (!isBackend(b)) throw new Error(`--backend: unknown '${b}' (known: ${BACKENDS.join(', ')})`);
        o.backend = b;
        break;
      }
      case '--steps':
        [o.steps] = positiveInts(flag, value());
        break;
      case '--warmup': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 0) throw new Error('--warmup: expected a non-negative integer');
        o.warmup = n;
        break;
      }
      case '--warmup-seconds': {
        const n = Number(value());
        if (!Number.isFinite(n) || n < 0) throw new Error('--warmup-seconds: expected a number ≥ 0');
        o.warmupSeconds = n;
        break;
      }
      case '--seed':
        [o.seed] = positiveInts(flag, value());
        break;
      case '--quick':
        o.quick = true;
        break;
      case '--full':
        o.full = true;
        break;
      case '--memory-sweep':
        o.memorySweep = true;
        break;
      case '--no-torch':
        o.torch = false;
        break;
      case '--torch-threads':
        o.torchThreads = positiveInts(flag, value());
        break;
      case '--max-step-seconds': {
        const n = Number(value());
        if (!Number.isFinite(n) || n <= 0) throw new Error('--max-step-seconds: expected a positive number');
        o.maxStepSeconds = n;
        break;
      }
      case '--render':
        o.render = value();
        break;
      case '--no-baseline':
        o.baseline = false;
        break;
      case '--case':
        o.caseJson = value();
        break;
      case '--help':
      case '-h':
        o.help = true;
        break;
      default:
        throw new Error(`unknown option '${flag}'\n${USAGE}`);
    }
  }
  if (o.full && o.memorySweep) throw new Error('--full and --memory-sweep are separate runs: pick one');
  if (o.quick) {
    o.warmup = Math.min(o.warmup, 1);
    o.warmupSeconds = 0;
    o.steps = Math.min(o.steps, 2);
  }
  return o;
}

function makeCase(o: BenchOptions, model: BenchModel, timesteps: number, batch: number): CaseSpec {
  const memory = o.memorySweep;
  return {
    model,
    timesteps,
    batch,
    input: MODEL_DEFAULTS[model].input,
    backend: o.backend,
    threads: null, // set per run by the parent
    // The memory sweep needs one training step's peak: a single step, untimed warm-up none (a
    // second step does not fit the wasm heap for resnet19 at batch 32; see docs/performance.md).
    warmup: memory ? 0 : o.warmup,
    warmupSeconds: memory ? 0 : o.warmupSeconds,
    steps: memory ? 1 : o.steps,
    seed: o.seed,
    measureForward: !memory,
    slowStepSeconds: o.full ? 20 : null,
  };
}

/** Work of a case in image-steps (T × batch): the order the --full grid runs in. */
export const caseWork = (c: Pick<CaseSpec, 'timesteps' | 'batch'>): number => c.timesteps * c.batch;

/** The thread counts the PyTorch reference runs with for these options. */
export function torchThreadsFor(o: BenchOptions): number[] {
  return o.torchThreads ?? (o.memorySweep ? [1] : [1, 2]);
}

/**
 * The cases the options select: the cross product of models × T × batch, baseline first; with
 * --full the grid, each model's cases from the cheapest up (so that the slow ones can be
 * predicted from measured ones); with --memory-sweep the resnet19 batch-32 T sweep.
 */
export function selectCases(o: BenchOptions): CaseSpec[] {
  const cases: CaseSpec[] = [];
  const seen = new Set<string>();
  const add = (c: CaseSpec): void => {
    const id = `${c.model}/${c.timesteps}/${c.batch}`;
    if (seen.has(id)) return;
    seen.add(id);
    cases.push(c);
  };
  const grid = (models: BenchModel[], ts: number[], batches: (m: BenchModel) => number[], sort: boolean): void => {
    for (const m of models) {
      const mine: CaseSpec[] = [];
      for (const t of ts) for (const b of batches(m)) mine.push(makeCase(o, m, t, b));
      if (sort) mine.sort((a, b) => caseWork(a) - caseWork(b) || a.timesteps - b.timesteps);
      mine.forEach(add);
    }
  };
  if (o.memorySweep) {
    grid(o.models ?? MEMORY_SWEEP.models, o.timesteps ?? MEMORY_SWEEP.timesteps, () => o.batches ?? MEMORY_SWEEP.batches, false);
    return cases;
  }
  if (o.full) {
    grid(o.models ?? FULL_GRID.models, o.timesteps ?? FULL_GRID.timesteps, () => o.batches ?? FULL_GRID.batches, true);
    return cases;
  }
  if (o.baseline) add(makeCase(o, BASELINE.model, BASELINE.timesteps, BASELINE.batch));
  const custom = o.models !== null || o.timesteps !== null || o.batches !== null;
  if (!custom) {
    add(makeCase(o, 'reference', 4, MODEL_DEFAULTS.reference.batch));
    add(makeCase(o, 'tiny', 4, MODEL_DEFAULTS.tiny.batch));
    return cases;
  }
  grid(o.models ?? ['reference', 'tiny'], o.timesteps ?? [4], (m) => o.batches ?? [MODEL_DEFAULTS[m].batch], false);
  return cases;
}
