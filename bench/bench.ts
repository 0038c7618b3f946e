/**
 * `npm run bench`: forward and training-step speed and peak memory of spiking networks on the
 * project's engine. See `--help` for the case selection.
 *
 * The parent process only plans cases and collects results; each case runs in a fresh child
 * (`bench.js --case JSON`), so that peak RSS is per case and one case's failure (an engine
 * abort, an out-of-memory) does not end the run. The parent never loads tfjs.
 */
import { spawn } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { CaseSpecSchema, parseArgs, selectCases, USAGE, type BenchOptions, type CaseSpec } from './cases.js';
import type { CaseResult } from './measure.js';
import { describeMachine, formatTable, gitCommit, writeReport, type BenchReport, type CaseFailure } from './report.js';

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
  return `${spec.model} T=${spec.timesteps} batch ${spec.batch} ${input.height}×${input.width}×${input.channels} (${spec.backend})`;
}

/** Runs one case in a child; resolves to its result or to the reason it failed. */
function runChild(spec: CaseSpec): Promise<CaseResult | CaseFailure> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [here, '--case', JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      process.stderr.write(d);
    });
    child.on('error', (e) => resolve({ spec, error: e.message }));
    child.on('close', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith(MARKER));
      if (code === 0 && line) {
        resolve(JSON.parse(line.slice(MARKER.length)) as CaseResult);
        return;
      }
      const lastErr = err.trim().split('\n').filter((l) => l.trim() !== '').pop() ?? '';
      const why = signal ? `killed by ${signal}` : `exit code ${code}`;
      resolve({ spec, error: `${why}${lastErr ? `: ${lastErr.trim()}` : ''}` });
    });
  });
}

function isFailure(r: CaseResult | CaseFailure): r is CaseFailure {
  return 'error' in r;
}

async function parentMain(argv: readonly string[], opts: BenchOptions): Promise<number> {
  const cases = selectCases(opts);
  if (opts.backend === 'cpu') {
    process.stderr.write('note: the cpu backend takes minutes per training step on the reference CNN\n');
  }
  const started = new Date();
  const load = loadavg()[0];
  const results: CaseResult[] = [];
  const failures: CaseFailure[] = [];
  for (const [i, spec] of cases.entries()) {
    process.stderr.write(`[${i + 1}/${cases.length}] ${label(spec)} ... `);
    const r = await runChild(spec);
    if (isFailure(r)) {
      failures.push(r);
      process.stderr.write(`failed: ${r.error}\n`);
    } else {
      results.push(r);
      process.stderr.write(
        `forward ${r.forward.msPerBatch.toFixed(0)} ms, train ${r.train.msPerBatch.toFixed(0)} ms, ` +
          `peak RSS ${Math.round(r.memory.maxRssMB)} MB\n`,
      );
    }
  }
  const report: BenchReport = {
    createdAt: started.toISOString(),
    command: ['node', relative(process.cwd(), here), ...argv].join(' '),
    machine: describeMachine(results, load, gitCommit(packageRoot)),
    cases: results,
    failures,
  };
  const paths = writeReport(resultsDir, report, started);
  process.stdout.write('\n' + formatTable(report) + '\n\n');
  process.stdout.write(`wrote ${relative(process.cwd(), paths.json)} and ${relative(process.cwd(), paths.markdown)}\n`);
  return failures.length > 0 ? 1 : 0;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opts = parseArgs(argv);
  if (opts.help) {
    process.stdout.write(USAGE + '\n');
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
