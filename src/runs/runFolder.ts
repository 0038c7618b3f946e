/**
 * Run folders: `runs/<name>-<yyyymmdd-hhmmss>-<id>/`, one per training run, never shared.
 * The folder is claimed with a non-recursive mkdir, which fails if it exists, so two processes
 * started in the same second cannot take the same folder.
 *
 * A run being trained holds a lock, `<run>/.lock` (JSON: pid, host, start time), from the
 * moment its folder is claimed (or its resume starts) until the process ends. `--resume`
 * refuses a run whose lock names a live process; a lock left by a process that died (SIGKILL,
 * power cut) is stale and taken over. A lock from another host cannot be checked and counts
 * as live: delete the file if no `snn train` runs there any more.
 *
 * Newest: runs are ordered by creation time, the birth time of the run folder where the file
 * system records it (ext4, xfs, btrfs, tmpfs on Linux), else the time stamp in the folder's
 * name; equal times are ordered by name. `latest` is the newest run folder (with the config's
 * name, when one is given); for `--resume latest`, runs locked by a live process are skipped,
 * so it is the newest run that no process is training.
 */
import { accessSync, constants as fsConstants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { writeError, writeFault, writeFileAtomic } from './atomic.js';
import { lockHolder, lockRun, unlockRun } from './lock.js';

export { LOCK_FILE, lockHolder, lockRun, unlockRun } from './lock.js';

export interface RunPaths {
  dir: string;
  config: string;
  meta: string;
  metrics: string;
  log: string;
  summary: string;
  checkpoints: string;
}

export function runPaths(dir: string): RunPaths {
  return {
    dir,
    config: join(dir, 'config.yaml'),
    meta: join(dir, 'meta.json'),
    metrics: join(dir, 'metrics.csv'),
    log: join(dir, 'log.jsonl'),
    summary: join(dir, 'summary.json'),
    checkpoints: join(dir, 'checkpoints'),
  };
}

function stamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Longest run name: the folder adds 23 characters (`-yyyymmdd-hhmmss-xxxxxx`) and file systems stop at 255 bytes. */
export const MAX_NAME_BYTES = 200;

/** A UserError if `name` cannot name a run folder (`.`, `..`, a hidden or too long name, a path). */
export function checkRunName(name: string): void {
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name)) {
    throw new UserError(`name: ${JSON.stringify(name.slice(0, 60))} cannot name a run folder: use letters, digits, ".", "_" and "-", not starting with "." or "-"`);
  }
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new UserError(`name: ${Buffer.byteLength(name)} characters, more than the ${MAX_NAME_BYTES} a run folder name can hold`);
}

/**
 * A UserError unless `runsDir` is a folder snn can create run folders in: an existing folder,
 * or a path whose nearest existing ancestor is a writable folder. Creates nothing. (Node's
 * recursive mkdir loops forever under /proc, so the path is walked here instead.)
 */
export function checkRunsDir(runsDir: string): void {
  const abs = resolve(runsDir);
  if (Buffer.byteLength(abs) > 3000) throw new UserError(`--runs-dir: the path is too long`);
  let p = abs;
  for (;;) {
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new UserError(`--runs-dir ${runsDir}: cannot use ${p} (${code ?? (e as Error).message})`);
    }
    if (st) {
      if (!st.isDirectory()) throw new UserError(`--runs-dir ${runsDir}: ${p} is not a folder`);
      if (/^\/(proc|sys)(\/|$)/.test(p) || !dirWritable(p)) throw new UserError(`--runs-dir ${runsDir}: cannot create run folders in ${p} (not writable)`);
      return;
    }
    const up = dirname(p);
    if (up === p) throw new UserError(`--runs-dir ${runsDir}: no part of the path exists`);
    p = up;
  }
}

function dirWritable(dir: string): boolean {
  try {
    accessSync(dir, fsConstants.W_OK | fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** mkdir -p without Node's recursive mkdir (see checkRunsDir): each missing part in turn. */
function makeRunsDir(runsDir: string): void {
  checkRunsDir(runsDir);
  const missing: string[] = [];
  for (let p = resolve(runsDir); !existsSync(p); p = dirname(p)) missing.unshift(p);
  for (const p of missing) {
    try {
      writeFault(p, 'mkdir');
      mkdirSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError(p, e);
    }
  }
}

/**
 * Claims a new run folder and takes its lock (release it with unlockRun). If the lock cannot
 * be written (disk full), the folder is removed again: a failed start leaves nothing behind.
 */
export function createRunFolder(runsDir: string, name: string, now = new Date()): RunPaths {
  checkRunName(name);
  makeRunsDir(runsDir);
  for (let attempt = 0; attempt < 20; attempt++) {
    const dir = join(runsDir, `${name}-${stamp(now)}-${randomBytes(3).toString('hex')}`);
    try {
      writeFault(dir, 'mkdir');
      mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError(dir, e);
      continue;
    }
    try {
      lockRun(dir);
    } catch (e) {
      unlockRun(dir);
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return runPaths(dir);
  }
  throw new Error(`could not claim a run folder in ${runsDir}`);
}

/** Removes a run folder this process has just created, after a failure before training started. */
export function abandonNewRun(dir: string): void {
  unlockRun(dir);
  rmSync(dir, { recursive: true, force: true });
}

export const isRunFolder = (dir: string): boolean => existsSync(join(dir, 'config.yaml'));

// ---------------------------------------------------------------------------------------------
// Finding runs

const NAME_STAMP = /-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-[0-9a-f]+$/;

/** When a run folder was created (ms since the epoch): its birth time, else the time in its name. */
export function createdMs(dir: string): number {
  const s = statSync(dir);
  if (s.birthtimeMs > 0) return s.birthtimeMs;
  const m = NAME_STAMP.exec(basename(dir));
  if (m) return new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]).getTime();
  return s.mtimeMs;
}

/** Run folders in `runsDir`, oldest first (by creation time, then name). */
export function listRunFolders(runsDir: string): string[] {
  if (!existsSync(runsDir)) return [];
  const dirs = readdirSync(runsDir)
    .map((n) => join(runsDir, n))
    .filter((d) => {
      try {
        return statSync(d).isDirectory() && isRunFolder(d);
      } catch {
        return false; // removed while listing
      }
    });
  const created = new Map(dirs.map((d) => [d, createdMs(d)]));
  return dirs.sort((a, b) => created.get(a)! - created.get(b)! || a.localeCompare(b));
}

export interface FindOptions {
  /** For --resume: `latest` skips runs a live process is training. */
  forResume?: boolean;
}

/**
 * A run given as a folder path, a folder name inside `runsDir`, or `latest` (the newest run
 * folder, optionally only those whose config name is `name`).
 */
export function findRun(ref: string, runsDir: string, name?: string, opts: FindOptions = {}): RunPaths {
  if (ref === 'latest') {
    const all = listRunFolders(runsDir).filter((d) => !name || basename(d).startsWith(`${name}-`));
    const free = opts.forResume ? all.filter((d) => lockHolder(d) === null) : all;
    const dir = free[free.length - 1];
    if (!dir) {
      const busy = all.length > 0 ? ` (${all.length} in use by running snn train processes)` : '';
      throw new UserError(`no run folders${name ? ` named ${name}-*` : ''} in ${runsDir}${opts.forResume ? ` to resume${busy}` : ''}`);
    }
    return runPaths(dir);
  }
  for (const cand of [ref, join(runsDir, ref)]) {
    if (existsSync(cand) && statSync(cand).isDirectory()) {
      if (!isRunFolder(cand)) throw new UserError(`${cand}: not a run folder (no config.yaml)`);
      return runPaths(resolve(cand));
    }
  }
  throw new UserError(`run not found: ${ref} (looked in . and ${runsDir})`);
}

/** findRun for `--resume`, and the run's lock taken: a UserError if another process trains it. */
export function claimRunForResume(ref: string, runsDir: string, name?: string): RunPaths {
  const paths = findRun(ref, runsDir, name, { forResume: true });
  lockRun(paths.dir);
  return paths;
}

export function writeJson(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
