/**
 * What to do next for one run of a sweep, and the `snn train` command line that does it. The
 * local job pool, `--emit commands` and the Slurm array tasks all go through here, so a run
 * is started, resumed or skipped by the same rule wherever it runs.
 */
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE_CONFIG, folderStatus, isTraining, locateRun, type ManifestRun, type RunStatus } from './manifest.js';

export type RunAction =
  | { kind: 'skip'; dir: string }
  | { kind: 'busy'; dir: string | null; pid: number }
  | { kind: 'start' }
  | { kind: 'resume'; dir: string; status: RunStatus };

/**
 * completed → skip; a live process of an earlier sweep still on it → busy; a folder in any
 * other state (interrupted, killed while `running`, failed) → resume from its last checkpoint
 * (a folder without one trains from the start, in the same folder); no folder → start.
 */
export function nextAction(sweepDir: string, run: ManifestRun): RunAction {
  const dir = locateRun(sweepDir, run);
  const status = folderStatus(dir);
  if (dir && status === 'completed') return { kind: 'skip', dir };
  if (run.pid && isTraining(run.pid, run, dir)) return { kind: 'busy', dir, pid: run.pid };
  if (dir) return { kind: 'resume', dir, status };
  return { kind: 'start' };
}

export interface ArgOptions {
  /** How paths appear (absolute for child processes, relative to the shell for printed lines). */
  path: (p: string) => string;
  /** Ask for the JSON summary on stdout (children of a local sweep) rather than just quiet. */
  json: boolean;
}

/** Arguments after `snn` for a run's next step (`start` or `resume`). */
export function trainArgs(sweepDir: string, run: ManifestRun, action: RunAction, o: ArgOptions): string[] {
  const tail = ['--runs-dir', o.path(sweepDir), o.json ? '--json' : '--quiet'];
  if (action.kind === 'resume') return ['train', '--resume', o.path(action.dir), ...tail];
  const sets = Object.entries(run.overrides).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
  return ['train', '--config', o.path(join(sweepDir, BASE_CONFIG)), ...sets, '--name', run.name, ...tail];
}

/** The snn launcher of this installation (dist/src/sweep → bin/snn), run with this node. */
export function launcher(): { node: string; bin: string } {
  return { node: process.execPath, bin: join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'snn') };
}

/** A path as a shell user at `cwd` would type it: relative when below cwd, else absolute. */
export function displayPath(cwd: string): (p: string) => string {
  return (p: string): string => {
    if (!isAbsolute(p)) return p;
    const r = relative(cwd, p);
    return r === '' ? '.' : r.startsWith('..') || isAbsolute(r) ? p : r;
  };
}

/** POSIX shell quoting: bare when safe, else single quotes. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export const commandLine = (argv: readonly string[]): string => argv.map(shellQuote).join(' ');
