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
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { writeError, writeFileAtomic } from './atomic.js';

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

/** Claims a new run folder and takes its lock (release it with unlockRun). */
export function createRunFolder(runsDir: string, name: string, now = new Date()): RunPaths {
  try {
    mkdirSync(runsDir, { recursive: true });
  } catch (e) {
    throw writeError(runsDir, e);
  }
  for (let attempt = 0; attempt < 20; attempt++) {
    const dir = join(runsDir, `${name}-${stamp(now)}-${randomBytes(3).toString('hex')}`);
    try {
      mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError(dir, e);
      continue;
    }
    lockRun(dir);
    return runPaths(dir);
  }
  throw new Error(`could not claim a run folder in ${runsDir}`);
}

export const isRunFolder = (dir: string): boolean => existsSync(join(dir, 'config.yaml'));

// ---------------------------------------------------------------------------------------------
// Locks

export const LOCK_FILE = '.lock';

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

function readLock(dir: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as Partial<LockInfo>;
    if (typeof v.pid !== 'number' || typeof v.host !== 'string') return null;
    return { pid: v.pid, host: v.host, started: String(v.started ?? '') };
  } catch {
    return null;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const mine = (l: LockInfo): boolean => l.pid === process.pid && l.host === hostname();

/** Locks this process holds: released when it exits, whatever path it exits by. */
const held = new Set<string>();
let exitHook = false;

/** The lock of a run folder if a live process other than this one holds it. */
export function lockHolder(dir: string): LockInfo | null {
  const l = readLock(dir);
  if (!l || mine(l)) return null;
  if (l.host !== hostname()) return l; // cannot check a process on another machine
  return processAlive(l.pid) ? l : null;
}

function inUse(dir: string, l: LockInfo): UserError {
  return new UserError(
    `${dir}: in use by snn train (pid ${l.pid} on ${l.host}, since ${l.started}); wait for it to end, or delete ${join(dir, LOCK_FILE)} if that process is gone`,
  );
}

/**
 * Takes the lock of a run folder: a UserError if a live process holds it; a stale lock (its
 * process is gone) is taken over, and the temporary files a killed writer left are removed.
 * Re-entrant within one process.
 */
export function lockRun(dir: string): void {
  const file = join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  const tmp = join(dir, `.lock-${randomBytes(4).toString('hex')}`);
  try {
    writeFileSync(tmp, `${JSON.stringify(info)}\n`);
  } catch (e) {
    throw writeError(file, e);
  }
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(tmp, file); // atomic and exclusive: fails if a lock exists
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError(file, e);
      }
      const held = readLock(dir);
      if (held && mine(held)) break;
      const live = lockHolder(dir);
      if (live) throw inUse(dir, live);
      // Stale (or unreadable): move it away and try again.
      try {
        renameSync(file, `${file}-stale-${randomBytes(3).toString('hex')}`);
      } catch {
        // another process took it over first; the next attempt sees its lock
      }
      if (attempt === 4) throw new Error(`${file}: could not take the run's lock`);
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  held.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const d of held) unlockRun(d);
    });
  }
  for (const n of readdirSync(dir)) {
    if (/^\..+\.[0-9a-f]{8}\.tmp$/.test(n) || /^\.lock-stale-/.test(n)) rmSync(join(dir, n), { force: true });
  }
}

/** Releases this process's lock of a run folder (a lock held by another process is left alone). */
export function unlockRun(dir: string): void {
  held.delete(dir);
  try {
    const l = readLock(dir);
    if (l && mine(l)) rmSync(join(dir, LOCK_FILE), { force: true });
  } catch {
    // the folder is gone, or unwritable: nothing to release
  }
}

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
      throw new UserError(`no run folders${name ? ` named ${name}-*` : ''} in ${runsDir} to resume${busy}`);
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
