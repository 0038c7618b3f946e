/** `snn eval --exported DIR [--compare]`: the engine's report on stdout, or JSON. */
import { BACKENDS, type BackendName } from '../config/schema.js';
import { runExportedEval } from '../export/evalExported.js';
import { checkPredictionsPath, writePredictions } from '../runs/predictions.js';
import { RUNTIMES } from '../export/runtime/runner.js';
import { parseChoice, parsePositiveInt } from './common.js';
import { MAX_TIMESTEPS } from '../export/manifestSchema.js';

export interface ExportedEvalFlags {
  timesteps?: string;
  split: string;
  json?: boolean;
  backend?: string;
  set: string[];
  compare?: boolean;
  predictions?: string;
  runtime?: string;
  batch?: string;
  threads?: string;
}

export async function exportedEvalCommand(dir: string, f: ExportedEvalFlags): Promise<void> {
  if (f.predictions !== undefined) checkPredictionsPath(f.predictions);
  const { perImage, ...out } = await runExportedEval({
    dir,
    split: parseChoice('--split', f.split, ['test', 'train'] as const),
    timesteps: f.timesteps ? parsePositiveInt('--timesteps', f.timesteps, MAX_TIMESTEPS) : undefined,
    sets: f.set,
    compare: f.compare === true,
    backend: f.backend ? parseChoice<BackendName>('--backend', f.backend, BACKENDS) : undefined,
    perImage: f.predictions !== undefined,
    runtime: f.runtime ? parseChoice('--runtime', f.runtime, RUNTIMES) : undefined,
    batch: f.batch ? parsePositiveInt('--batch', f.batch) : undefined,
    threads: f.threads ? parsePositiveInt('--threads', f.threads) : undefined,
  });
  if (f.predictions !== undefined && perImage) writePredictions(f.predictions, perImage);
  if (f.json) {
    process.stdout.write(`${JSON.stringify({ ...out, predictionsFile: f.predictions ?? null }, null, 2)}\n`);
    return;
  }
  const c = out.compare;
  const lines = [
    `exported    ${out.exported}${out.postTraining ? ' (POST-TRAINING ternarisation)' : ''}`,
    `from        ${out.source}`,
    `engine      ${out.engine}, ${!out.ternary ? 'float32 layers' : out.runtime.startsWith('reference') ? 'ternary layers as additions/subtractions' : 'ternary layers as AND + popcount on bit-packed spikes'}`,
    `split       ${out.split} (${out.count} images), T = ${out.timesteps}${out.timesteps !== out.trainedTimesteps ? ` (trained at ${out.trainedTimesteps})` : ''}`,
    `accuracy    ${(100 * out.accuracy).toFixed(2)}%`,
    `loss        ${out.loss.toFixed(4)}`,
    `runtime     ${out.runtime}${out.weightBytes !== null ? `, ${out.weightBytes.toLocaleString('en-US')} bytes of weights resident` : ''}`,
    `speed       ${out.imagesPerSecond.toFixed(0)} img/s, ${out.latencyMs.p50.toFixed(2)} ms per run of ${out.batch} (median)`,
    ...(c
      ? [
          `agreement   ${(100 * c.agreement).toFixed(2)}% of predictions equal TensorFlow.js on ${c.backend} (${c.disagreements} differ)`,
          `tfjs        accuracy ${(100 * c.tfjsAccuracy).toFixed(2)}%, engine ${c.accuracyDeltaPoints >= 0 ? '+' : ''}${c.accuracyDeltaPoints.toFixed(2)} points` +
            (c.checkpointChanged ? ' (WARNING: the checkpoint changed since the export)' : ''),
        ]
      : []),
    `firing rate ${out.meanFiringRate.toFixed(4)} spikes per neuron per step, by layer:`,
    ...Object.entries(out.firingRates).map(([k, v]) => `  ${k.padEnd(28)} ${v.toFixed(4)}`),
    ...(f.predictions !== undefined ? [`predictions ${out.count} rows in ${f.predictions}`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
