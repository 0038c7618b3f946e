/**
 * The TensorFlow.js reference of an export: its source checkpoint, rebuilt with the same
 * quantisation the export used (post-training ternarisation included), run on a split the way
 * `snn eval` runs it. Only `snn eval --exported --compare` and the tests load this.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { ImageSet } from '../data/types.js';
import { initBackend } from '../engine/backend.js';
import { modelFromCheckpoint } from '../train/checkpointModel.js';
import { UserError } from '../util/errors.js';
import { tfjsPredictions } from './compare.js';
import type { Manifest } from './snnFormat.js';

export async function tfjsReference(
  manifest: Manifest,
  cfg: Config,
  set: ImageSet,
  o: { timesteps: number; mean: number[]; std: number[]; backend?: Config['backend'] },
): Promise<{ predictions: Int32Array; checkpoint: string; backend: string; seconds: number; checkpointChanged: boolean }> {
  const checkpoint = manifest.source?.checkpoint;
  if (typeof checkpoint !== 'string' || !existsSync(checkpoint)) {
    throw new UserError(`--compare: the export's source checkpoint ${String(checkpoint)} is not there any more`);
  }
  const backend = await initBackend(o.backend ?? cfg.backend);
  const quant = (manifest.source.quant as Config['quant'] | undefined) ?? cfg.quant;
  const input = { height: set.height, width: set.width, channels: set.channels, numClasses: set.numClasses };
  const { model } = modelFromCheckpoint(cfg, input, checkpoint, { label: 'reference', quant });
  try {
    const t0 = performance.now();
    const { predictions } = tfjsPredictions(model, set, { timesteps: o.timesteps, batchSize: cfg.data.testBatchSize, mean: o.mean, std: o.std });
    const seconds = (performance.now() - t0) / 1000;
    const sha = createHash('sha256').update(readFileSync(join(checkpoint, 'weights.bin'))).digest('hex');
    return { predictions, checkpoint, backend: backend.name, seconds, checkpointChanged: manifest.source.weightsSha256 != null && sha !== manifest.source.weightsSha256 };
  } finally {
    model.dispose();
  }
}
