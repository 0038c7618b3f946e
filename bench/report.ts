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
  /**
   * Thread counts the snn side ran with (its native kernels' SNN_THREADS); [null] when it ran
   * once at its default (wasm kernels only: one thread). Absent in reports before the addon.
   */
  snnThreads?: (number | null)[];
  memorySweep: MemorySweep | null;
  /** The 1-minute load average as each child process started. */
  loads: { model: CaseSpec['model']; timesteps: number; batch: number; engine: string; load1: number }[];
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

/** "median img/s", marked † when fewer steps were timed than the run asked for (a capped slow case). */
function rate(t: Timing | null | undefined, requested: number): string | null {
  if (!t) return null;
  return num(t.imagesPerSecond) + (t.samplesMs.length < requested ? '†' : '');
}

const ratio = (a: Timing | null | undefined, b: Timing | null | undefined): string | null =>
  a && b ? (a.imagesPerSecond / b.imagesPerSecond).toFixed(2) : null;

/** Per thread count: "a / b". */
const joinCells = (cells: (string | null)[]): string => cells.map((c) => c ?? '—').join(' / ');

/** The snn side's thread counts of a report ([null]: one run at the default). */
const snnThreadsOf = (report: BenchReport): (number | null)[] => report.snnThreads ?? [null];

/** The snn result, failure or skip of a case at one snn thread count. */
function snnAt(report: BenchReport, spec: CaseSpec, k: number | null): { r?: CaseResult; f?: CaseFailure; s?: SkippedCase } {
  const at = (c: { spec: CaseSpec }): boolean => sameCase(c.spec, spec) && (c.spec.threads ?? null) === k;
  return { r: report.cases.find(at), f: report.failures.find(at), s: report.skipped.find(at) };
}

/** "wasm + oneDNN 2.6.3 (1 / 2 thr)" for the table's backend column. */
function backendLabel(r: CaseResult | undefined, spec: CaseSpec, ks: (number | null)[]): string {
  if (!r) return spec.backend;
  const adapter = r.backend.adapter;
  if (adapter !== undefined) return `${r.backend.name} (${adapter.device || adapter.vendor}${adapter.software ? ', software' : ''})`;
  const native = r.backend.native ? ` + ${r.backend.native.split(',')[0]}` : '';
  const threads = ks.every((k) => k === null) ? r.backend.threads : ks.join(' / ');
  return threads === null ? `${r.backend.name}${native}` : `${r.backend.name}${native} (${threads} thr)`;
}

export function formatTable(report: BenchReport): string {
  const notes = new Notes();
  const thr = report.torch.threads;
  const ks = snnThreadsOf(report);
  const withTorch = thr.length > 0;
  const t = (what: string): string => (thr.length > 1 ? `${what} (${thr.join(' / ')} thr)` : `${what} (${thr[0]} thr)`);
  const sn = (what: string): string => (ks.length > 1 ? `${what} (${ks.join(' / ')} thr)` : what);
  const head = ['model', 'T', 'batch', 'input', 'backend', 'params', sn('snn forward img/s'), sn('snn train img/s'), sn('snn peak RSS MB')];
  if (withTorch) {
    head.push(t('torch forward img/s'), t('torch train img/s'), t('torch peak RSS MB'), t('snn/torch forward'), t('snn/torch train'));
  }
  const rows = report.planned.map((spec) => {
    const { input } = spec;
    const at = ks.map((k) => snnAt(report, spec, k));
    const first = at.find((a) => a.r)?.r;
    const snnCell = (g: (r: CaseResult) => string | null, failed: boolean): string =>
      joinCells(
        at.map(({ r, f, s }) => {
          if (r) return g(r);
          if (!failed) return f?.polledPeakRssMB ? `≥ ${Math.round(f.polledPeakRssMB)} ${notes.add(f.error)}` : null;
          if (f) return `failed ${notes.add(f.error)}`;
          if (s) return `skipped ${notes.add(s.reason)}`;
          return null;
        }),
      );
    const row = [
      MODEL_LABEL[spec.model],
      String(spec.timesteps),
      String(spec.batch),
      `${input.height}×${input.width}×${input.channels}`,
      backendLabel(first, spec, ks),
      first ? first.parameters.toLocaleString('en-US') : '—',
      snnCell((r) => rate(r.forward, spec.steps), true),
      snnCell((r) => rate(r.train, spec.steps), true),
      // GPU engines add the device buffers tfjs held at its peak (older results have no field).
      snnCell((r) => `${Math.round(r.memory.maxRssMB)}${(r.memory.peakDeviceMB ?? null) === null ? '' : ` + ${Math.round(r.memory.peakDeviceMB ?? 0)} on the GPU`}`, false),
    ];
    if (withTorch) {
      const runs = thr.map((k) => report.torch.runs.find((x) => sameCase(x, spec) && x.threads === k));
      // Ratios pair equal thread counts when snn ran at several; else its one run against each.
      const snnFor = (k: number): CaseResult | undefined => (ks.includes(k) ? snnAt(report, spec, k).r : ks.length === 1 ? first : undefined);
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
        cell((x) => rate(x.result?.forward, spec.steps), true),
        cell((x) => rate(x.result?.train, spec.steps), true),
        cell((x) => (x.result ? String(Math.round(x.result.memory.maxRssMB)) : null), false),
        cell((x) => ratio(snnFor(x.threads)?.forward, x.result?.forward), false),
        cell((x) => ratio(snnFor(x.threads)?.train, x.result?.train), false),
      );
    }
    return row;
  });
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  const out = [line(head), line(head.map(() => '---')), ...rows.map(line)];
  if (notes.lines.length > 0) out.push('', ...notes.lines.map((n, i) => `[${i + 1}] ${n}`));
  return out.join('\n');
}

/**
 * The same comparison in CPU time: images per CPU-second of each process, snn against PyTorch
 * at equal thread counts. With one compute thread each, CPU time hardly moves with the
 * machine's load (wall time does), so on a shared machine the 1-thread row is the steadier
 * measure of the engines themselves.
 */
export function formatCpuTable(report: BenchReport): string | null {
  const rows: string[][] = [];
  for (const spec of report.planned) {
    for (const k0 of snnThreadsOf(report)) {
      const r = snnAt(report, spec, k0).r;
      if (!r) continue;
      const k = k0 ?? r.backend.threads ?? 1;
      const x = report.torch.runs.find((t) => sameCase(t, spec) && t.threads === k)?.result;
      if (!x) continue;
      const cpuRate = (t: Timing | null | undefined): string => (t?.imagesPerCpuSecond ? num(t.imagesPerCpuSecond) : '—');
      const cpuRatio = (a: Timing | null | undefined, b: Timing | null | undefined): string =>
        a?.imagesPerCpuSecond && b?.imagesPerCpuSecond ? (a.imagesPerCpuSecond / b.imagesPerCpuSecond).toFixed(2) : '—';
      rows.push([
        MODEL_LABEL[spec.model],
        String(spec.timesteps),
        String(spec.batch),
        `${k}`,
        cpuRate(r.forward),
        cpuRate(x.forward),
        cpuRatio(r.forward, x.forward),
        cpuRate(r.train),
        cpuRate(x.train),
        cpuRatio(r.train, x.train),
      ]);
    }
  }
  if (rows.length === 0) return null;
  const head = [
    'model',
    'T',
    'batch',
    'threads (both)',
    'snn forward img/CPU-s',
    'torch forward img/CPU-s',
    'snn/torch forward',
    'snn train img/CPU-s',
    'torch train img/CPU-s',
    'snn/torch train',
  ];
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
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
  /**
   * true: the MB per time step over the last interval is within 15 % (+ 8 MB) of the average over
   * the whole range, as for a + bT (a T² growth gives 1.33× over T = 1, 2, 4, 8).
   */
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
    // Linear growth a + bT has the same increment per time step everywhere; faster growth has
    // its largest increment at the end. So: is the last interval's MB per step within 15 % (and
    // 8 MB of noise) of the average over the whole range? (T², over T = 1, 2, 4, 8, gives 1.33×.)
    const first = ok[0];
    const last = ok[ok.length - 1];
    const average = (last.maxRssMB - first.maxRssMB) / (last.timesteps - first.timesteps);
    const tail = mbPerStep[mbPerStep.length - 1];
    atMostLinear = tail.mbPerStep <= average * 1.15 + 8;
    const rates = mbPerStep.map((d) => `${Math.round(d.mbPerStep)} over T ${d.from}→${d.to}`).join(', ');
    const g = growth[growth.length - 1];
    verdict =
      `${atMostLinear ? 'at most linear' : 'faster than linear'}: MB per extra time step ${rates}; ` +
      `last ${Math.round(tail.mbPerStep)} vs ${Math.round(average)} on average; RSS ×${g.rssRatio.toFixed(2)} for T ×${g.tRatio}`;
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
    for (const k0 of snnThreadsOf(report)) {
      const threads = k0 ?? report.cases[0]?.backend.threads;
      series.push(
        analyseSeries({
          engine: `snn (${report.machine.backends[0] ?? sorted[0].backend}${threads ? `, ${threads} thr` : ''})`,
          model,
          batch,
          points: sorted.map((spec) => {
            const { r, f, s: sk } = snnAt(report, spec, k0);
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
    }
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
      (spec.warmup > 0 && (spec.warmupSeconds ?? 0) > 0 ? ` and at least ${spec.warmupSeconds} s of warm-up` : '') +
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
      `load average ${m.loadAverageAtStart.toFixed(2)} at start, ${m.loadAverageAtEnd.toFixed(2)} at end` +
      (report.loads.length > 0
        ? ` (${Math.min(...report.loads.map((l) => l.load1)).toFixed(1)}–${Math.max(...report.loads.map((l) => l.load1)).toFixed(1)} as the cases started)`
        : '') +
      '; ' +
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
  const cpu = formatCpuTable(report);
  if (cpu) {
    out.push(
      '',
      'Per CPU-second (the median CPU time of each process per step, user + system; with one compute ' +
        "thread per side this is steady under the machine's load, where the wall-clock figures above are not):",
      '',
      cpu,
    );
  }
  const maxLoad = Math.max(m.loadAverageAtStart, ...report.loads.map((l) => l.load1));
  const spinning = report.torch.runs.some((r) => r.threads > 1 && r.result && r.result.engine.ompWaitPolicy === null);
  if (maxLoad >= m.cores && spinning) {
    out.push(
      '',
      `Note: the load average (up to ${maxLoad.toFixed(1)}) reached the core count (${m.cores}) during this run. ` +
        "With the cores shared, PyTorch's multi-threaded figures suffer most: OpenMP's default spin-waiting " +
        'makes 2 threads slower than 1 when the other thread is descheduled (OMP_WAIT_POLICY=PASSIVE in the ' +
        "environment is passed to the reference and recorded). Single-threaded figures only lose their share of the CPU.",
    );
  }
  if (report.memorySweep) out.push('', report.memorySweep.markdown);
  // warmup 0 (the memory sweep): the timed step allocates Adam's slots, which is no leak.
  const leaks = report.cases.filter((r) => r.memory.tensorsLeakedPerStep !== 0 && r.memory.tensorsLeakedPerStep !== null && r.spec.warmup > 0);
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

/** bench-STAMP.json (every sample) and bench-STAMP.md beside it; latest.md is a copy of the latter. */
export function writeReport(dir: string, report: BenchReport, when: Date): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `bench-${stamp(when)}.json`);
  const markdown = join(dir, `bench-${stamp(when)}.md`);
  const text = formatMarkdown(report);
  writeAtomic(json, JSON.stringify(report, null, 2) + '\n');
  writeAtomic(markdown, text);
  writeAtomic(join(dir, 'latest.md'), text);
  return { json, markdown };
}
