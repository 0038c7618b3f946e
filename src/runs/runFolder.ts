/**
 * Run folders: `runs/<name>-<yyyymmdd-hhmmss>-<id>/`, one per training run, never shared.
 * The folder is claimed with a non-recursive mkdir, which fails if it exists, so two processes
 * started in the same second cannot take the same folder.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from './atomic.js';

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

export function createRunFolder(runsDir: string, name: string, now = new Date()): RunPaths {
  mkdirSync(runsDir, { recursive: true });
  for (let attempt = 0; attempt < 20; attempt++) {
    const dir = join(runsDir, `${name}-${stamp(now)}-${randomBytes(3).toString('hex')}`);
    try {
      mkdirSync(dir);
      return runPaths(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new Error(`could not claim a run folder in ${runsDir}`);
}

export const isRunFolder = (dir: string): boolean => existsSync(join(dir, 'config.yaml'));

/** Run folders in `runsDir`, oldest first (by the time their folder was created). */
export function listRunFolders(runsDir: string): string[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .map((n) => join(runsDir, n))
    .filter((d) => statSync(d).isDirectory() && isRunFolder(d))
    .sort((a, b) => statSync(a).birthtimeMs - statSync(b).birthtimeMs || a.localeCompare(b));
}

/**
 * A run given as a folder path, a folder name inside `runsDir`, or `latest` (the newest run
 * folder, optionally only those whose config name is `name`).
 */
export function findRun(ref: string, runsDir: string, name?: string): RunPaths {
  if (ref === 'latest') {
    const all = listRunFolders(runsDir).filter((d) => !name || basename(d).startsWith(`${name}-`));
    const dir = all[all.length - 1];
    if (!dir) throw new UserError(`no run folders${name ? ` named ${name}-*` : ''} in ${runsDir} to resume`);
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

export function writeJson(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
