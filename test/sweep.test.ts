/**
 * The sweep end to end on synthetic data: a 2×2 grid with --jobs 2, one run killed with
 * SIGKILL once `checkpoints/last` exists, the same sweep run again (finished runs skipped,
 * the killed one resumed in its own folder), then `snn runs compare` lists all four.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, repoRoot, runCli, tempDir } from './helpers.js';

interface Manifest {
  runs: { index: number; name: string; pid: number | null; overrides: Record<string, string> }[];
}

const lstatExists = (p: string): boolean => {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const readJsonFile = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;

function runFolders(sweepDir: string): string[] {
  return readdirSync(sweepDir)
    .map((n) => join(sweepDir, n))
    .filter((d) => statSync(d).isDirectory() && existsSync(join(d, 'config.yaml')))
    .sort();
}

test('a 2x2 sweep with one run killed resumes it on a re-run and skips the finished ones', { timeout: 120_000 }, async () => {
  const runs = tempDir('sweep');
  const args = [
    'sweep', '--config', fixture('synthetic.yaml'), '--set', 'train.epochs=6',
    '--grid', 'model.timesteps=1,2', '--grid', 'train.optimizer.lr=0.01,0.02',
    '--jobs', '2', '--runs-dir', runs,
  ];
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'snn'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdout.resume();
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));

  // Wait for the sweep folder, then for a run's first epoch checkpoint, and kill that run.
  const sweepsDir = join(runs, 'sweeps');
  let sweepDir = '';
  let victim: { name: string; dir: string } | null = null;
  const deadline = Date.now() + 60_000;
  while (!victim && Date.now() < deadline) {
    await sleep(50);
    if (!sweepDir && existsSync(sweepsDir)) {
      const names = readdirSync(sweepsDir);
      if (names.length === 1) sweepDir = join(sweepsDir, names[0]);
    }
    if (!sweepDir || !existsSync(join(sweepDir, 'manifest.json'))) continue;
    const m = readJsonFile<Manifest>(join(sweepDir, 'manifest.json'));
    for (const dir of runFolders(sweepDir)) {
      const run = m.runs.find((r) => dir.includes(`${r.name}-`));
      if (!run?.pid || !lstatExists(join(dir, 'checkpoints', 'last'))) continue;
      const s = readJsonFile<{ status: string; epochsDone: number }>(join(dir, 'summary.json'));
      if (s.status !== 'running' || s.epochsDone >= 5) continue;
      process.kill(run.pid, 'SIGKILL');
      victim = { name: run.name, dir };
      break;
    }
  }
  assert.ok(victim, `no run reached its first checkpoint; stderr:\n${stderr}`);
  const code = await exited;
  assert.equal(code, 1, `a failed run makes the sweep exit 1; stderr:\n${stderr}`);
  assert.match(stderr, new RegExp(`${victim.name}: FAILED: killed by SIGKILL`));
  assert.match(stderr, /3 completed, 1 failed/);
  // The newest complete checkpoint written before the kill (summary.json may lag it by one, and
  // `last` too if the kill fell between a folder's rename and the link's switch: the resume
  // adopts that folder).
  const killedAt = Math.max(
    ...readdirSync(join(victim.dir, 'checkpoints')).map((n) => Number(/^epoch-(\d{4})$/.exec(n)?.[1] ?? 0)),
  );
  assert.ok(killedAt >= 1 && killedAt < 6, `killed after epoch ${killedAt}`);

  const folders = runFolders(sweepDir);
  assert.equal(folders.length, 4);
  const others = folders.filter((d) => d !== victim.dir);
  const before = others.map((d) => statSync(join(d, 'summary.json')).mtimeMs);

  // The same command again: the three finished runs are skipped, the killed one resumed.
  const again = runCli(args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /3 already completed/);
  assert.match(again.stderr, new RegExp(`${victim.name}: resuming \\(was running\\)`));
  assert.match(again.stderr, /1 completed, 3 skipped/);
  assert.deepEqual(runFolders(sweepDir), folders, 'no new run folders');
  assert.deepEqual(others.map((d) => statSync(join(d, 'summary.json')).mtimeMs), before, 'finished runs untouched');

  const s = readJsonFile<{ status: string; epochsDone: number }>(join(victim.dir, 'summary.json'));
  assert.equal(s.status, 'completed');
  assert.equal(s.epochsDone, 6);
  const meta = readJsonFile<{ resumed?: unknown[] }>(join(victim.dir, 'meta.json'));
  assert.equal(meta.resumed?.length, 1, 'meta.json records the resumed session');
  const resumedLog = readFileSync(join(victim.dir, 'log.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"resumed"'))
    .map((l) => JSON.parse(l) as { epoch: number });
  assert.equal(resumedLog.length, 1);
  assert.equal(resumedLog[0].epoch, killedAt, 'continued from the last checkpoint');
  const epochs = readFileSync(join(victim.dir, 'metrics.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));
  assert.deepEqual(epochs, [1, 2, 3, 4, 5, 6]);

  // Plots in every run folder, and the sweep's report.
  for (const d of folders) for (const f of ['loss.svg', 'accuracy.svg', 'firing-rate.svg']) assert.ok(existsSync(join(d, f)), `${d}/${f}`);
  assert.match(readFileSync(join(sweepDir, 'comparison.svg'), 'utf8'), /^<svg/);
  const html = readFileSync(join(sweepDir, 'index.html'), 'utf8');
  assert.match(html, /<svg/);
  assert.equal((html.match(/<img /g) ?? []).length, 12);

  const cmp = runCli(['runs', 'compare', sweepDir, '--json']);
  assert.equal(cmp.code, 0, cmp.stderr);
  const rows = JSON.parse(cmp.stdout) as Record<string, string | number | null>[];
  assert.equal(rows.length, 4);
  assert.deepEqual(
    rows.map((r) => [r['model.timesteps'], r['train.optimizer.lr'], r.status, r.epochs]),
    [[1, 0.01, 'completed', 6], [1, 0.02, 'completed', 6], [2, 0.01, 'completed', 6], [2, 0.02, 'completed', 6]],
  );
  for (const r of rows) assert.ok(typeof r.best_acc === 'number' && r.best_acc > 0.25, `learned something: ${r.run} ${r.best_acc}`);
  const text = runCli(['runs', 'compare', '--runs-dir', runs, '--sort', '-best_acc']);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout.trim().split('\n').length, 5, text.stdout);
});
