/**
 * The `snn` command line. Each command lives in its own file; this one wires them up and maps
 * errors to exit codes: 0 done, 2 bad input (one line naming the problem), 1 anything else,
 * 130/143 interrupted by SIGINT/SIGTERM.
 */
import { Command, CommanderError } from 'commander';
import { isUserError } from '../util/errors.js';
import { snnVersion } from '../util/version.js';
import { EXIT } from './common.js';
import { dataCommand } from './data.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { modelCommand } from './model.js';
import { runsCommand } from './runs.js';
import { sweepCommand } from './sweep.js';
import { trainCommand } from './train.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('snn')
    .description('Train, evaluate and export spiking neural networks from YAML configs')
    .version(snnVersion())
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)');
  trainCommand(program);
  evalCommand(program);
  exportCommand(program);
  modelCommand(program);
  sweepCommand(program);
  runsCommand(program);
  dataCommand(program);
  for (const c of program.commands) c.exitOverride();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.badInput; // commander already printed the one-line reason
    }
    if (isUserError(e)) {
      process.stderr.write(`snn: ${e.message}\n`);
      return EXIT.badInput;
    }
    const err = e as Error;
    process.stderr.write(`snn: error: ${err.message}\n`);
    if (process.env.SNN_DEBUG) process.stderr.write(`${err.stack ?? ''}\n`);
    return EXIT.failure;
  }
}
