/**
 * The results of a benchmark run: a JSON file per run (every sample, for later analysis) and a
 * Markdown table (latest.md) for reading and pasting into notes.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { availableParallelism, arch, cpus, platform, totalmem } from 'node:os';
import { join } from 'node:path';
import type { CaseSpec } from './cases.js';
import type { CaseResult } from './measure.js';

export interface Machine {
  cpuModel: string | null;
  cores: number;
  availableParallelism: number;
  totalMemoryMB: number;
  platform: string;
  arch: string;
  node: string;
  tfjs: string | null;
  tfjsBackendWasm: string | null;
  /** Backend names the cases ran on (from the children: 'auto' resolves there). */
  backends: string[];
  /** 1-minute load average at the start: other work on the machine skews the figures. */
  loadAverageAtStart: number;
  gitCommit: string | null;
}

export interface CaseFailure {
  spec: CaseSpec;
  error: string;
}

export interface BenchReport {
  createdAt: string;
  command: string;
  machine: Machine;
  cases: CaseResult[];
  failures: CaseFailure[];
}

export function describeMachine(results: readonly CaseResult[], load: number, gitCommit: string | null): Machine {
  const first = results[0];
  return {
    cpuModel: cpus()[0]?.model ?? null,
    cores: cpus().length,
    availableParallelism: availableParallelism(),
    totalMemoryMB: Math.round(totalmem() / (1024 * 1024)),
    platform: platform(),
    arch: arch(),
    node: process.version,
    tfjs: first?.versions.tfjs ?? null,
    tfjsBackendWasm: first?.versions.tfjsBackendWasm ?? null,
    backends: [...new Set(results.map((r) => r.backend.name))],
    loadAverageAtStart: load,
    gitCommit,
  };
}

/**
 * The commit the benchmarked code is at, '-dirty' when tracked files differ from it; null outside
 * git. (src/util/version.ts has the same, but importing it would load tfjs in the parent.)
 */
export function gitCommit(dir: string): string | null {
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  try {
    return git('rev-parse', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? '-dirty' : '');
  } catch {
    return null;
  }
}

/** Local time as yyyymmdd-hhmmss, the run folders' convention. */
export function stamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Rounded for reading: whole numbers from 100 up, one decimal below, two below 1. */
function num(x: number): string {
  const digits = x >= 100 ? 0 : x >= 1 ? 1 : 2;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const MODEL_LABEL: Record<CaseSpec['model'], string> = {
  reference: 'reference CNN',
  tiny: 'tiny',
  resnet19: 'resnet19',
  resnet20: 'resnet20',
};

export function formatTable(report: BenchReport): string {
  const head = [
    'model',
    'T',
    'batch',
    'input',
    'backend',
    'params',
    'forward ms/batch',
    'forward img/s',
    'train ms/batch',
    'train img/s',
    'peak RSS MB (sampled / maxRSS)',
  ];
  const rows = report.cases.map((r) => {
    const { input } = r.spec;
    return [
      MODEL_LABEL[r.spec.model],
      String(r.spec.timesteps),
      String(r.spec.batch),
      `${input.height}×${input.width}×${input.channels}`,
      r.backend.threads === null ? r.backend.name : `${r.backend.name} (${r.backend.threads} thr)`,
      r.parameters.toLocaleString('en-US'),
      num(r.forward.msPerBatch),
      num(r.forward.imagesPerSecond),
      num(r.train.msPerBatch),
      num(r.train.imagesPerSecond),
      `${Math.round(r.memory.peakRssMB)} / ${Math.round(r.memory.maxRssMB)}`,
    ];
  });
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export function formatMarkdown(report: BenchReport): string {
  const m = report.machine;
  const spec = report.cases[0]?.spec ?? report.failures[0]?.spec;
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  const steps = spec
    ? `median of ${plural(spec.steps, 'timed step')} after ${plural(spec.warmup, 'warm-up step')}` +
      (spec.steps < 5 ? ' (fewer than 5: a smoke test, not a measurement)' : '')
    : 'no cases';
  const out = [
    `# snn benchmark, ${report.createdAt}`,
    '',
    `\`${report.command}\``,
    '',
    `Machine: ${m.cpuModel ?? 'unknown CPU'}, ${m.cores} cores, ${m.totalMemoryMB} MB; Node ${m.node}, ` +
      `tfjs ${m.tfjs ?? '?'} (wasm ${m.tfjsBackendWasm ?? '?'}); backend ${m.backends.join(', ') || '?'}; ` +
      `load average ${m.loadAverageAtStart.toFixed(2)} at start; commit ${m.gitCommit ?? 'unknown'}.`,
    '',
    formatTable(report),
    '',
    `Each figure is the ${steps}, one fresh process per case. Forward: inference mode ` +
      '(training: false). Train step: forward + tf.variableGrads + Adam (lr 1e-3) on a fixed random batch. ' +
      'Peak RSS: the largest process.memoryUsage().rss sampled around and inside the steps, and the ' +
      "kernel's maxRSS for the case's process.",
  ];
  const leaks = report.cases.filter((r) => r.memory.tensorsLeakedPerStep !== 0);
  for (const r of leaks) {
    out.push('', `Warning: ${MODEL_LABEL[r.spec.model]} T=${r.spec.timesteps} batch ${r.spec.batch} left ` +
      `${r.memory.tensorsLeakedPerStep} tensors per step.`);
  }
  if (report.failures.length > 0) {
    out.push('', 'Failed cases:', '');
    for (const f of report.failures) {
      out.push(`- ${MODEL_LABEL[f.spec.model]} T=${f.spec.timesteps} batch ${f.spec.batch} (${f.spec.backend}): ${f.error}`);
    }
  }
  return out.join('\n') + '\n';
}

/** Writes through a temporary file and a rename, so a reader never sees half a file. */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export function writeReport(dir: string, report: BenchReport, when: Date): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `bench-${stamp(when)}.json`);
  const markdown = join(dir, 'latest.md');
  writeAtomic(json, JSON.stringify(report, null, 2) + '\n');
  writeAtomic(markdown, formatMarkdown(report));
  return { json, markdown };
}
