/**
 * The run lock under a race (issue 18, item 3): four processes call lockRun on one run folder
 * at the same instant, 40 times over, half the time with a stale lock (its process is gone)
 * in the folder and half with none. Each time exactly one must hold the lock, the others must
 * be refused as "in use", and `.lock` must name the holder.
 *
 * The processes are forked once and driven over IPC; for each trial they spin until a common
 * start time, so their calls overlap (a check-then-rename takeover had two holders in about
 * half of such trials).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { repoRoot, tempDir } from './helpers.js';

const WORKER = `
import { lockRun } from ${JSON.stringify(join(repoRoot, 'dist', 'src', 'runs', 'runFolder.js'))};
process.on('message', ({ dir, at }) => {
  while (Date.now() < at) {} // spin: all four start together
  try {
    lockRun(dir);
    process.send({ pid: process.pid, held: true });
  } catch (e) {
    process.send({ pid: process.pid, held: false, message: String(e.message) });
  }
});
process.send({ ready: true });
`;

interface Reply {
  pid: number;
  held: boolean;
  message?: string;
}

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('4 processes racing for one run lock, 40 times (stale lock or none): exactly one holder each time', async () => {
  const work = tempDir('lockrace');
  const script = join(work, 'worker.mjs');
  writeFileSync(script, WORKER);
  const workers: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < 4; i++) {
    const w = fork(script, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    workers.push(w);
    ready.push(new Promise((resolve) => w.once('message', () => resolve())));
  }
  await Promise.all(ready);
  const dead = deadPid();
  const problems: string[] = [];
  try {
    for (let trial = 0; trial < 40; trial++) {
      const dir = join(work, `run-${trial}`);
      mkdirSync(dir);
      const stale = trial % 2 === 0;
      if (stale) writeFileSync(join(dir, '.lock'), `${JSON.stringify({ pid: dead, host: hostname(), started: 'earlier' })}\n`);
      const at = Date.now() + 40;
      const replies = await Promise.all(
        workers.map(
          (w) =>
            new Promise<Reply>((resolve) => {
              w.once('message', (m: Reply) => resolve(m));
              w.send({ dir, at });
            }),
        ),
      );
      const holders = replies.filter((r) => r.held);
      const lock = JSON.parse(readFileSync(join(dir, '.lock'), 'utf8')) as { pid: number };
      if (holders.length !== 1) problems.push(`trial ${trial} (${stale ? 'stale lock' : 'no lock'}): ${holders.length} holders (${holders.map((h) => h.pid).join(', ')})`);
      else if (lock.pid !== holders[0].pid) problems.push(`trial ${trial}: .lock names pid ${lock.pid}, the holder is ${holders[0].pid}`);
      for (const r of replies.filter((x) => !x.held)) {
        if (!/in use by snn train/.test(r.message ?? '')) problems.push(`trial ${trial}: a loser got '${r.message}'`);
      }
    }
  } finally {
    for (const w of workers) w.kill('SIGKILL');
  }
  assert.deepEqual(problems, []);
});
