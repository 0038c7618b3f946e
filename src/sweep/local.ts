/**
 * Runs a sweep on this machine: each run an `snn train` child process, `jobs` at a time. A
 * failing run is recorded and the others go on; completed runs are skipped and interrupted or
 * killed ones resumed, so running the same sweep again finishes what is left.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { readJson } from '../runs/runFolder.js';
import { nextAction, launcher, trainArgs, type RunAction } from './commands.js';
import { locateRun, writeManifest, type ManifestRun, type SweepManifest } from './manifest.js';
import { runPool, startChild, type Child, type ChildResult } from './pool.js';

export type RunResult = 'completed' | 'skipped' | 'failed' | 'interrupted' | 'busy' | 'not-run';

export interface RunOutcome {
  index: number;
  name: string;
  action: 'start' | 'resume' | 'skip' | 'busy' | 'none';
  result: RunResult;
  dir: string | null;
  exitCode: number | null;
  signal: string | null;
  seconds: number;
  bestAccuracy: number | null;
  error: string | null;
}

export interface LocalOptions {
  jobs: number;
  /** Progress lines (stderr). */
  log: (line: string) => void;
  /** Aborted with the signal's name: no new runs start and running ones get that signal once. */
  abort?: AbortSignal;
  /** Called when a run has ended (completed, failed or interrupted), e.g. to draw its plots. */
  onRunEnd?: (dir: string) => Promise<void>;
}

const EXIT_INTERRUPTED = new Set([130, 143]);

/** Object.assign with the patch checked against the target's type. */
const update = <T extends object>(target: T, patch: Partial<T>): void => void Object.assign(target, patch);

type Ended = 'completed' | 'failed' | 'interrupted';

function outcomeOf(run: ManifestRun, action: RunAction, r: ChildResult, dir: string | null): RunOutcome & { result: Ended } {
  let best: number | null = null;
  try {
    best = (JSON.parse(r.stdout) as { bestAccuracy?: number }).bestAccuracy ?? null;
  } catch {
    best = null;
  }
  const result: Ended = r.code === 0 ? 'completed' : r.code !== null && EXIT_INTERRUPTED.has(r.code) ? 'interrupted' : 'failed';
  const error =
    result === 'completed' ? null : r.signal ? `killed by ${r.signal}` : r.lastError || `exit code ${r.code ?? 'unknown'}`;
  return {
    index: run.index,
    name: run.name,
    action: action.kind === 'resume' ? 'resume' : 'start',
    result,
    dir,
    exitCode: r.code,
    signal: r.signal,
    seconds: r.seconds,
    bestAccuracy: best,
    error,
  };
}

export async function runLocal(sweepDir: string, manifest: SweepManifest, o: LocalOptions): Promise<RunOutcome[]> {
  const { node, bin } = launcher();
  const total = manifest.runs.length;
  const outcomes: RunOutcome[] = manifest.runs.map((r) => ({
    index: r.index,
    name: r.name,
    action: 'none',
    result: 'not-run',
    dir: locateRun(sweepDir, r),
    exitCode: null,
    signal: null,
    seconds: 0,
    bestAccuracy: null,
    error: null,
  }));
  const live = new Set<Child>();
  const stopped = (): boolean => o.abort?.aborted === true;
  o.abort?.addEventListener('abort', () => {
    const sig = o.abort?.reason as NodeJS.Signals;
    for (const c of live) c.signal(sig);
  });
  const save = (): void => writeManifest(sweepDir, manifest);
  const rel = (d: string | null): string | null => (d ? relative(sweepDir, d) : null);
  const tag = (run: ManifestRun): string => `[${run.index + 1}/${total}] ${run.name}`;

  // Runs share the cores: each child's native kernels get cores / jobs threads, unless the
  // user chose SNN_THREADS (oversubscribed OpenMP teams slow every run down).
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    SNN_THREADS: process.env['SNN_THREADS'] ?? String(Math.max(1, Math.floor(availableParallelism() / Math.max(1, o.jobs)))),
  };
  const work = async (run: ManifestRun): Promise<void> => {
    const action = nextAction(sweepDir, run);
    const out = outcomes[run.index];
    if (action.kind === 'skip') {
      update(out, { action: 'skip', result: 'skipped', dir: action.dir, bestAccuracy: bestOf(action.dir) });
      update(run, { state: 'completed', dir: rel(action.dir), pid: null });
      save();
      o.log(`${tag(run)}: already completed, skipped`);
      return;
    }
    if (action.kind === 'busy') {
      update(out, { action: 'busy', result: 'busy', error: `still running as pid ${action.pid}` });
      o.log(`${tag(run)}: still running as pid ${action.pid} (an earlier sweep), left alone`);
      return;
    }
    const args = trainArgs(sweepDir, run, action, { path: (p) => p, json: true });
    const child = startChild(node, [bin, ...args], {
      cwd: manifest.cwd,
      logFile: join(sweepDir, 'logs', `${run.name}.log`),
      detached: true,
      env: childEnv,
    });
    live.add(child);
    update(run, { state: 'running', pid: child.pid, attempts: run.attempts + 1, error: null });
    save();
    o.log(`${tag(run)}: ${action.kind === 'resume' ? `resuming (was ${action.status})` : 'started'}, pid ${child.pid}`);
    const r = await child.done;
    live.delete(child);
    const dir = locateRun(sweepDir, run);
    const res = outcomeOf(run, action, r, dir);
    outcomes[run.index] = res;
    update(run, { state: res.result, pid: null, dir: rel(dir), error: res.error });
    save();
    const acc = res.bestAccuracy !== null ? `, best accuracy ${(100 * res.bestAccuracy).toFixed(2)}%` : '';
    const msg =
      res.result === 'completed'
        ? `completed in ${res.seconds.toFixed(1)} s${acc}`
        : res.result === 'interrupted'
          ? 'interrupted (checkpoint written; run the sweep again to resume)'
          : `FAILED: ${res.error} (log: ${join('logs', `${run.name}.log`)})`;
    o.log(`${tag(run)}: ${msg}`);
    if (dir && o.onRunEnd) await o.onRunEnd(dir);
  };

  await runPool(manifest.runs, o.jobs, work, stopped);
  return outcomes;
}

function bestOf(dir: string): number | null {
  const p = join(dir, 'summary.json');
  if (!existsSync(p)) return null;
  try {
    return readJson<{ bestAccuracy?: number | null }>(p).bestAccuracy ?? null;
  } catch {
    return null;
  }
}

/** One line per result kind, e.g. `2 completed, 1 skipped, 1 failed (synth-002-...: killed by SIGKILL)`. */
export function describeOutcomes(outcomes: readonly RunOutcome[]): string {
  const count = (r: RunResult): number => outcomes.filter((o) => o.result === r).length;
  const parts: string[] = [];
  for (const r of ['completed', 'skipped', 'interrupted', 'busy', 'not-run'] as const) {
    const n = count(r);
    if (n > 0) parts.push(`${n} ${r === 'skipped' ? 'skipped (already completed)' : r === 'not-run' ? 'not started' : r}`);
  }
  const failed = outcomes.filter((o) => o.result === 'failed');
  if (failed.length > 0) parts.push(`${failed.length} failed (${failed.map((f) => `${f.name}: ${f.error}`).join('; ')})`);
  return parts.join(', ');
}
