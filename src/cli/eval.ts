/** `snn eval`: evaluates a run's checkpoint on a split; a table on stdout, or JSON. */
import type { Command } from 'commander';
import { MAX_TIMESTEPS } from '../export/manifestSchema.js';
import { BACKENDS, type BackendName } from '../config/schema.js';
import { runEval } from '../train/evalSession.js';
import { UserError } from '../util/errors.js';
import { checkPredictionsPath, writePredictions } from '../runs/predictions.js';
import { collect, parseChoice, parsePositiveInt } from './common.js';

interface EvalFlags {
  timesteps?: string;
  split: string;
  checkpoint: string;
  json?: boolean;
  backend?: string;
  runsDir: string;
  set: string[];
  exported?: string;
  compare?: boolean;
  predictions?: string;
  runtime?: string;
  batch?: string;
  threads?: string;
}

export function evalCommand(program: Command): void {
  program
    .command('eval')
    .description('evaluate a run (its best checkpoint) or a checkpoint folder')
    .argument('[run]', "run folder, run name, 'latest', or a checkpoint folder")
    .option('-t, --timesteps <T>', 'evaluate at T time steps (default: as trained)')
    .option('--split <split>', 'test | train', 'test')
    .option('--checkpoint <which>', 'best | last (for a run folder)', 'best')
    .option('--backend <name>', `engine: ${BACKENDS.join(' | ')}`)
    .option('--runs-dir <dir>', 'folder that holds run folders', 'runs')
    .option('-s, --set <key=value>', 'override a value of the run config, e.g. data.root=/data/fmnist', collect, [])
    .option('--json', 'print the result as JSON')
    .option('--exported <dir>', 'evaluate an snn export folder with the TensorFlow.js-free engine instead of a run')
    .option('--predictions <file>', 'also write every image\'s label, prediction, logits and spike count to a CSV file')
    .option('--compare', 'with --exported: also run the source checkpoint with TensorFlow.js and report prediction agreement')
    .option('--runtime <name>', 'with --exported: auto (native kernels where built, else wasm) | native | wasm | reference')
    .option('--batch <n>', 'with --exported: images per run (default 32)')
    .option('--threads <n>', 'with --exported: threads (native: OpenMP; wasm: worker threads) (default 1)')
    .action(async (target: string | undefined, f: EvalFlags) => {
      if (f.exported !== undefined) {
        if (target !== undefined) throw new UserError('eval: give a run or --exported DIR, not both');
        const { exportedEvalCommand } = await import('./evalExported.js');
        await exportedEvalCommand(f.exported, f);
        return;
      }
      if (f.compare) throw new UserError('--compare: goes with --exported DIR');
      for (const [flag, v] of [['--runtime', f.runtime], ['--batch', f.batch], ['--threads', f.threads]] as const) {
        if (v !== undefined) throw new UserError(`${flag}: goes with --exported DIR`);
      }
      if (target === undefined) throw new UserError("eval: needs a run, a checkpoint folder or 'latest' (or --exported DIR)");
      if (f.predictions !== undefined) checkPredictionsPath(f.predictions);
      const res = await runEval({
        target,
        runsDir: f.runsDir,
        checkpoint: parseChoice('--checkpoint', f.checkpoint, ['best', 'last'] as const),
        split: parseChoice('--split', f.split, ['test', 'train'] as const),
        timesteps: f.timesteps ? parsePositiveInt('--timesteps', f.timesteps, MAX_TIMESTEPS) : undefined,
        backend: f.backend ? parseChoice<BackendName>('--backend', f.backend, BACKENDS) : undefined,
        sets: f.set,
        perImage: f.predictions !== undefined,
      });
      const { backendInfo, perImage, ...out } = res;
      if (f.predictions !== undefined && perImage) writePredictions(f.predictions, perImage);
      if (f.json) {
        process.stdout.write(`${JSON.stringify({ ...out, backendPackage: backendInfo.package, predictionsFile: f.predictions ?? null }, null, 2)}\n`);
        return;
      }
      const lines = [
        `run         ${out.run}`,
        `checkpoint  ${out.checkpoint}${out.epoch !== null ? ` (epoch ${out.epoch})` : ''}`,
        `split       ${out.split} (${out.count} images), T = ${out.timesteps}${out.timesteps !== out.trainedTimesteps ? ` (trained at ${out.trainedTimesteps})` : ''}`,
        `accuracy    ${(100 * out.accuracy).toFixed(2)}%`,
        `loss        ${out.loss.toFixed(4)}`,
        `speed       ${out.imagesPerSecond.toFixed(0)} img/s on ${out.backend}`,
        `energy      ${out.energy.pJ.toExponential(3)} pJ per image (${out.energy.sop.toExponential(3)} SOP, ${out.energy.mac.toExponential(3)} MAC; README "Energy estimate")`,
        `firing rate ${out.meanFiringRate.toFixed(4)} spikes per neuron per step, by layer:`,
        ...Object.entries(out.firingRates).map(([k, v]) => `  ${k.padEnd(28)} ${v.toFixed(4)}`),
        ...(f.predictions !== undefined ? [`predictions ${out.count} rows in ${f.predictions}`] : []),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
