/**
 * The PyTorch side of the benchmark: bench/torch_reference.py (the same networks, LIF maths,
 * surrogate, batch and optimizer, in PyTorch 1.13 from Debian's python3-torch), one fresh
 * process per case and thread count, run when `/usr/bin/python3 -c "import torch"` works.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TORCH_PYTHON, type CaseSpec } from './cases.js';
import { failureReason, runChild } from './child.js';
import type { Timing } from './measure.js';

/** What torch_reference.py prints (one JSON object on stdout). */
export interface TorchResult {
  spec: Pick<CaseSpec, 'model' | 'timesteps' | 'batch' | 'input' | 'warmup' | 'steps' | 'seed'>;
  engine: {
    name: 'pytorch';
    torch: string;
    python: string;
    threads: number;
    mkldnn: boolean;
    /** OMP_WAIT_POLICY as inherited from the bench's environment (null: OpenMP's default, spinning). */
    ompWaitPolicy: string | null;
    cpuCapability: string | null;
    memoryFormat: string;
    lif: string;
  };
  parameters: number;
  forward: Timing | null;
  train: Timing;
  memory: { maxRssMB: number; maxRssAfterImportMB: number };
  loss: { first: number; last: number };
}

/** One PyTorch run of a case: its result, or why there is none. */
export interface TorchRun {
  model: CaseSpec['model'];
  timesteps: number;
  batch: number;
  threads: number;
  result: TorchResult | null;
  error: string | null;
  /** true when the run was not attempted (--full cap); `error` says why. */
  skipped: boolean;
  /** VmHWM polled from outside (a lower bound when the process died). */
  polledPeakRssMB: number | null;
}

export interface TorchAvailability {
  available: boolean;
  python: string;
  version: string | null;
  /** oneDNN / ISA details from torch.__config__.show(), for the machine line. */
  details: string | null;
  reason: string | null;
}

export function torchAvailability(): TorchAvailability {
  const probe = spawnSync(
    TORCH_PYTHON,
    [
      '-c',
      'import re, torch; c = torch.__config__.show(); ' +
        'isa = re.search(r"CPU capability usage: (\\S+)", c); dnn = re.search(r"MKL-DNN (v[\\d.]+)", c); ' +
        'print(torch.__version__); print("oneDNN " + (dnn.group(1) if dnn else "?") + ", CPU capability " + (isa.group(1) if isa else "?"))',
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (probe.error) return { available: false, python: TORCH_PYTHON, version: null, details: null, reason: probe.error.message };
  if (probe.status !== 0) {
    const last = probe.stderr.trim().split('\n').pop() ?? '';
    return { available: false, python: TORCH_PYTHON, version: null, details: null, reason: last || `exit code ${probe.status}` };
  }
  const [version, details] = probe.stdout.trim().split('\n');
  return { available: true, python: TORCH_PYTHON, version: version ?? null, details: details ?? null, reason: null };
}

/** bench/torch_reference.py, from the package root. */
export const torchScript = (packageRoot: string): string => join(packageRoot, 'bench', 'torch_reference.py');

export async function runTorch(packageRoot: string, spec: CaseSpec, threads: number): Promise<TorchRun> {
  const args = [torchScript(packageRoot), '--case', JSON.stringify(spec), '--threads', String(threads)];
  if (!spec.measureForward) args.push('--skip-forward');
  if (spec.slowStepSeconds !== null) args.push('--slow-step-seconds', String(spec.slowStepSeconds));
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  const o = await runChild(TORCH_PYTHON, args, { env });
  const base = { model: spec.model, timesteps: spec.timesteps, batch: spec.batch, threads, skipped: false, polledPeakRssMB: o.polledPeakRssMB };
  const line = o.stdout.trim().split('\n').pop() ?? '';
  if (o.code === 0 && line.startsWith('{')) {
    return { ...base, result: JSON.parse(line) as TorchResult, error: null };
  }
  return { ...base, result: null, error: failureReason(o) };
}
