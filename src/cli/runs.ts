/**
 * `snn runs list|compare|show|plots`: tables and pictures across run folders and sweeps.
 * `list` is the short table (oldest first), `compare` adds size, firing rate and energy
 * columns; both take runs, sweeps or folders of runs, or everything under --runs-dir.
 */
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  bitsOf,
  buildRows,
  cellText,
  columns,
  DAMAGED,
  energyOf,
  flatten,
  formatBits,
  formatEnergy,
  formatSeconds,
  readRunConfig,
  readSummary,
  resolveTargets,
  runStatus,
  sortRows,
  toCsv,
  toJson,
  toText,
} from '../reports/compare.js';
import { readMetrics } from '../runs/metrics.js';
import { comparePredictions, comparisonText, readPredictions } from '../runs/predictions.js';
import { groupOverSeeds, groupsToMarkdown } from '../reports/aggregate.js';
import { findRun, readJson } from '../runs/runFolder.js';
import { validateConfig } from '../config/load.js';
import { isSweepFolder } from '../sweep/manifest.js';
import { displayPath } from '../sweep/commands.js';
import { UserError } from '../util/errors.js';
import { warn } from '../util/warn.js';

interface TableFlags {
  sort?: string;
  csv?: boolean;
  json?: boolean;
  runsDir: string;
}

const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();

/** `snn runs compare A.csv B.csv`: two prediction files of `snn eval --predictions`. */
function comparePredictionFiles(a: string, b: string, f: TableFlags): void {
  if (f.csv || f.sort) throw new UserError('--csv and --sort: go with runs, not with two prediction files');
  const c = comparePredictions(readPredictions(a), readPredictions(b), [a, b]);
  process.stdout.write(f.json ? `${JSON.stringify({ a, b, ...c }, null, 2)}\n` : comparisonText(c, a, b));
}

function tableAction(kind: 'list' | 'compare') {
  return (targets: string[], f: TableFlags): void => {
    if (f.csv && f.json) throw new UserError('--csv and --json: pick one');
    if (kind === 'compare' && targets.some(isFile)) {
      if (targets.length !== 2 || !targets.every(isFile)) throw new UserError('runs compare: give two prediction files (snn eval --predictions), or runs');
      comparePredictionFiles(targets[0], targets[1], f);
      return;
    }
    const { refs, firstKeys } = resolveTargets(targets, f.runsDir);
    if (refs.length === 0) {
      if (f.json) process.stdout.write('[]\n');
      else process.stderr.write(`no runs in ${f.runsDir}\n`);
      return;
    }
    const { rows, keys } = buildRows(refs, firstKeys);
    const cols = columns(keys, kind);
    const sorted = f.sort ? sortRows(rows, cols, f.sort) : rows;
    if (f.csv || f.json) {
      process.stdout.write(f.csv ? toCsv(sorted, cols) : toJson(sorted, cols));
      return;
    }
    // On the terminal, leave out columns that are blank in every row (e.g. energy before any
    // run has recorded it); CSV and JSON keep every column so scripts see a fixed shape.
    const shown = cols.filter((c) => c.key === 'run' || sorted.some((r) => cellText(c, r) !== ''));
    process.stdout.write(toText(sorted, shown));
  };
}

function tableCommand(runs: Command, name: 'list' | 'compare', description: string, isDefault = false): void {
  runs
    .command(name, { isDefault })
    .description(description)
    .argument('[runs...]', 'run folders or names, sweep folders or names, folders of runs (default: all in --runs-dir)')
    .option('--sort <key>', 'sort by a column: best_acc, wall, model.timesteps, ...; -key or key:desc for descending')
    .option('--csv', 'comma-separated values')
    .option('--json', 'a JSON array of rows')
    .option('--runs-dir <dir>', 'folder that holds run folders', 'runs')
    .action(tableAction(name));
}

const pctText = (v: number | null | undefined): string => (typeof v === 'number' ? `${(100 * v).toFixed(2)}%` : '-');

function showAction(target: string, f: { runsDir: string; json?: boolean }): void {
  const paths = findRun(target, f.runsDir);
  const dir = paths.dir;
  const s = readSummary(dir);
  const cfg = readRunConfig(dir);
  const meta = existsSync(paths.meta) ? readJson<Record<string, unknown>>(paths.meta) : {};
  const metrics = readMetrics(paths.metrics);
  if (f.json) {
    process.stdout.write(`${JSON.stringify({ run: dir, summary: s, meta, config: cfg, metrics }, null, 2)}\n`);
    return;
  }
  let defaults: Record<string, unknown> = {};
  try {
    defaults = flatten(validateConfig({}, 'defaults') as unknown as Record<string, unknown>);
  } catch {
    defaults = {};
  }
  const flat = flatten(cfg);
  const changed = Object.entries(flat).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(defaults[k] ?? null));
  const e = energyOf(s);
  const full = s as Record<string, unknown>;
  const rates = (full.firingRates ?? null) as Record<string, number> | null;
  const plots = ['loss.svg', 'accuracy.svg', 'firing-rate.svg'].filter((p) => existsSync(join(dir, p)));
  const lines = [
    `run          ${displayPath(process.cwd())(dir)}`,
    `status       ${runStatus(dir)}${typeof full.error === 'string' ? ` (${full.error})` : ''}`,
    `epochs       ${s.epochsDone ?? '-'}/${s.epochs ?? '-'}`,
    `accuracy     best ${pctText(s.bestAccuracy)}${typeof full.bestEpoch === 'number' ? ` (epoch ${full.bestEpoch})` : ''}, final ${pctText(s.finalAccuracy)}`,
    `model        ${s.parameters ?? '-'} parameters, ${bitsOf(cfg)}-bit weights${typeof s.modelSizeBits === 'number' ? `, ${formatBits(s.modelSizeBits)}` : ''}`,
    `firing rate  ${typeof s.meanFiringRate === 'number' ? s.meanFiringRate.toFixed(4) : '-'} (mean over spiking layers)`,
    ...(e.pJ !== null || e.sop !== null ? [`energy       ${formatEnergy(e.pJ) || '-'} per image${e.sop !== null ? `, ${e.sop.toExponential(3)} SOP` : ''}`] : []),
    `time         ${formatSeconds(s.trainSeconds ?? null) || '-'} training, backend ${s.backend ?? '-'}`,
    ...(typeof meta.host === 'string' ? [`host         ${meta.host}${typeof meta.gitCommit === 'string' ? `, git ${meta.gitCommit}` : ''}`] : []),
    ...(Array.isArray(meta.commandLine) ? [`command      ${(meta.commandLine as string[]).join(' ')}`] : []),
    '',
    `config (differs from the defaults):`,
    ...(changed.length > 0 ? changed.map(([k, v]) => `  ${k} = ${JSON.stringify(v)}`) : ['  (nothing)']),
  ];
  if (rates) {
    lines.push('', 'firing rate by layer (last evaluation):', ...Object.entries(rates).map(([k, v]) => `  ${k.padEnd(28)} ${v.toFixed(4)}`));
  }
  if (metrics.length > 0) {
    const head = ['epoch', 'lr', 'train_loss', 'train_acc', 'test_loss', 'test_acc', 'firing_rate', 'epoch_seconds'];
    const fmt = (v: string | number | undefined, h: string): string =>
      typeof v !== 'number' ? String(v ?? '') : h === 'epoch' ? String(v) : h.endsWith('acc') ? (100 * v).toFixed(2) : h === 'lr' ? v.toExponential(2) : v.toFixed(4);
    const table = metrics.map((r) => head.map((h) => fmt(r[h], h)));
    const w = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
    lines.push('', 'metrics:', `  ${head.map((h, i) => h.padStart(w[i])).join('  ')}`, ...table.map((r) => `  ${r.map((c, i) => c.padStart(w[i])).join('  ')}`));
  }
  if (plots.length > 0) lines.push('', `plots: ${plots.join(', ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function plotsAction(targets: string[], f: { runsDir: string; quiet?: boolean }): Promise<void> {
  const { writeRunPlots } = await import('../reports/plots.js');
  const { writeSweepReport } = await import('../reports/report.js');
  const shown = displayPath(process.cwd());
  const say = (s: string): void => {
    if (!f.quiet) process.stderr.write(`${s}\n`);
  };
  const sweeps = targets.filter((t) => isSweepFolder(t) || isSweepFolder(join(f.runsDir, 'sweeps', t)));
  const others = targets.filter((t) => !sweeps.includes(t));
  for (const t of sweeps) {
    const dir = isSweepFolder(t) ? t : join(f.runsDir, 'sweeps', t);
    const rep = await writeSweepReport(dir, { redraw: true });
    say(`${shown(rep.html)}${rep.comparison ? `, ${shown(rep.comparison)}` : ''} and ${rep.runPlots.length} run plots`);
  }
  if (others.length > 0 || targets.length === 0) {
    const { refs } = resolveTargets(others, f.runsDir);
    for (const r of refs) {
      if (!r.dir || !existsSync(join(r.dir, 'metrics.csv'))) continue;
      const files = await writeRunPlots(r.dir);
      say(`${shown(r.dir)}: ${files.map((p) => basename(p)).join(', ')}`);
    }
  }
}

function aggregateAction(targets: string[], f: { runsDir: string; json?: boolean }): void {
  const { refs, firstKeys } = resolveTargets(targets, f.runsDir);
  const { rows, keys } = buildRows(refs, firstKeys);
  // Only finished runs make a table's means: one without a readable summary, a best accuracy, or
  // status completed (pending, running, interrupted, failed) is left out, and said.
  const out = rows.filter((r) => r.status !== 'completed' || r.bestAccuracy === null);
  if (out.length > 0) {
    const why = (r: (typeof rows)[number]): string =>
      r.status === DAMAGED ? 'summary.json unreadable' : r.bestAccuracy === null ? `no accuracy yet, ${r.status}` : `${r.status}, not completed`;
    warn(`${out.length} of ${rows.length} runs left out: ${out.map((r) => `${r.run} (${why(r)})`).join(', ')}`);
  }
  // Group by the keys that differ among the runs kept: a pending run of a sweep (no config yet)
  // differs from the others in every key, and must not make them all look varied.
  const kept = rows.filter((r) => !out.includes(r));
  const differing = keys.filter((k) => new Set(kept.map((r) => JSON.stringify(r.varied[k] ?? null))).size > 1);
  const g = groupOverSeeds(kept, differing);
  process.stdout.write(f.json ? `${JSON.stringify(g, null, 2)}\n` : groupsToMarkdown(g));
}

export function runsCommand(program: Command): void {
  const runs = program.command('runs').description('tables and plots across run folders and sweeps');
  tableCommand(runs, 'list', 'one row per run: status, varied config keys, accuracy, epochs, time (default)', true);
  tableCommand(runs, 'compare', 'like list, with bits, parameters, model size, firing rate, SOP and energy; or two prediction CSV files: agreement, confusion matrix, per class');
  runs
    .command('aggregate')
    .description('group runs over seeds: mean ± std of accuracy per combination of the other varied keys (Markdown)')
    .argument('[runs...]', 'runs, sweeps, or folders of runs (default: all in --runs-dir)')
    .option('--runs-dir <dir>', 'folder that holds run folders', 'runs')
    .option('--json', 'the groups as JSON instead of a Markdown table')
    .action(aggregateAction);
  runs
    .command('show')
    .description('one run in detail: summary, config changes, firing rates, metrics per epoch')
    .argument('<run>', "run folder, run name, or 'latest'")
    .option('--json', 'summary, meta, config and metrics as JSON')
    .option('--runs-dir <dir>', 'folder that holds run folders', 'runs')
    .action(showAction);
  runs
    .command('plots')
    .description('(re)draw the SVG plots of runs, and the comparison plot and index.html of sweeps')
    .argument('[runs...]', 'runs or sweeps (default: all in --runs-dir)')
    .option('--runs-dir <dir>', 'folder that holds run folders', 'runs')
    .option('-q, --quiet', 'no output')
    .action(plotsAction);
}
