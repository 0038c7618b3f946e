/**
 * The results of a benchmark run: a JSON file per run (every sample, for later analysis) and a
 * Markdown table (latest.md) for reading and pasting into notes.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { availableParallelism, arch, cpus, platform, totalmem } from 'node:os';
import { join } from 'node:path';
import type { CaseSpec } from './cases.js';
import type { CaseResult, Timing } from './measure.js';
import type { TorchAvailability, TorchRun } from './torch.js';

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
  /** ... and at the end of the run. */
  loadAverageAtEnd: number;
  gitCommit: string | null;
  /** The PyTorch reference's version and oneDNN / ISA line (null when it did not run). */
  torch: string | null;
}

export interface CaseFailure {
  spec: CaseSpec;
  error: string;
  /** The child's VmHWM polled from outside: a lower bound of its peak RSS when it died. */
  polledPeakRssMB?: number | null;
}

/** A case of the snn side that was not run (the --full cap, or a smaller case failed). */
export interface SkippedCase {
  spec: CaseSpec;
  reason: string;
}

export interface BenchReport {
  createdAt: string;
  command: string;
  machine: Machine;
  mode: 'default' | 'full' | 'memory-sweep';
  /** Every case, in the order run (the table's rows). */
  planned: CaseSpec[];
  /** The snn side: measured cases, failed ones, ones not run. */
  cases: CaseResult[];
  failures: CaseFailure[];
  skipped: SkippedCase[];
  /** The PyTorch side: availability, the thread counts, one run per case and thread count. */
  torch: TorchAvailability & { threads: number[]; runs: TorchRun[] };
  memorySweep: MemorySweep | null;
}

export function describeMachine(
  results: readonly CaseResult[],
  load: number,
  loadAtEnd: number,
  gitCommit: string | null,
  torch: TorchAvailability,
): Machine {
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
    loadAverageAtEnd: loadAtEnd,
    gitCommit,
    torch: torch.available ? `PyTorch ${torch.version ?? '?'} (${torch.details ?? '?'})` : null,
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

const sameCase = (a: Pick<CaseSpec, 'model' | 'timesteps' | 'batch'>, b: Pick<CaseSpec, 'model' | 'timesteps' | 'batch'>): boolean =>
  a.model === b.model && a.timesteps === b.timesteps && a.batch === b.batch;

/** Footnotes collected while the table is built: reasons of failed and skipped cells. */
class Notes {
  readonly lines: string[] = [];
  add(text: string): string {
    let i = this.lines.indexOf(text);
    if (i < 0) i = this.lines.push(text) - 1;
    return `[${i + 1}]`;
  }
}

/** "median img/s", marked † when fewer than 5 steps were timed (a capped slow case). */
function rate(t: Timing | null | undefined): string | null {
  if (!t) return null;
  return num(t.imagesPerSecond) + (t.samplesMs.length < 5 ? '†' : '');
}

const ratio = (a: Timing | null | undefined, b: Timing | null | undefined): string | null =>
  a && b ? (a.imagesPerSecond / b.imagesPerSecond).toFixed(2) : null;

/** Per thread count: "a / b". */
const joinCells = (cells: (string | null)[]): string => cells.map((c) => c ?? '—').join(' / ');

export function formatTable(report: BenchReport): string {
  const notes = new Notes();
  const thr = report.torch.threads;
  const withTorch = thr.length > 0;
  const t = (what: string): string => (thr.length > 1 ? `${what} (${thr.join(' / ')} thr)` : `${what} (${thr[0]} thr)`);
  const head = [
    'model',
    'T',
    'batch',
    'input',
    'backend',
    'params',
    'snn forward img/s',
    'snn train img/s',
    'snn peak RSS MB',
  ];
  if (withTorch) {
    head.push(t('torch forward img/s'), t('torch train img/s'), t('torch peak RSS MB'), t('snn/torch forward'), t('snn/torch train'));
  }
  const rows = report.planned.map((spec) => {
    const { input } = spec;
    const r = report.cases.find((c) => sameCase(c.spec, spec));
    const f = report.failures.find((c) => sameCase(c.spec, spec));
    const s = report.skipped.find((c) => sameCase(c.spec, spec));
    let fwd = '—';
    let trn = '—';
    let rss = '—';
    let backend: string = spec.backend;
    if (r) {
      fwd = rate(r.forward) ?? '—';
      trn = rate(r.train) ?? '—';
      rss = String(Math.round(r.memory.maxRssMB));
      backend = r.backend.threads === null ? r.backend.name : `${r.backend.name} (${r.backend.threads} thr)`;
    } else if (f) {
      const mark = notes.add(f.error);
      fwd = trn = `failed ${mark}`;
      rss = f.polledPeakRssMB ? `≥ ${Math.round(f.polledPeakRssMB)} ${mark}` : '—';
    } else if (s) {
      fwd = trn = `skipped ${notes.add(s.reason)}`;
    }
    const row = [
      MODEL_LABEL[spec.model],
      String(spec.timesteps),
      String(spec.batch),
      `${input.height}×${input.width}×${input.channels}`,
      backend,
      r ? r.parameters.toLocaleString('en-US') : '—',
      fwd,
      trn,
      rss,
    ];
    if (withTorch) {
      const runs = thr.map((k) => report.torch.runs.find((x) => sameCase(x, spec) && x.threads === k));
      const cell = (g: (x: TorchRun) => string | null, failed: boolean): string =>
        joinCells(
          runs.map((x) => {
            if (!x) return null;
            if (x.result) return g(x);
            if (!failed) return null;
            return `${x.skipped ? 'skipped' : 'failed'} ${notes.add(x.error ?? '?')}`;
          }),
        );
      row.push(
        cell((x) => rate(x.result?.forward), true),
        cell((x) => rate(x.result?.train), true),
        cell((x) => (x.result ? String(Math.round(x.result.memory.maxRssMB)) : null), false),
        cell((x) => ratio(r?.forward, x.result?.forward), false),
        cell((x) => ratio(r?.train, x.result?.train), false),
      );
    }
    return row;
  });
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  const out = [line(head), line(head.map(() => '---')), ...rows.map(line)];
  if (notes.lines.length > 0) out.push('', ...notes.lines.map((n, i) => `[${i + 1}] ${n}`));
  return out.join('\n');
}

/** Peak RSS of one engine against T in the memory sweep. */
export interface MemorySeries {
  engine: string;
  model: CaseSpec['model'];
  batch: number;
  points: {
    timesteps: number;
    /** maxRSS of the case's process (MB); null when it failed or did not run. */
    maxRssMB: number | null;
    /** When it failed: the highest VmHWM seen before it died (a lower bound). */
    atLeastMB: number | null;
    trainMsPerBatch: number | null;
    error: string | null;
  }[];
  /** MB added per extra time step between consecutive measured points. */
  mbPerStep: { from: number; to: number; mbPerStep: number }[];
  /** Peak RSS at T divided by peak RSS at the smallest T, next to T / smallest T. */
  growth: { timesteps: number; rssRatio: number; tRatio: number }[];
  /** true: each increment per time step is no larger than the previous (±15 % + 16 MB noise). */
  atMostLinear: boolean | null;
  verdict: string;
}

export interface MemorySweep {
  series: MemorySeries[];
  markdown: string;
}

function analyseSeries(s: Omit<MemorySeries, 'mbPerStep' | 'growth' | 'atMostLinear' | 'verdict'>): MemorySeries {
  const ok = s.points.filter((p) => p.maxRssMB !== null) as (MemorySeries['points'][number] & { maxRssMB: number })[];
  const mbPerStep = ok.slice(1).map((p, i) => ({
    from: ok[i].timesteps,
    to: p.timesteps,
    mbPerStep: (p.maxRssMB - ok[i].maxRssMB) / (p.timesteps - ok[i].timesteps),
  }));
  const growth = ok.map((p) => ({ timesteps: p.timesteps, rssRatio: p.maxRssMB / ok[0].maxRssMB, tRatio: p.timesteps / ok[0].timesteps }));
  let atMostLinear: boolean | null = null;
  let verdict: string;
  if (ok.length < 2) {
    verdict = `${ok.length} measured point${ok.length === 1 ? '' : 's'}: growth against T cannot be judged`;
  } else {
    const bad = mbPerStep.slice(1).findIndex((d, i) => d.mbPerStep > mbPerStep[i].mbPerStep * 1.15 + 16);
    atMostLinear = bad < 0;
    const rates = mbPerStep.map((d) => `${Math.round(d.mbPerStep)} MB/step over T ${d.from}→${d.to}`).join(', ');
    verdict = atMostLinear
      ? `at most linear in T (${rates})`
      : `faster than linear between T=${mbPerStep[bad + 1].from} and T=${mbPerStep[bad + 1].to} (${rates})`;
  }
  const failedAt = s.points.filter((p) => p.maxRssMB === null).map((p) => p.timesteps);
  if (failedAt.length > 0) verdict += `; no measurement at T = ${failedAt.join(', ')}`;
  return { ...s, mbPerStep, growth, atMostLinear, verdict };
}

/** The memory sweep's series (snn and each PyTorch thread count) per model and batch. */
export function memorySweepSummary(report: BenchReport): MemorySweep {
  const groups = new Map<string, CaseSpec[]>();
  for (const spec of report.planned) {
    const k = `${spec.model}/${spec.batch}`;
    groups.set(k, [...(groups.get(k) ?? []), spec]);
  }
  const series: MemorySeries[] = [];
  for (const specs of groups.values()) {
    const sorted = [...specs].sort((a, b) => a.timesteps - b.timesteps);
    const { model, batch } = sorted[0];
    const snnThreads = report.cases[0]?.backend.threads;
    series.push(
      analyseSeries({
        engine: `snn (${report.machine.backends[0] ?? sorted[0].backend}${snnThreads ? `, ${snnThreads} thr` : ''})`,
        model,
        batch,
        points: sorted.map((spec) => {
          const r = report.cases.find((c) => sameCase(c.spec, spec));
          const f = report.failures.find((c) => sameCase(c.spec, spec));
          const sk = report.skipped.find((c) => sameCase(c.spec, spec));
          return {
            timesteps: spec.timesteps,
            maxRssMB: r ? r.memory.maxRssMB : null,
            atLeastMB: f?.polledPeakRssMB ?? null,
            trainMsPerBatch: r ? r.train.msPerBatch : null,
            error: f ? f.error : sk ? sk.reason : null,
          };
        }),
      }),
    );
    for (const k of report.torch.threads) {
      series.push(
        analyseSeries({
          engine: `pytorch (${k} thr)`,
          model,
          batch,
          points: sorted.map((spec) => {
            const x = report.torch.runs.find((t) => sameCase(t, spec) && t.threads === k);
            return {
              timesteps: spec.timesteps,
              maxRssMB: x?.result ? x.result.memory.maxRssMB : null,
              atLeastMB: x && !x.result && !x.skipped ? x.polledPeakRssMB : null,
              trainMsPerBatch: x?.result ? x.result.train.msPerBatch : null,
              error: x?.error ?? null,
            };
          }),
        }),
      );
    }
  }
  return { series, markdown: formatMemorySweep(series) };
}

function formatMemorySweep(series: MemorySeries[]): string {
  const out: string[] = [];
  const notes = new Notes();
  const models = [...new Set(series.map((s) => `${s.model}/${s.batch}`))];
  for (const mb of models) {
    const mine = series.filter((s) => `${s.model}/${s.batch}` === mb);
    const { model, batch } = mine[0];
    const ts = mine[0].points.map((p) => p.timesteps);
    out.push(`Peak RSS (MB) against T: ${MODEL_LABEL[model]}, batch ${batch}, one training step (the first: its time is indicative only)`, '');
    const head = ['engine', ...ts.map((t) => `T=${t}`), 'train s/step', 'growth'];
    out.push(`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`);
    for (const s of mine) {
      const cells = s.points.map((p) => {
        if (p.maxRssMB !== null) return String(Math.round(p.maxRssMB));
        const mark = p.error ? notes.add(p.error) : '';
        return p.atLeastMB ? `failed at ≥ ${Math.round(p.atLeastMB)} ${mark}` : `— ${mark}`;
      });
      const times = s.points.map((p) => (p.trainMsPerBatch === null ? '—' : (p.trainMsPerBatch / 1000).toFixed(1))).join(' / ');
      out.push(`| ${[s.engine, ...cells, times, s.verdict].join(' | ')} |`);
    }
    out.push('');
  }
  if (notes.lines.length > 0) out.push(...notes.lines.map((n, i) => `[${i + 1}] ${n}`));
  return out.join('\n').trimEnd();
}

export function formatMarkdown(report: BenchReport): string {
  const m = report.machine;
  const spec = report.planned[0];
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  const steps = spec
    ? `median of ${plural(spec.steps, 'timed step')} after ${plural(spec.warmup, 'warm-up step')}` +
      (spec.steps < 5 ? ' (fewer than 5: a smoke test or a memory point, not a speed measurement)' : '')
    : 'no cases';
  const torchLine = report.torch.available
    ? `PyTorch reference: bench/torch_reference.py on ${m.torch ?? 'PyTorch'}, ${report.torch.threads.join(' and ')} ` +
      'thread(s) (torch.set_num_threads and OMP_NUM_THREADS), channels-last, LIF as a per-step Python loop with an ' +
      "autograd.Function spike (SpikingJelly's backend='torch'); same layers, LIF maths, surrogate, batch and Adam. " +
      'Ratios are snn img/s ÷ torch img/s (above 1: snn faster).'
    : `PyTorch reference not run: ${report.torch.reason ?? 'unavailable'}.`;
  const out = [
    `# snn benchmark, ${report.createdAt}`,
    '',
    `\`${report.command}\``,
    '',
    `Machine: ${m.cpuModel ?? 'unknown CPU'}, ${m.cores} cores, ${m.totalMemoryMB} MB; Node ${m.node}, ` +
      `tfjs ${m.tfjs ?? '?'} (wasm ${m.tfjsBackendWasm ?? '?'}); backend ${m.backends.join(', ') || '?'}; ` +
      `load average ${m.loadAverageAtStart.toFixed(2)} at start, ${m.loadAverageAtEnd.toFixed(2)} at end; ` +
      `commit ${m.gitCommit ?? 'unknown'}.`,
    '',
    formatTable(report),
    '',
    `Each figure is the ${steps}, one fresh process per case and engine; † marks a slow case cut to ` +
      'fewer timed steps. Forward: inference mode (snn training: false; torch eval() + no_grad). Train step: forward + ' +
      'gradients + Adam (lr 1e-3) on a fixed random batch. Peak RSS: the maxRSS of the case\'s process (the kernel\'s ' +
      'high-water mark; for a process that died, "≥" the last polled VmHWM).',
    '',
    torchLine,
  ];
  if (report.memorySweep) out.push('', report.memorySweep.markdown);
  const leaks = report.cases.filter((r) => r.memory.tensorsLeakedPerStep !== 0);
  for (const r of leaks) {
    out.push('', `Warning: ${MODEL_LABEL[r.spec.model]} T=${r.spec.timesteps} batch ${r.spec.batch} left ` +
      `${r.memory.tensorsLeakedPerStep} tensors per step.`);
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
