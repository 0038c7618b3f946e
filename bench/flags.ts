/**
 * The command-line flags of the small bench scripts (profile.ts, memoryProbe.ts, threads.ts):
 * `--name value` pairs, and the model case most of them take.
 */
import { MODEL_DEFAULTS, MODELS, type BenchModel } from './cases.js';

/** The value after `--name`, or `fallback`. */
export function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** --model, --timesteps, --batch (default: the model's usual batch) and --steps. */
export function caseFlags(defaults: { model: BenchModel; timesteps: number; steps: number }): {
  model: BenchModel;
  timesteps: number;
  batch: number;
  steps: number;
} {
  const model = flag('model', defaults.model) as BenchModel;
  if (!MODELS.includes(model)) throw new Error(`--model: one of ${MODELS.join(', ')}`);
  return {
    model,
    timesteps: Number(flag('timesteps', String(defaults.timesteps))),
    batch: Number(flag('batch', String(MODEL_DEFAULTS[model].batch))),
    steps: Number(flag('steps', String(defaults.steps))),
  };
}
