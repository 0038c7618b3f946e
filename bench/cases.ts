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
  /** Timed steps; the reported figure is their median. */
  steps: posInt,
  seed: z.number().int().nonnegative(),
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

export interface BenchOptions {
  models: BenchModel[] | null;
  timesteps: number[] | null;
  batches: number[] | null;
  backend: BackendName;
  warmup: number;
  steps: number;
  quick: boolean;
  baseline: boolean;
  seed: number;
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
  --quick          1 warm-up and 2 timed steps: a smoke test, not a measurement
  --no-baseline    leave out the reference CNN at T=4 batch 32 (included otherwise)
  --seed N         seed of weights and inputs (default 1)
Inputs: reference, resnet19, resnet20 32×32×3; tiny 28×28×1; 10 classes. One child process per case.`;

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
    steps: 5,
    quick: false,
    baseline: true,
    seed: 1,
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
      case '--seed':
        [o.seed] = positiveInts(flag, value());
        break;
      case '--quick':
        o.quick = true;
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
  if (o.quick) {
    o.warmup = Math.min(o.warmup, 1);
    o.steps = Math.min(o.steps, 2);
  }
  return o;
}

function makeCase(o: BenchOptions, model: BenchModel, timesteps: number, batch: number): CaseSpec {
  return {
    model,
    timesteps,
    batch,
    input: MODEL_DEFAULTS[model].input,
    backend: o.backend,
    warmup: o.warmup,
    steps: o.steps,
    seed: o.seed,
  };
}

/** The cases the options select: the cross product of models × T × batch, baseline first. */
export function selectCases(o: BenchOptions): CaseSpec[] {
  const cases: CaseSpec[] = [];
  const seen = new Set<string>();
  const add = (c: CaseSpec): void => {
    const id = `${c.model}/${c.timesteps}/${c.batch}`;
    if (seen.has(id)) return;
    seen.add(id);
    cases.push(c);
  };
  if (o.baseline) add(makeCase(o, BASELINE.model, BASELINE.timesteps, BASELINE.batch));
  const custom = o.models !== null || o.timesteps !== null || o.batches !== null;
  if (!custom) {
    add(makeCase(o, 'reference', 4, MODEL_DEFAULTS.reference.batch));
    add(makeCase(o, 'tiny', 4, MODEL_DEFAULTS.tiny.batch));
    return cases;
  }
  for (const m of o.models ?? ['reference', 'tiny']) {
    for (const t of o.timesteps ?? [4]) {
      for (const b of o.batches ?? [MODEL_DEFAULTS[m].batch]) add(makeCase(o, m, t, b));
    }
  }
  return cases;
}
