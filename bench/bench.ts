/**
 * `npm run bench`: forward and training-step speed and peak memory of spiking networks on the
 * project's engine, next to a PyTorch reference of the same networks (bench/torch_reference.py)
 * when /usr/bin/python3 has torch. See `--help` for the case selection.
 *
 * The parent process only plans cases and collects results; each case runs in a fresh child
 * (`bench.js --case JSON`, and one python3 process per PyTorch thread count), so that peak RSS
 * is per case and one case's failure (an engine abort, an out-of-memory) does not end the run.
 * The parent never loads tfjs.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freemem, loadavg } from 'node:os';
import {
  CaseSpecSchema,
  caseWork,
  parseArgs,
  selectCases,
  torchThreadsFor,
  USAGE,
  type BenchOptions,
  type CaseSpec,
} from './cases.js';
import { failureReason, runChild } from './child.js';
import type { CaseResult } from './measure.js';
import {
  describeMachine,
  formatCpuTable,
  formatMarkdown,
  formatTable,
  gitCommit,
  memorySweepSummary,
  writeReport,
  type BenchReport,
  type CaseFailure,
  type SkippedCase,
} from './report.js';
import { runTorch, torchAvailability, type TorchAvailability, type TorchRun } from './torch.js';

/** Prefix of the child's result line; tfjs may print its own lines on stdout too. */
const MARKER = 'SNN_BENCH_RESULT ';

const here = fileURLToPath(import.meta.url);
/** dist/bench/bench.js → the package root, where bench/results lives next to the sources. */
const packageRoot = join(dirname(here), '..', '..');
const resultsDir = join(packageRoot, 'bench', 'results');

async function childMain(json: string): Promise<void> {
  const spec = CaseSpecSchema.parse(JSON.parse(json));
  const { runCase } = await import('./measure.js'); // loads tfjs only in children
  const result = await runCase(spec);
  process.stdout.write(MARKER + JSON.stringify(result) + '\n');
}

function label(spec: CaseSpec): string {
  const { input } = spec;
  return `${spec.model} T=${spec.timesteps} batch ${spec.batch} ${input.height}×${input.width}×${input.channels}`;
}

/** Whether snn's native kernels are built (the parent never loads tfjs or the addon itself). */
function nativeBuilt(root: string): boolean {
  return existsSync(join(root, 'native', 'build', 'snn_onednn.node'));
}

/** Runs one case of the snn side in a fresh Node process. */
async function runSnn(spec: CaseSpec): Promise<CaseResult | CaseFailure> {
  const env = spec.threads === null ? process.env : { ...process.env, SNN_THREADS: String(spec.threads) };
  const o = await runChild(process.execPath, [here, '--case', JSON.stringify(spec)], { echoStderr: true, env });
  const line = o.stdout.split('\n').find((l) => l.startsWith(MARKER));
  if (o.code === 0 && line) return JSON.parse(line.slice(MARKER.length)) as CaseResult;
  return { spec, error: failureReason(o), polledPeakRssMB: o.polledPeakRssMB };
}

function isFailure(r: CaseResult | CaseFailure): r is CaseFailure {
  return 'error' in r;
}

/** MemAvailable from /proc/meminfo (MB), or os.freemem() elsewhere. */
function availableMemoryMB(): number {
  try {
    const m = /^MemAvailable:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return freemem() / (1024 * 1024);
}

/** The wasm32 heap's ceiling (65,536 pages of 64 KiB) plus Node's own few hundred MB. */
const WASM_RSS_LIMIT_MB = 4096 + 300;

/**
 * Keeps the --full grid and the memory sweep from running what cannot finish, per engine and
 * model, from the cases measured so far (each model's cases run from the smallest T × batch up):
 * - a case at least as large as one that failed (the wasm heap's 4 GB, an out-of-memory kill);
 * - a case whose peak RSS, extrapolated linearly in T × batch, exceeds 80 % of the memory
 *   available now (a shared machine: an out-of-memory kill could hit other work);
 * - --full only: a training step predicted (time per image-step × T × batch, from the largest
 *   case measured; per-image cost falls with batch, so this overestimates slightly) over the
 *   cap, or a wasm case predicted over the 4 GB heap.
 */
class Guard {
  private readonly measured = new Map<string, { work: number; msPerBatch: number; rssMB: number }[]>();
  private readonly failed = new Map<string, { spec: CaseSpec; error: string }>();
  constructor(private readonly capSeconds: number | null) {}

  private key(engine: string, spec: CaseSpec): string {
    return `${engine}/${spec.model}`;
  }

  record(engine: string, spec: CaseSpec, train: { msPerBatch: number; rssMB: number } | null, error: string | null): void {
    const k = this.key(engine, spec);
    const work = caseWork(spec);
    if (error !== null || train === null) {
      const prev = this.failed.get(k);
      if (!prev || caseWork(prev.spec) > work) this.failed.set(k, { spec, error: error ?? 'no result' });
      return;
    }
    const list = this.measured.get(k) ?? [];
    list.push({ work, ...train });
    list.sort((a, b) => a.work - b.work);
    this.measured.set(k, list);
  }

  /** Peak RSS at `work` image-steps: a line through the two largest cases (one: proportional). */
  private predictRss(list: { work: number; rssMB: number }[], work: number): number {
    const b = list[list.length - 1];
    const a = list.length > 1 ? list[list.length - 2] : null;
    if (!a || a.work === b.work) return (b.rssMB * work) / b.work;
    const slope = Math.max(0, (b.rssMB - a.rssMB) / (b.work - a.work));
    return b.rssMB + slope * (work - b.work);
  }

  /** Why this case should not run, or null. */
  check(engine: string, spec: CaseSpec): string | null {
    const k = this.key(engine, spec);
    const work = caseWork(spec);
    const f = this.failed.get(k);
    if (f && caseWork(f.spec) <= work) {
      return `not run: the smaller case T=${f.spec.timesteps} batch ${f.spec.batch} failed (${f.error})`;
    }
    const list = this.measured.get(k);
    if (!list || list.length === 0) return null;
    const last = list[list.length - 1];
    if (work <= last.work) return null;
    const rss = this.predictRss(list, work);
    const avail = availableMemoryMB();
    if (rss > 0.8 * avail) {
      return `not run: predicted peak RSS ~${Math.round(rss)} MB, over 80 % of the ${Math.round(avail)} MB available`;
    }
    if (this.capSeconds === null) return null;
    if (engine === 'snn' && spec.backend === 'wasm' && rss > WASM_RSS_LIMIT_MB) {
      return `not run: predicted peak RSS ~${Math.round(rss)} MB, beyond the wasm heap's 4 GB`;
    }
    const predicted = ((last.msPerBatch / last.work) * work) / 1000;
    if (predicted > this.capSeconds) {
      const p = predicted < 10 ? predicted.toFixed(1) : String(Math.round(predicted));
      return `not run: predicted ~${p} s per training step (cap ${this.capSeconds} s)`;
    }
    return null;
  }
}

async function parentMain(argv: readonly string[], opts: BenchOptions): Promise<number> {
  const cases = selectCases(opts);
  if (opts.backend === 'cpu') {
    process.stderr.write('note: the cpu backend takes minutes per training step on the reference CNN\n');
  }
  const torch: TorchAvailability = opts.torch
    ? torchAvailability()
    : { available: false, python: '', version: null, details: null, reason: '--no-torch' };
  const threads = torch.available ? torchThreadsFor(opts) : [];
  // snn runs at the same thread counts as PyTorch when its native kernels are built (their
  // threads are the only ones it has); the wasm kernels alone use one thread in Node.
  const native = nativeBuilt(packageRoot) && opts.backend === 'wasm' && process.env['SNN_NATIVE'] !== 'off';
  const snnThreads: (number | null)[] = native ? torchThreadsFor(opts) : [null];
  if (!torch.available) process.stderr.write(`PyTorch reference not run: ${torch.reason}\n`);

  const started = new Date();
  const load = loadavg()[0];
  const results: CaseResult[] = [];
  const failures: CaseFailure[] = [];
  const skipped: SkippedCase[] = [];
  const torchRuns: TorchRun[] = [];
  /** 1-minute load average as each child starts: the machine is shared, the figures move with it. */
  const loads: BenchReport['loads'] = [];
  const noteLoad = (spec: CaseSpec, engine: string): void => {
    loads.push({ model: spec.model, timesteps: spec.timesteps, batch: spec.batch, engine, load1: loadavg()[0] });
  };
  const guard = new Guard(opts.full ? opts.maxStepSeconds : null);
  const guarded = opts.full || opts.memorySweep;
  for (const [i, spec] of cases.entries()) {
    const head = `[${i + 1}/${cases.length}] ${label(spec)}`;
    for (const k of snnThreads) {
      const run = { ...spec, threads: k };
      const engine = `snn${k ?? ''}`;
      const who = `snn (${spec.backend}${k === null ? '' : `, ${k} thr`})`;
      const skipSnn = guarded ? guard.check(engine, run) : null;
      if (skipSnn !== null) {
        skipped.push({ spec: run, reason: skipSnn });
        process.stderr.write(`${head} ${who}: ${skipSnn}\n`);
        continue;
      }
      process.stderr.write(`${head} ${who} ... `);
      noteLoad(run, engine);
      const r = await runSnn(run);
      if (isFailure(r)) {
        failures.push(r);
        guard.record(engine, run, null, r.error);
        const peak = r.polledPeakRssMB == null ? '' : ` (peak RSS ≥ ${Math.round(r.polledPeakRssMB)} MB)`;
        process.stderr.write(`failed: ${r.error}${peak}\n`);
      } else {
        results.push(r);
        guard.record(engine, run, { msPerBatch: r.train.msPerBatch, rssMB: r.memory.maxRssMB }, null);
        const fwd = r.forward ? `forward ${r.forward.msPerBatch.toFixed(0)} ms, ` : '';
        process.stderr.write(
          `${fwd}train ${r.train.msPerBatch.toFixed(0)} ms, peak RSS ${Math.round(r.memory.maxRssMB)} MB\n`,
        );
      }
    }
    for (const k of threads) {
      const engine = `torch${k}`;
      const skip = guarded ? guard.check(engine, spec) : null;
      if (skip !== null) {
        torchRuns.push({
          model: spec.model, timesteps: spec.timesteps, batch: spec.batch, threads: k,
          result: null, error: skip, skipped: true, polledPeakRssMB: null,
        });
        process.stderr.write(`${head} pytorch (${k} thr): ${skip}\n`);
        continue;
      }
      process.stderr.write(`${head} pytorch (${k} thr) ... `);
      noteLoad(spec, `pytorch ${k} thr`);
      const t = await runTorch(packageRoot, spec, k);
      torchRuns.push(t);
      guard.record(
        engine,
        spec,
        t.result ? { msPerBatch: t.result.train.msPerBatch, rssMB: t.result.memory.maxRssMB } : null,
        t.error,
      );
      if (t.result) {
        const fwd = t.result.forward ? `forward ${t.result.forward.msPerBatch.toFixed(0)} ms, ` : '';
        process.stderr.write(
          `${fwd}train ${t.result.train.msPerBatch.toFixed(0)} ms, peak RSS ${Math.round(t.result.memory.maxRssMB)} MB\n`,
        );
      } else {
        process.stderr.write(`failed: ${t.error}\n`);
      }
    }
  }
  const report: BenchReport = {
    createdAt: started.toISOString(),
    command: ['node', relative(process.cwd(), here), ...argv].join(' '),
    machine: describeMachine(results, load, loadavg()[0], gitCommit(packageRoot), torch),
    mode: opts.memorySweep ? 'memory-sweep' : opts.full ? 'full' : 'default',
    planned: cases,
    cases: results,
    failures,
    skipped,
    torch: { ...torch, threads, runs: torchRuns },
    snnThreads,
    memorySweep: null,
    loads,
  };
  if (opts.memorySweep) report.memorySweep = memorySweepSummary(report);
  const paths = writeReport(resultsDir, report, started);
  process.stdout.write('\n' + formatTable(report) + '\n\n');
  const cpu = formatCpuTable(report);
  if (cpu) process.stdout.write('Per CPU-second:\n\n' + cpu + '\n\n');
  if (report.memorySweep) process.stdout.write(report.memorySweep.markdown + '\n\n');
  process.stdout.write(`wrote ${relative(process.cwd(), paths.json)} and ${relative(process.cwd(), paths.markdown)}\n`);
  // A failure inside the memory sweep or the --full grid (the wasm heap's 4 GB) is a finding
  // recorded in the report, not an error of the benchmark.
  return failures.length > 0 && !guarded ? 1 : 0;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opts = parseArgs(argv);
  if (opts.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (opts.render !== null) {
    const report = JSON.parse(readFileSync(opts.render, 'utf8')) as BenchReport;
    if (report.mode === 'memory-sweep') report.memorySweep = memorySweepSummary(report);
    const md = opts.render.replace(/\.json$/, '') + '.md';
    writeFileSync(md, formatMarkdown(report));
    if (report.memorySweep) writeFileSync(opts.render, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(`wrote ${md}\n`);
    return;
  }
  if (opts.caseJson !== null) {
    await childMain(opts.caseJson);
    return;
  }
  process.exitCode = await parentMain(argv, opts);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
