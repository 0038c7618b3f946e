/**
 * `snn sweep --emit slurm --submit` against a real single-node Slurm: the test starts munged,
 * slurmctld and slurmd (Debian's munge and slurm-wlm) with a slurm.conf for one node
 * `localhost` in a temporary folder, submits a two-run sweep, waits for the array job and
 * checks that every array task produced its completed run folder; then stops the daemons by
 * pid. Skipped, with the reason printed, only where sbatch is not installed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fixture, repoRoot, tempDir } from './helpers.js';
import { requirement } from './requirements.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A program on PATH or in the sbin folders (where Debian puts the daemons). */
function which(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin'];
  for (const d of dirs) if (d && existsSync(join(d, name))) return join(d, name);
  return null;
}

const sbatch = which('sbatch');
const skip = requirement('Slurm', sbatch ? null : 'sbatch is not installed (Debian: apt-get install slurmctld slurmd slurm-client munge)');
if (skip) process.stdout.write(`# skipping the Slurm test: ${skip}\n`);

const home = tempDir('slurm');
const conf = join(home, 'slurm.conf');
const env = { ...process.env, SLURM_CONF: conf };
const daemons: ChildProcess[] = [];

function startDaemon(name: string, args: string[]): ChildProcess {
  const exe = which(name);
  if (!exe) throw new Error(`${name} not found (install slurmctld, slurmd and munge)`);
  const log = openSync(join(home, `${name}.out`), 'a');
  const p = spawn(exe, args, { env, stdio: ['ignore', log, log] });
  daemons.push(p);
  return p;
}

async function waitFor(what: string, ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) {
      const logs = readdirSync(home).filter((f) => f.endsWith('.out') || f.endsWith('.log'));
      const tail = logs.map((f) => `--- ${f}\n${readFileSync(join(home, f), 'utf8').split('\n').slice(-15).join('\n')}`).join('\n');
      throw new Error(`timed out waiting for ${what}\n${tail}`);
    }
    await sleep(250);
  }
}

before(async () => {
  if (skip) return;
  for (const d of ['munge', 'spool', 'state']) mkdirSync(join(home, d), { mode: 0o700 });
  chmodSync(home, 0o755);
  const key = join(home, 'munge', 'munge.key');
  writeFileSync(key, randomBytes(1024), { mode: 0o400 });
  const sock = join(home, 'munge', 'sock');
  startDaemon('munged', ['-F', '--force', `--key-file=${key}`, `--socket=${sock}`, `--pid-file=${join(home, 'munge', 'pid')}`, `--seed-file=${join(home, 'munge', 'seed')}`, `--log-file=${join(home, 'munged.log')}`]);
  await waitFor('munged', () => existsSync(sock), 15_000);
  const port = 20000 + Math.floor(Math.random() * 20000);
  writeFileSync(
    conf,
    [
      'ClusterName=snntest',
      'SlurmctldHost=localhost',
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      `AuthInfo=socket=${sock}`,
      'CredType=cred/munge',
      `SlurmctldPort=${port}`,
      `SlurmdPort=${port + 1}`,
      `StateSaveLocation=${join(home, 'state')}`,
      `SlurmdSpoolDir=${join(home, 'spool')}`,
      `SlurmctldPidFile=${join(home, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(home, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(home, 'slurmctld.log')}`,
      `SlurmdLogFile=${join(home, 'slurmd.log')}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'MpiDefault=none',
      'MailProg=/bin/true',
      'ReturnToService=2',
      'KillWait=10',
      'MinJobAge=300',
      'NodeName=localhost CPUs=2 RealMemory=4000 State=UNKNOWN',
      'PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'),
  );
  startDaemon('slurmctld', ['-D', '-f', conf]);
  startDaemon('slurmd', ['-D', '-N', 'localhost', '-f', conf]);
  await waitFor('an idle Slurm node', () => spawnSync('sinfo', ['-h', '-o', '%t'], { env, encoding: 'utf8' }).stdout?.trim() === 'idle', 60_000);
});

after(async () => {
  for (const p of daemons.reverse()) {
    if (p.exitCode !== null || p.signalCode !== null) continue;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    await Promise.race([gone, sleep(10_000).then(() => p.kill('SIGKILL'))]);
  }
});

interface Manifest {
  runs: { name: string }[];
  slurm: { jobId: string; tasks: number[] }[];
}

test('a sweep submitted with --emit slurm --submit runs every array task into its run folder', { skip, timeout: 240_000 }, async () => {
  const runs = join(home, 'runs');
  const args = [
    join(repoRoot, 'bin', 'snn'), 'sweep', '--config', fixture('synthetic.yaml'), '--set', 'train.epochs=2',
    '--grid', 'model.timesteps=1,2', '--runs-dir', runs, '--name', 'slurm', '--emit', 'slurm', '--submit',
    '--cpus', '1', '--mem', '1500M', '--time', '10',
  ];
  const r = spawnSync(process.execPath, args, { cwd: repoRoot, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const jobId = r.stdout.trim();
  assert.match(jobId, /^\d+$/);
  const sweep = join(runs, 'sweeps', 'slurm');
  const m = JSON.parse(readFileSync(join(sweep, 'manifest.json'), 'utf8')) as Manifest;
  assert.deepEqual(m.slurm.map((s) => [s.jobId, s.tasks]), [[jobId, [0, 1]]]);

  const inQueue = (): boolean => (spawnSync('squeue', ['-h', '-j', jobId], { env, encoding: 'utf8' }).stdout ?? '').trim() !== '';
  await waitFor(`Slurm job ${jobId}`, () => !inQueue(), 200_000);
  const summaries = m.runs.map((run) => {
    const dir = readdirSync(sweep).find((n) => n.startsWith(`${run.name}-2`));
    assert.ok(dir, `no run folder for ${run.name}; sweep folder: ${readdirSync(sweep).join(' ')}`);
    return JSON.parse(readFileSync(join(sweep, dir, 'summary.json'), 'utf8')) as { status: string; epochsDone: number };
  });
  assert.deepEqual(summaries.map((s) => [s.status, s.epochsDone]), [['completed', 2], ['completed', 2]]);
  for (const task of [0, 1]) {
    const out = readFileSync(join(sweep, 'logs', `slurm-${jobId}_${task}.out`), 'utf8');
    assert.match(out, new RegExp(`run ${task} on .*snn train --config`));
  }

  // Submitting the finished sweep again submits nothing.
  const again = spawnSync(process.execPath, args, { cwd: repoRoot, env, encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /nothing to submit/);
});
