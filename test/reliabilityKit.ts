/**
 * Shared pieces of the reliability tests (test/reliability*.test.ts): running `snn` as a child
 * process that can be killed at a marker it prints (the SNN_TEST_* hooks of
 * src/util/testHooks.ts), small configs, and comparing run results.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helpers.js';

const SNN = join(repoRoot, 'bin', 'snn');

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  /** Resolves with the first stderr line matching `re` (rejects if the process ends first). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  done: Promise<Finished>;
}

/** Starts `snn args...` with extra environment variables. */
export function startSnn(args: string[], env: Record<string, string> = {}, cwd = repoRoot): Running {
  const child = spawn(process.execPath, [SNN, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { re: RegExp; resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      const line = stderr.split('\n').find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    check();
  });
  const done = new Promise<Finished>((resolve) => {
    child.on('close', (code, signal) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`snn ended (code ${code}, signal ${signal}) before printing ${w.re}; stderr:\n${stderr}`));
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    done,
    waitFor(re, timeoutMs = 120_000) {
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; stderr:\n${stderr}`)), timeoutMs);
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        check();
      });
    },
  };
}

/** Runs `snn args...` to the end. */
export function runSnn(args: string[], env: Record<string, string> = {}, cwd = repoRoot): Promise<Finished> {
  return startSnn(args, env, cwd).done;
}

/** Starts snn, waits for a marker line on stderr, SIGKILLs it there; returns the marker line. */
export async function killAt(args: string[], env: Record<string, string>, marker: RegExp): Promise<string> {
  const r = startSnn(args, env);
  let line: string;
  try {
    line = await r.waitFor(marker);
  } finally {
    r.child.kill('SIGKILL');
  }
  const end = await r.done;
  if (end.signal !== 'SIGKILL') throw new Error(`expected death by SIGKILL, got code ${end.code} signal ${end.signal}`);
  return line;
}

/** A tiny synthetic config (8×8 images, widths [4, 8], T = 2): about a second per epoch even on cpu. */
export function writeTinyConfig(
  file: string,
  o: { backend?: string; epochs?: number; train?: number; test?: number; batchSize?: number; name?: string; seed?: number; extra?: string } = {},
): string {
  writeFileSync(
    file,
    `# reliability tests: tiny and fast
name: ${o.name ?? 'rel'}
seed: ${o.seed ?? 5}
backend: ${o.backend ?? 'wasm'}
data:
  dataset: synthetic
  batchSize: ${o.batchSize ?? 16}
  testBatchSize: 64
  synthetic: { classes: 4, train: ${o.train ?? 128}, test: ${o.test ?? 32}, height: 8, width: 8, channels: 1, noise: 0.25 }
model:
  preset: tiny
  widths: [4, 8]
  timesteps: 2
train:
  epochs: ${o.epochs ?? 3}
  optimizer: { name: adam, lr: 0.01, weightDecay: 0 }
${o.extra ?? ''}`,
  );
  return file;
}

export const lastWeights = (run: string): Buffer => readFileSync(join(run, 'checkpoints', 'last', 'weights.bin'));
export const lastOptimizer = (run: string): Buffer => readFileSync(join(run, 'checkpoints', 'last', 'optimizer.bin'));
export const linkOf = (run: string, link: string): string | null => {
  try {
    return readlinkSync(join(run, 'checkpoints', link));
  } catch {
    return null;
  }
};

/** metrics.csv without the timing columns (img/s, seconds), which differ between any two runs. */
export function metricsNoTiming(run: string): string[][] {
  const lines = readFileSync(join(run, 'metrics.csv'), 'utf8').trim().split('\n');
  const head = lines[0].split(',');
  const keep = head.map((h, i) => (/img_per_s|seconds/.test(h) ? -1 : i)).filter((i) => i >= 0);
  return lines.map((l) => {
    const cells = l.split(',');
    return keep.map((i) => cells[i]);
  });
}

export const readSummary = (run: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8')) as Record<string, unknown>;

export const hasLock = (run: string): boolean => existsSync(join(run, '.lock'));

/** Runs `fn` over `items` with at most `n` at a time. */
export async function pool<T, R>(items: readonly T[], n: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/**
 * `snn ...` through the CLI's main() in this process (the code bin/snn runs, minus
 * process.exit): exit code and stderr. Saves a second of process start-up per call. stdout is
 * not captured: under `node --test` it also carries the test runner's reports, so a command
 * whose output a test reads runs as a process (runSnn).
 */
export async function snnInProcess(args: string[]): Promise<{ code: number; stderr: string }> {
  const { main } = await import('../src/cli/main.js');
  const write = process.stderr.write;
  const signals = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stderr.write;
  const exitCode = process.exitCode; // the test runner sets 1 after a failed test; main() reads it
  process.exitCode = undefined;
  try {
    const code = await main(['node', 'snn', ...args]);
    return { code, stderr };
  } finally {
    process.stderr.write = write;
    process.exitCode = exitCode;
    for (const s of ['SIGINT', 'SIGTERM'] as const) {
      for (const l of process.listeners(s)) if (!signals[s].includes(l)) process.off(s, l);
    }
  }
}

/** stderr as lines (empty lines dropped). */
export const linesOf = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);
