/**
 * A sweep folder (`<runs-dir>/sweeps/<name>/`) holds `manifest.json` (the plan: every run's
 * overrides and name, and its run folder once it exists), `base.yaml` (the config the runs
 * start from, frozen at the first invocation so that editing the original file cannot change a
 * half-done sweep), `logs/`, and the run folders themselves.
 *
 * What state a run is in is read from its run folder (summary.json), never from the manifest
 * alone: the run folders are the truth, which is what lets a sweep be re-run after a crash, a
 * kill or a Slurm time limit and pick up where each run stopped.
 */
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeJson } from '../runs/runFolder.js';
import { UserError } from '../util/errors.js';
import type { GridAxis } from './grid.js';

export const MANIFEST = 'manifest.json';
export const BASE_CONFIG = 'base.yaml';

export interface ManifestRun {
  index: number;
  /** Run name (prefix of its run folder's name), unique within the sweep. */
  name: string;
  /** key path → value as typed on the command line (read as YAML, like `--set`). */
  overrides: Record<string, string>;
  /** The run folder, relative to the sweep folder; null until a process has created it. */
  dir: string | null;
  /** What the last local `snn sweep` saw (informational; summary.json is authoritative). */
  state: 'pending' | 'running' | 'completed' | 'failed' | 'interrupted';
  /** Process id while a local sweep runs it, so a second sweep does not start it twice. */
  pid: number | null;
  attempts: number;
  error: string | null;
}

export interface SlurmSubmission {
  jobId: string;
  submitted: string;
  script: string;
  tasks: number[];
}

export interface SweepManifest {
  kind: 'snn-sweep';
  version: 1;
  name: string;
  /** sha256 of the base config and the axes: the same command finds the same sweep. */
  planKey: string;
  created: string;
  /** Working folder of the runs: relative paths in the config (data.root, ...) resolve from it. */
  cwd: string;
  /** The config file the sweep was made from (for the record; runs use base.yaml). */
  config: string;
  sets: string[];
  axes: GridAxis[];
  runs: ManifestRun[];
  slurm: SlurmSubmission[];
}

export const isSweepFolder = (dir: string): boolean => existsSync(join(dir, MANIFEST));

export function readManifest(dir: string): SweepManifest {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) throw new UserError(`${dir}: not a sweep folder (no ${MANIFEST})`);
  let m: SweepManifest;
  try {
    m = readJson<SweepManifest>(path);
  } catch (e) {
    throw new UserError(`${path}: unreadable manifest: ${(e as Error).message}`);
  }
  if (m.kind !== 'snn-sweep' || !Array.isArray(m.runs)) throw new UserError(`${path}: not an snn sweep manifest`);
  return m;
}

export function writeManifest(dir: string, m: SweepManifest): void {
  writeJson(join(dir, MANIFEST), m);
}

const RUN_SUFFIX = /^-\d{8}-\d{6}-[0-9a-f]{6}$/;

/**
 * The run folder of a manifest run: the recorded one, else the newest folder in the sweep
 * folder whose name is exactly `<run name>-<stamp>-<id>` (a Slurm task or an emitted command
 * creates it without updating the manifest).
 */
export function locateRun(sweepDir: string, run: ManifestRun): string | null {
  if (run.dir && existsSync(join(sweepDir, run.dir, 'config.yaml'))) return join(sweepDir, run.dir);
  if (!existsSync(sweepDir)) return null;
  const matches = readdirSync(sweepDir)
    .filter((n) => n.startsWith(`${run.name}-`) && RUN_SUFFIX.test(n.slice(run.name.length)))
    .map((n) => join(sweepDir, n))
    .filter((d) => existsSync(join(d, 'config.yaml')))
    .sort((a, b) => statSync(a).birthtimeMs - statSync(b).birthtimeMs || a.localeCompare(b));
  return matches[matches.length - 1] ?? null;
}

export type RunStatus = 'none' | 'running' | 'completed' | 'interrupted' | 'failed' | 'unknown';

/** The status summary.json records (`none` without a folder; `unknown` before the first summary). */
export function folderStatus(dir: string | null): RunStatus {
  if (!dir) return 'none';
  const p = join(dir, 'summary.json');
  if (!existsSync(p)) return 'unknown';
  try {
    const s = JSON.parse(readFileSync(p, 'utf8')) as { status?: unknown };
    const st = s.status;
    return st === 'running' || st === 'completed' || st === 'interrupted' || st === 'failed' ? st : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Whether `pid` is a live process that is training this run (its command line names the run
 * or its folder), so a second sweep leaves it alone. A reused pid fails the name check.
 */
export function isTraining(pid: number | null, run: ManifestRun, dir: string | null): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmd.includes(run.name) || (dir !== null && cmd.includes(dir));
  } catch {
    return true; // no /proc: trust the live pid
  }
}

/**
 * Claims a sweep folder for one local `snn sweep` process (`sweep.lock` holds its pid), so
 * that two invocations cannot start the same pending runs. A lock left by a dead process is
 * taken over. Returns the release function.
 */
export function lockSweep(dir: string): () => void {
  const path = join(dir, 'sweep.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(path, 'utf8').trim());
      let alive = false;
      try {
        process.kill(pid, 0);
        alive = Number.isInteger(pid) && pid > 0 && pid !== process.pid;
      } catch {
        alive = false;
      }
      if (alive) throw new UserError(`${dir} is being run by another snn sweep (pid ${pid}); wait for it or stop it`);
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not lock ${dir}`);
}
