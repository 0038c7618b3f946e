/**
 * `snn sweep`: a grid of `snn train` runs in one sweep folder, run here (`--jobs N` at a time),
 * printed as shell commands (`--emit commands`), or written as a Slurm array job
 * (`--emit slurm`, `--submit`). Running the same sweep again skips completed runs and resumes
 * the others. Every flag and grid value is checked before any folder is made or run started.
 */
import { Option, type Command } from 'commander';
import { writeSweepReport } from '../reports/report.js';
import { buildRows, columns, sweepRefs, toText } from '../reports/compare.js';
import { commandLine, displayPath, launcher, nextAction, trainArgs } from '../sweep/commands.js';
import { parseGridArg, seedAxis, type GridAxis } from '../sweep/grid.js';
import { describeOutcomes, runLocal, type RunOutcome } from '../sweep/local.js';
import { lockSweep, readManifest, writeManifest, type SweepManifest } from '../sweep/manifest.js';
import { findSweep, openSweep, planSweep } from '../sweep/plan.js';
import { checkResources, submit, writeSlurmScript, type SlurmResources } from '../sweep/slurm.js';
import { UserError } from '../util/errors.js';
import { collect, EXIT, parseChoice, parsePositiveInt } from './common.js';

interface SweepFlags {
  config?: string;
  grid: string[];
  seeds?: string;
  set: string[];
  jobs: string;
  name?: string;
  runsDir: string;
  resumeSweep?: string;
  emit?: string;
  submit?: boolean;
  partition?: string;
  time?: string;
  cpus?: string;
  mem?: string;
  gpus?: string;
  account?: string;
  json?: boolean;
  quiet?: boolean;
  taskCommand?: string;
}

export function sweepCommand(program: Command): void {
  program
    .command('sweep')
    .description('run a grid of trainings (Cartesian product) in one sweep folder; re-running resumes it')
    .option('-c, --config <file>', 'YAML config the runs start from')
    .option('-g, --grid <key=v1,v2>', 'a config key and its values (repeatable; values read as YAML, [a,b] stays whole)', collect, [])
    .option('--seeds <list>', 'seeds to repeat every grid point with, e.g. 1,2,3')
    .option('-s, --set <key=value>', 'override a config value in every run (repeatable)', collect, [])
    .option('-j, --jobs <n>', 'runs at once (local), or the Slurm array throttle', '1')
    .option('--name <name>', 'sweep folder name (default: config name and a hash of config and grid)')
    .option('--runs-dir <dir>', 'folder that holds run folders; sweeps go to <dir>/sweeps/', 'runs')
    .option('--resume-sweep <dir>', 'continue a sweep folder from its manifest (no --config or --grid needed)')
    .option('--emit <what>', 'commands: print one snn train line per run; slurm: write an sbatch array script')
    .option('--submit', 'with --emit slurm: submit the script with sbatch')
    .option('--partition <name>', 'Slurm partition')
    .option('--time <limit>', 'Slurm time limit per run, e.g. 2:00:00')
    .option('--cpus <n>', 'Slurm CPUs per run')
    .option('--mem <size>', 'Slurm memory per run, e.g. 8G')
    .option('--gpus <n>', 'Slurm GPUs per run')
    .option('--account <name>', 'Slurm account')
    .option('--json', 'print the outcome of every run as JSON on stdout')
    .option('-q, --quiet', 'no progress lines')
    .addOption(new Option('--task-command <index>', 'print the snn train command of one run (used by the Slurm script)').hideHelp())
    .action(async (f: SweepFlags) => {
      process.exitCode = await sweepAction(f);
    });
}

function axesOf(f: SweepFlags): GridAxis[] {
  const axes = f.grid.map(parseGridArg);
  if (f.seeds !== undefined) axes.push(seedAxis(f.seeds));
  return axes;
}

/** Finds or creates the sweep folder; all flag checks happen before it is created. */
function openFromFlags(f: SweepFlags): { dir: string; manifest: SweepManifest; existed: boolean } {
  if (f.resumeSweep) {
    const extra = [f.config && '--config', f.grid.length > 0 && '--grid', f.seeds && '--seeds', f.set.length > 0 && '--set', f.name && '--name'].filter(Boolean);
    if (extra.length > 0) throw new UserError(`--resume-sweep takes the plan from the manifest; drop ${extra.join(', ')}`);
    const dir = findSweep(f.resumeSweep, f.runsDir);
    return { dir, manifest: readManifest(dir), existed: true };
  }
  if (!f.config) throw new UserError('snn sweep: give --config FILE and --grid key=v1,v2 (or --resume-sweep DIR)');
  const plan = planSweep({ config: f.config, sets: f.set, axes: axesOf(f), name: f.name, runsDir: f.runsDir });
  return openSweep(plan, f.runsDir);
}

function slurmResources(f: SweepFlags, jobs: number): SlurmResources {
  const r: SlurmResources = {
    partition: f.partition,
    time: f.time,
    cpus: f.cpus !== undefined ? parsePositiveInt('--cpus', f.cpus) : undefined,
    mem: f.mem,
    gpus: f.gpus,
    account: f.account,
    throttle: jobs > 1 ? jobs : undefined,
  };
  checkResources(r);
  return r;
}

async function sweepAction(f: SweepFlags): Promise<number> {
  const jobs = parsePositiveInt('--jobs', f.jobs);
  const emit = f.emit !== undefined ? parseChoice('--emit', f.emit, ['commands', 'slurm'] as const) : undefined;
  if (f.submit && emit !== 'slurm') throw new UserError('--submit goes with --emit slurm');
  const slurmFlags = [f.partition && '--partition', f.time && '--time', f.cpus && '--cpus', f.mem && '--mem', f.gpus && '--gpus', f.account && '--account'].filter(Boolean);
  if (emit !== 'slurm' && slurmFlags.length > 0) throw new UserError(`${slurmFlags.join(', ')}: Slurm resources go with --emit slurm`);
  const resources = emit === 'slurm' ? slurmResources(f, jobs) : undefined;
  const task = f.taskCommand !== undefined ? Number(f.taskCommand) : undefined;
  if (task !== undefined && (!Number.isInteger(task) || task < 0)) throw new UserError(`--task-command: expected a run index, got '${f.taskCommand}'`);

  const { dir, manifest, existed } = openFromFlags(f);
  const log = (line: string): void => {
    if (!f.quiet) process.stderr.write(`${line}\n`);
  };
  const shown = displayPath(process.cwd());

  if (task !== undefined) {
    const run = manifest.runs[task];
    if (!run) throw new UserError(`--task-command ${task}: the sweep has runs 0..${manifest.runs.length - 1}`);
    const action = nextAction(dir, run);
    if (action.kind === 'skip') return EXIT.ok;
    if (action.kind === 'busy') throw new Error(`run ${task} (${run.name}) is still being trained by pid ${action.pid}`);
    const { node, bin } = launcher();
    process.stdout.write(`${commandLine([node, bin, ...trainArgs(dir, run, action, { path: (p) => p, json: false })])}\n`);
    return EXIT.ok;
  }

  const todo = manifest.runs.map((r) => ({ run: r, action: nextAction(dir, r) })).filter((x) => x.action.kind !== 'skip');
  log(`sweep ${manifest.name}: ${manifest.runs.length} runs, ${manifest.runs.length - todo.length} already completed${existed ? '' : ' (new)'} → ${shown(dir)}`);

  if (emit === 'commands') {
    for (const { run, action } of todo) {
      if (action.kind === 'busy') continue;
      process.stdout.write(`${commandLine(['snn', ...trainArgs(dir, run, action, { path: shown, json: false })])}\n`);
    }
    return EXIT.ok;
  }

  if (emit === 'slurm' && resources) {
    const tasks = todo.filter((x) => x.action.kind !== 'busy').map((x) => x.run.index);
    if (tasks.length === 0) {
      log('nothing to submit: every run is completed or running');
      return EXIT.ok;
    }
    const script = writeSlurmScript(dir, manifest, tasks, resources);
    log(`wrote ${shown(script)} (array of ${tasks.length} tasks)`);
    if (!f.submit) {
      process.stdout.write(`${shown(script)}\n`);
      return EXIT.ok;
    }
    const jobId = submit(script);
    const m = readManifest(dir);
    m.slurm.push({ jobId, submitted: new Date().toISOString(), script, tasks });
    writeManifest(dir, m);
    log(`submitted Slurm job ${jobId} (tasks ${tasks.join(',')}); follow with squeue -j ${jobId}, then snn runs compare ${shown(dir)}`);
    process.stdout.write(f.json ? `${JSON.stringify({ sweep: dir, jobId, tasks }, null, 2)}\n` : `${jobId}\n`);
    return EXIT.ok;
  }

  // Local: the job pool. The first SIGINT/SIGTERM stops new runs and is passed once to each
  // running one (which checkpoints and exits); a second one is passed on too (abort now).
  const controller = new AbortController();
  let signal: NodeJS.Signals | null = null;
  const outcomes: RunOutcome[] = [];
  const onSignal = (s: NodeJS.Signals): void => {
    if (signal) {
      process.exit(s === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
    }
    signal = s;
    log(`\n${s}: no new runs; running ones checkpoint and stop (run the sweep again to resume)`);
    controller.abort(s);
  };
  const unlock = lockSweep(dir);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    outcomes.push(
      ...(await runLocal(dir, manifest, {
        jobs,
        log,
        abort: controller.signal,
        onRunEnd: async (runDir) => {
          try {
            // `snn train` may have drawn them already; draw only what is missing or stale.
            const { plotsStale, writeRunPlots } = await import('../reports/plots.js');
            if (plotsStale(runDir)) await writeRunPlots(runDir);
          } catch (e) {
            log(`warning: plots of ${shown(runDir)}: ${(e as Error).message}`);
          }
        },
      })),
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    unlock();
  }
  try {
    const rep = await writeSweepReport(dir);
    log(`report: ${shown(rep.html)}`);
  } catch (e) {
    log(`warning: sweep report: ${(e as Error).message}`);
  }
  log(`sweep ${manifest.name}: ${describeOutcomes(outcomes)}`);
  if (f.json) {
    process.stdout.write(`${JSON.stringify({ sweep: dir, runs: outcomes }, null, 2)}\n`);
  } else {
    const { rows, keys } = buildRows(sweepRefs(dir), manifest.axes.map((a) => a.key));
    process.stdout.write(toText(rows, columns(keys, 'list')));
  }
  if (signal) return signal === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
  return outcomes.some((o) => o.result === 'failed' || o.result === 'interrupted') ? EXIT.failure : EXIT.ok;
}
