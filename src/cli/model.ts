/**
 * `snn model CONFIG`: builds the config's network and prints its summary (no training).
 * `snn model --list`: the architectures and presets a config may name (src/models/catalog.ts).
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { initBackend } from '../engine/backend.js';
import { datasetInput } from '../data/shapes.js';
import { catalogText } from '../models/catalog.js';
import { buildModel } from '../models/index.js';
import { UserError } from '../util/errors.js';
import { summarize, summaryText } from '../models/summary.js';
import { createRng } from '../util/rng.js';
import { collect } from './common.js';

export function modelCommand(program: Command): void {
  program
    .command('model')
    .description("print a config's network: layers, output shapes, parameters, MACs, shortcut joins")
    .argument('[config]', 'YAML config file')
    .option('--list', 'list the architectures (model.arch) and presets (model.preset)')
    .option('-s, --set <key=value>', 'override a config value (repeatable)', collect, [])
    .option('--json', 'print the summary as JSON')
    .action(async (file: string | undefined, f: { set: string[]; json?: boolean; list?: boolean }) => {
      if (f.list) {
        process.stdout.write(`${catalogText()}\n`);
        return;
      }
      if (file === undefined) throw new UserError('snn model: give a config file, or --list for the architectures and presets');
      const cfg = loadConfig(file, f.set);
      await initBackend('cpu'); // building only: no training kernels run
      const model = buildModel(cfg.model, datasetInput(cfg.data), createRng(cfg.seed));
      const s = summarize(model);
      model.dispose();
      process.stdout.write(f.json ? `${JSON.stringify(s, null, 2)}\n` : `${summaryText(s)}\n`);
    });
}
