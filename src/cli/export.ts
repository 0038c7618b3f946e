/** `snn export`: a run's checkpoint as a packed ternary model (`snn` format) or as NIR. */
import type { Command } from 'commander';
import { BACKENDS, type BackendName } from '../config/schema.js';
import { runExport } from '../export/export.js';
import { collect, parseChoice } from './common.js';

interface ExportFlags {
  ternary?: boolean;
  postTraining?: boolean;
  format: string;
  out?: string;
  force?: boolean;
  checkpoint: string;
  backend?: string;
  runsDir: string;
  set: string[];
  json?: boolean;
}

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

export function exportCommand(program: Command): void {
  program
    .command('export')
    .description('export a run (its best checkpoint) or a checkpoint folder: packed ternary (snn) or NIR')
    .argument('<run>', "run folder, run name, 'latest', or a checkpoint folder")
    .option('--ternary', 'store ternary layers as 2-bit codes (the model must be trained with quant.bits 2)')
    .option('--post-training', 'with --ternary: ternarise a model not trained ternary (TWN on its float weights; accuracy changes)')
    .option('--format <format>', 'snn (packed, runs with snn eval --exported) | nir (HDF5, NIR 1.0)', 'snn')
    .option('-o, --out <dir>', 'output folder (default: <run>/export-<format>)')
    .option('--force', 'replace the output folder if it exists')
    .option('--checkpoint <which>', 'best | last (for a run folder)', 'best')
    .option('--backend <name>', `engine used to rebuild the model: ${BACKENDS.join(' | ')}`)
    .option('--runs-dir <dir>', 'folder that holds run folders', 'runs')
    .option('-s, --set <key=value>', 'override a value of the run config, e.g. data.root=/data/fmnist', collect, [])
    .option('--json', 'print the result as JSON')
    .action(async (target: string, f: ExportFlags) => {
      const res = await runExport({
        target,
        runsDir: f.runsDir,
        checkpoint: parseChoice('--checkpoint', f.checkpoint, ['best', 'last'] as const),
        format: parseChoice('--format', f.format, ['snn', 'nir'] as const),
        out: f.out,
        ternary: f.ternary === true,
        postTraining: f.postTraining === true,
        force: f.force === true,
        backend: f.backend ? parseChoice<BackendName>('--backend', f.backend, BACKENDS) : undefined,
        sets: f.set,
      });
      for (const n of res.notes) process.stderr.write(`snn: note: ${n}\n`);
      if (f.json) {
        process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
        return;
      }
      const s = res.sizes;
      const rows = res.layers.map(
        (l) =>
          `  ${l.id.padEnd(28)} ${l.kind.padEnd(6)} ${l.precision.padEnd(8)} ${String(l.trainedBits).padStart(2)} bit  ${String(l.weights).padStart(9)} w  ${kb(l.bytes).padStart(10)}${l.sparsity !== null ? `  ${(100 * l.sparsity).toFixed(1)}% zero` : ''}`,
      );
      const ternaryCount = res.layers.filter((l) => l.precision === 'ternary').length;
      const floatLayers = res.layers.filter((l) => l.precision === 'float32');
      const sizeLines =
        'fileBytes' in s
          ? [
              `size        model.nir ${kb(s.fileBytes)} (HDF5, gzip); ${s.weights} weights and biases as float32 (${kb(s.weightBytes)}), ${kb(s.arrayBytes)} of arrays before compression; --format snn packs ternary layers`,
              `ternary     ${ternaryCount} layers written as their float32 values (NIR has no ternary type)`,
            ]
          : [
              `size        ${kb(s.packedBytes)} against ${kb(s.float32Bytes)} as float32: ${s.ratio.toFixed(2)}x smaller` +
                (res.checkpointWeightsBytes !== null ? ` (checkpoint weights.bin: ${kb(res.checkpointWeightsBytes)})` : ''),
              s.ternaryLayers.count > 0
                ? `ternary     ${s.ternaryLayers.count} layers, ${s.ternaryLayers.weights} weights: ${kb(s.ternaryLayers.packedBytes)} against ${kb(s.ternaryLayers.float32Bytes)} float32, ${s.ternaryLayers.ratio.toFixed(2)}x smaller`
                : `ternary     none (every layer float32)`,
            ];
      const lines = [
        `exported    ${res.out} (${res.format}${res.postTraining ? ', POST-TRAINING ternarisation' : ''})`,
        `from        ${res.checkpoint}${res.epoch !== null ? ` (epoch ${res.epoch})` : ''}`,
        `files       ${res.files.map((x) => `${x.name} ${kb(x.bytes)}`).join(', ')}`,
        `layers      (trained bits, weights, stored size):`,
        ...rows,
        ...sizeLines,
        `float       ${floatLayers.length} layers kept float32, ${floatLayers.reduce((n, l) => n + l.weights, 0)} weights, ${kb(floatLayers.reduce((n, l) => n + l.bytes, 0))}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
