/**
 * SIGINT/SIGTERM during `snn train`: the run stops after the current step, writes a
 * checkpoint, marks itself interrupted and exits 130/143; `--resume` then finishes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, repoRoot, runCli, tempDir } from './helpers.js';

async function interrupt(signal: 'SIGINT' | 'SIGTERM', expected: number): Promise<void> {
  const runs = tempDir(`sig-${signal}`);
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'bin', 'snn'), 'train', '--config', fixture('synthetic.yaml'), '--runs-dir', runs, '--set', 'train.epochs=40', '--quiet'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  // Wait for the first epoch's checkpoint, then signal mid-training.
  const deadline = Date.now() + 60_000;
  let run = '';
  while (Date.now() < deadline) {
    const dirs = existsSync(runs) ? readdirSync(runs) : [];
    if (dirs.length === 1 && existsSync(join(runs, dirs[0], 'checkpoints', 'last'))) {
      run = join(runs, dirs[0]);
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(run, 'no checkpoint appeared');
  child.kill(signal);
  const code = await exited;
  assert.equal(code, expected, stderr);
  const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8')) as { status: string; epochsDone: number };
  assert.equal(summary.status, 'interrupted');
  assert.ok(summary.epochsDone < 40);
  const state = JSON.parse(readFileSync(join(run, 'checkpoints', 'last', 'state.json'), 'utf8')) as { step: number };
  const r = runCli(['train', '--resume', run, '--runs-dir', runs, '--set', 'train.epochs=6', '--json']);
  // Shortening the run below where it stopped is fine: it just completes.
  assert.equal(r.code, 0, r.stderr);
  const done = JSON.parse(r.stdout) as { status: string; run: string };
  assert.equal(done.status, 'completed');
  assert.equal(done.run, run);
  const after = JSON.parse(readFileSync(join(run, 'checkpoints', 'last', 'state.json'), 'utf8')) as { step: number };
  assert.ok(after.step >= state.step);
}

test('SIGINT stops training with a checkpoint and exit 130; --resume finishes the run', async () => {
  await interrupt('SIGINT', 130);
});

test('SIGTERM does the same with exit 143', async () => {
  await interrupt('SIGTERM', 143);
});
