/** `snn train`: parses flags, runs the library's training session, maps the outcome to an exit code. */
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { BACKENDS, type BackendName } from '../config/schema.js';
import { runTraining } from '../train/session.js';
import { UserError } from '../util/errors.js';
import { terminalReporter } from './progressBar.js';
import { collect, EXIT, parseChoice } from './common.js';

interface TrainFlags {
  config?: string;
  set: string[];
  resume?: string;
  name?: string;
  backend?: string;
  runsDir: string;
  quiet?: boolean;
  json?: boolean;
}

export function trainCommand(program: Command): void {
  program
    .command('train')
    .description('train a spiking network from a YAML config into a new run folder')
    .option('-c, --config <file>', 'YAML config file')
    .option('-s, --set <key=value>', 'override a config value (repeatable), e.g. model.timesteps=8', collect, [])
    .option('--resume <run>', "continue a run folder: its path, its name, or 'latest' (the newest one no process is training)")
    .option('--name <name>', 'run name (overrides the config name)')
    .option('--backend <name>', `engine: ${BACKENDS.join(' | ')}`)
    .option('--runs-dir <dir>', 'folder that holds run folders', 'runs')
    .option('-q, --quiet', 'no progress output')
    .option('--json', 'print the run summary as JSON on stdout')
    .action(async (f: TrainFlags) => {
      if (!f.config && !f.resume) throw new UserError('snn train: give --config FILE or --resume RUN');
      const sets = f.name ? [...f.set, `name=${f.name}`] : f.set;
      const config = f.config ? loadConfig(f.config, sets) : undefined;
      const backend = f.backend ? parseChoice<BackendName>('--backend', f.backend, BACKENDS) : undefined;
      let signal: NodeJS.Signals | null = null;
      const onSignal = (s: NodeJS.Signals): void => {
        if (signal) process.exit(s === 'SIGINT' ? EXIT.sigint : EXIT.sigterm); // second signal: stop now
        signal = s;
        process.stderr.write(`\n${s}: stopping after this step and writing a checkpoint (send again to abort)\n`);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const out = await runTraining({
        config,
        sets: f.resume ? sets : [],
        resume: f.resume,
        runsDir: f.runsDir,
        backend,
        reporter: terminalReporter(f.quiet === true || f.json === true),
        shouldStop: () => signal !== null,
        commandLine: process.argv.slice(1),
      });
      const summary = {
        run: out.paths.dir,
        status: out.status,
        backend: out.backend.name,
        nativeConvolutions: out.backend.native,
        epochs: out.state.epoch,
        bestAccuracy: out.state.bestAccuracy,
        bestEpoch: out.state.bestEpoch,
        finalAccuracy: out.lastEval?.accuracy ?? null,
        meanFiringRate: out.lastEval?.meanFiringRate ?? null,
        trainSeconds: out.state.seconds,
      };
      if (f.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else if (!f.quiet) {
        process.stderr.write(
          `${out.status === 'completed' ? 'done' : 'interrupted'}: ${out.paths.dir} (best test accuracy ` +
            `${(100 * out.state.bestAccuracy).toFixed(2)}% at epoch ${out.state.bestEpoch}, backend ${out.backend.name}` +
            `${out.backend.native !== null ? ` + ${out.backend.native.split(',')[0]} convolutions` : ''})\n`,
        );
      }
      if (out.status === 'interrupted') process.exitCode = signal === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
    });
}
