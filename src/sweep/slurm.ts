/**
 * A sweep as a Slurm array job: one array task per run that is not completed. Each task asks
 * `snn sweep --task-command I` what to run for its run (start, resume or nothing), then runs
 * that `snn train` itself in the batch shell, so Slurm's SIGTERM at the time limit reaches the
 * trainer directly and it writes a checkpoint; submitting the same sweep again resumes it.
 * Slurm does the scheduling; this only writes the script and calls `sbatch`.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../runs/atomic.js';
import { commandLine, launcher, shellQuote } from './commands.js';
import type { SweepManifest } from './manifest.js';

export interface SlurmResources {
  partition?: string;
  /** Slurm time format, e.g. `30`, `2:00:00`, `1-00:00:00`. */
  time?: string;
  cpus?: number;
  /** e.g. `4G`. */
  mem?: string;
  gpus?: string;
  account?: string;
  /** At most this many tasks at once (the array's `%N`). */
  throttle?: number;
}

export const SCRIPT = 'sweep.sbatch';

/** Compresses task indices into Slurm's array syntax: 0,1,2,5 → `0-2,5`. */
export function arraySpec(tasks: readonly number[]): string {
  const s = [...tasks].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    parts.push(j === i ? String(s[i]) : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

const TIME_RE = /^(\d+-)?\d+(:\d{1,2}){0,2}$/;
const MEM_RE = /^\d+[KMGT]?$/i;

export function checkResources(r: SlurmResources): void {
  if (r.time !== undefined && !TIME_RE.test(r.time)) throw new UserError(`--time ${r.time}: expected minutes or [days-]hh:mm:ss`);
  if (r.mem !== undefined && !MEM_RE.test(r.mem)) throw new UserError(`--mem ${r.mem}: expected a size such as 4G or 4000M`);
  for (const [flag, v] of [['--partition', r.partition], ['--account', r.account], ['--gpus', r.gpus]] as const) {
    if (v !== undefined && !/^[A-Za-z0-9_.:,-]+$/.test(v)) throw new UserError(`${flag} ${v}: unexpected characters`);
  }
}

export function slurmScript(sweepDir: string, m: SweepManifest, tasks: readonly number[], r: SlurmResources): string {
  const { node, bin } = launcher();
  const sb = (k: string, v: string | number | undefined): string[] => (v === undefined ? [] : [`#SBATCH --${k}=${v}`]);
  const array = arraySpec(tasks) + (r.throttle ? `%${r.throttle}` : '');
  const snn = commandLine([node, bin]);
  return [
    '#!/bin/bash',
    `# snn sweep ${m.name}: ${m.runs.length} runs, written by \`snn sweep --emit slurm\`.`,
    '# Each array task runs one run of the sweep (started, or resumed from its last checkpoint).',
    `#SBATCH --job-name=${`snn-${m.name}`.slice(0, 64)}`,
    `#SBATCH --array=${array}`,
    `#SBATCH --chdir=${m.cwd}`,
    `#SBATCH --output=${join(sweepDir, 'logs', 'slurm-%A_%a.out')}`,
    ...sb('partition', r.partition),
    ...sb('account', r.account),
    ...sb('time', r.time),
    ...sb('cpus-per-task', r.cpus),
    ...sb('mem', r.mem),
    ...sb('gpus', r.gpus),
    '#SBATCH --ntasks=1',
    '',
    `SWEEP=${shellQuote(sweepDir)}`,
    `cmd=$(${snn} sweep --resume-sweep "$SWEEP" --task-command "$SLURM_ARRAY_TASK_ID") || exit $?`,
    'if [ -z "$cmd" ]; then echo "run $SLURM_ARRAY_TASK_ID: already completed"; exit 0; fi',
    'echo "run $SLURM_ARRAY_TASK_ID on $(hostname): $cmd"',
    'eval "$cmd"',
    'rc=$?',
    `${snn} runs plots "$SWEEP" --quiet || true`,
    'exit $rc',
    '',
  ].join('\n');
}

export function writeSlurmScript(sweepDir: string, m: SweepManifest, tasks: readonly number[], r: SlurmResources): string {
  const path = join(sweepDir, SCRIPT);
  writeFileAtomic(path, slurmScript(sweepDir, m, tasks, r));
  return path;
}

/** `sbatch --parsable SCRIPT` → the job id. */
export function submit(script: string): string {
  const r = spawnSync('sbatch', ['--parsable', script], { encoding: 'utf8' });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? 'sbatch not found: --submit needs Slurm on this machine (the script is written; submit it elsewhere)' : `sbatch: ${r.error.message}`);
  }
  if (r.status !== 0) throw new Error(`sbatch failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').pop() ?? ''}`);
  const id = r.stdout.trim().split(';')[0];
  if (!/^\d+$/.test(id)) throw new Error(`sbatch printed no job id: ${r.stdout.trim()}`);
  return id;
}
