/**
 * A sweep's HTML report in headless Chromium: every run plot loads and the inline comparison
 * plot has its lines, checked from the page itself; a screenshot is left in the temp folder
 * (its path is printed) for a person to look at. Skipped, with the reason printed, where
 * Chromium is not installed (Debian: apt-get install chromium).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeSweepReport } from '../src/reports/report.js';
import type { SweepManifest } from '../src/sweep/manifest.js';
import { tempDir } from './helpers.js';
import { requirement } from './requirements.js';

const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));
const skip = requirement('Chromium', chromium ? null : 'Chromium is not installed (Debian: apt-get install chromium)');
if (skip) process.stdout.write(`# skipping the report screenshot test: ${skip}\n`);

/** A sweep folder with a 2 (timesteps) × 2 (loss mode) × 2 (seeds) grid of finished fake runs. */
function fakeSweep(): string {
  const dir = join(tempDir('report'), 'sweeps', 'demo');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const axes = [
    { key: 'model.timesteps', values: ['2', '4'] },
    { key: 'loss.mode', values: ['plain', 'tna'] },
    { key: 'seed', values: ['1', '2'] },
  ];
  const runs: SweepManifest['runs'] = [];
  let i = 0;
  for (const t of [2, 4]) {
    for (const mode of ['plain', 'tna']) {
      for (const seed of [1, 2]) {
        const name = `demo-${String(i).padStart(3, '0')}`;
        const run = join(dir, `${name}-20260101-120000-00000${i}`);
        mkdirSync(run);
        writeFileSync(join(run, 'config.yaml'), stringify({ name, seed, model: { timesteps: t }, loss: { mode } }));
        const best = 0.6 + 0.05 * t + (mode === 'tna' ? 0.05 : 0) + 0.01 * seed;
        writeFileSync(
          join(run, 'summary.json'),
          JSON.stringify({ status: 'completed', epochs: 3, epochsDone: 3, bestAccuracy: best, finalAccuracy: best, parameters: 5828, meanFiringRate: 0.05, trainSeconds: 12, backend: 'wasm', firingRates: { 'stem.sn': 0.04, 'stage1.block0.sn1': 0.07 } }),
        );
        const rows = [1, 2, 3].map((e) => [e, e * 8, 0.01, 1.4 - 0.2 * e, 0.4 + 0.1 * e, 1.5 - 0.2 * e, best - 0.1 * (3 - e), 0.02 * e, 500, 0.5].join(','));
        writeFileSync(join(run, 'metrics.csv'), ['epoch,step,lr,train_loss,train_acc,test_loss,test_acc,firing_rate,train_img_per_s,epoch_seconds', ...rows].join('\n') + '\n');
        runs.push({ index: i, name, overrides: { 'model.timesteps': String(t), 'loss.mode': mode, seed: String(seed) }, dir: null, state: 'completed', pid: null, attempts: 1, error: null });
        i++;
      }
    }
  }
  const m: SweepManifest = { kind: 'snn-sweep', version: 1, name: 'demo', planKey: 'x', created: '', cwd: dir, config: 'demo.yaml', sets: [], axes, runs, slurm: [] };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
  return dir;
}

const chrome = (args: string[]): string => {
  const r = spawnSync(chromium as string, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--hide-scrollbars', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

test('the sweep report renders its plots in headless Chromium', { skip, timeout: 120_000 }, async () => {
  const dir = fakeSweep();
  const rep = await writeSweepReport(dir);
  assert.ok(rep.comparison && existsSync(rep.comparison));
  assert.equal(rep.runPlots.length, 24);
  // The page reports what it loaded in its title: loaded/total images, and the marks of the
  // inline comparison plot (a line per loss mode, a min–max band per loss mode).
  const probe = `<script>addEventListener('load', () => { const imgs = [...document.images];
    const ok = imgs.filter((i) => i.complete && i.naturalWidth > 0).length;
    const fig = document.querySelector('figure svg');
    document.title = JSON.stringify({ ok, total: imgs.length, lines: fig ? fig.querySelectorAll('.mark-line path').length : -1,
      areas: fig ? fig.querySelectorAll('.mark-area path').length : -1 }); });</script>`;
  const check = join(dir, 'check.html');
  writeFileSync(check, readFileSync(rep.html, 'utf8').replace('</body>', `${probe}</body>`));
  const dom = chrome(['--virtual-time-budget=10000', '--dump-dom', `file://${check}`]);
  const title = /<title>(.*?)<\/title>/s.exec(dom)?.[1] ?? '';
  const seen = JSON.parse(title.replace(/&quot;/g, '"')) as { ok: number; total: number; lines: number; areas: number };
  assert.deepEqual(seen, { ok: 24, total: 24, lines: 2, areas: 2 });

  const png = join(dir, 'report.png');
  chrome(['--window-size=1400,1600', `--screenshot=${png}`, `file://${rep.html}`]);
  assert.ok(statSync(png).size > 20_000, 'a screenshot with content');
  process.stdout.write(`# report screenshot: ${png}\n`);
});

test('runs aggregate: only completed runs make the means, grouped by the keys that differ among them', () => {
  const runs = tempDir('aggregate');
  const make = (name: string, config: Record<string, unknown>, summary: Record<string, unknown>): void => {
    const dir = join(runs, `${name}-20260101-000000-abcdef`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.yaml'), stringify({ name, ...config }));
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
  };
  const done = (acc: number): Record<string, unknown> => ({ status: 'completed', bestAccuracy: acc, finalAccuracy: acc });
  make('a', { seed: 1, model: { connection: 'spike' } }, done(0.8));
  make('b', { seed: 2, model: { connection: 'spike' } }, done(0.7));
  make('c', { seed: 1, model: { connection: 'sew-add' } }, done(0.6));
  // Still running, with an accuracy after its first epochs and a key of its own.
  make('d', { seed: 1, model: { connection: 'sew-add' }, train: { epochs: 9 } }, { status: 'running', bestAccuracy: 0.1, finalAccuracy: 0.1 });
  const r = spawnSync(process.execPath, ['bin/snn', 'runs', 'aggregate', '--runs-dir', runs], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /1 of 4 runs left out: d-20260101-000000-abcdef \(running, not completed\)/);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^\| model\.connection \| runs \|/);
  assert.doesNotMatch(r.stdout, /train\.epochs/);
  // spike: mean of 80 and 70, sample std √50 = 7.07; sew-add: run c alone.
  assert.ok(lines.some((l) => /^\| spike \| 2 \| 75\.00 ± 7\.07 \|/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /^\| sew-add \| 1 \| 60\.00 ± 0\.00 \|/.test(l)), r.stdout);
});

test('a long --json output reaches a slow reader whole (the CLI waits for the pipe before it exits)', () => {
  const runs = tempDir('pipe');
  for (let i = 0; i < 300; i++) {
    const dir = join(runs, `run${i}-20260101-000000-abcdef`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.yaml'), stringify({ name: `run${i}`, seed: i, train: { epochs: 1 + (i % 7) }, model: { timesteps: 1 + (i % 5) } }));
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'completed', bestAccuracy: i / 300, finalAccuracy: i / 300 }));
  }
  // The reader starts after a second: by then the CLI has written far more than a pipe holds (64 KiB).
  const r = spawnSync('bash', ['-c', 'node bin/snn runs list --runs-dir "$1" --json | (sleep 1; cat)', 'bash', runs], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.length > 65536, `only ${r.stdout.length} bytes arrived (a pipe holds 65,536; the output is longer)`);
  const rows = JSON.parse(r.stdout) as { seed: number }[];
  assert.equal(rows.length, 300);
});
