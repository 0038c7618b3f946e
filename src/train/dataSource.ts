/**
 * What training and evaluation need from a data set, whether it holds images or event frames:
 * shapes, counts, and batches as flat float arrays with the tensor shape they fill.
 *
 * Images give [N, H, W, C] (normalised), repeated over T by the model's encoding; event data
 * sets give [T·N, H, W, 2] time-major frames of raw counts, one frame per time step
 * (`model.encoding: frames`).
 */
import type { Config } from '../config/schema.js';
import { batches } from '../data/loader.js';
import { eventBatches } from '../data/eventLoader.js';
import { isEventDataset, loadDataset, loadEventDataset } from '../data/registry.js';
import type { EventFrameSet, ImageSet, SplitRecord } from '../data/types.js';
import type { InputSpec } from '../models/types.js';
import type { Rng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import { loadFolderSource } from './folderSource.js';

export interface SourceBatch {
  x: Float32Array;
  y: Int32Array;
  size: number;
  /** The tensor shape x fills. */
  shape: [number, number, number, number];
}

export interface DataSource {
  name: string;
  input: InputSpec;
  /** Event frames: batches carry T frames per sample, time-major. */
  sequence: boolean;
  count: { train: number; test: number };
  /** The folder the files came from, or 'generated'. */
  source: string;
  /** How an event data set was split (null for data sets with an official split). */
  split: SplitRecord | null;
  batches(
    split: 'train' | 'test',
    o: { batchSize: number; shuffle: boolean; rng: Rng | null; augment: Config['data']['augment']; cropPadding: number; dropLast: boolean },
  ): Generator<SourceBatch>;
}

function* imageBatches(set: ImageSet, mean: number[], std: number[], o: Parameters<DataSource['batches']>[1]): Generator<SourceBatch> {
  if (o.augment.includes('roll')) throw new UserError("data.augment: 'roll' is for event frames (cifar10-dvs); use crop or flip");
  for (const b of batches(set, { ...o, augment: o.augment as ('crop' | 'flip')[], mean, std })) {
    yield { x: b.x, y: b.y, size: b.size, shape: [b.size, set.height, set.width, set.channels] };
  }
}

function* frameBatches(set: EventFrameSet, o: Parameters<DataSource['batches']>[1]): Generator<SourceBatch> {
  for (const b of eventBatches(set, o)) {
    yield { x: b.x, y: b.y, size: b.size, shape: [b.timesteps * b.size, set.height, set.width, set.channels] };
  }
}

export async function loadSource(cfg: Config): Promise<DataSource> {
  if (isEventDataset(cfg.data.dataset)) {
    if (cfg.model.encoding !== 'frames') {
      throw new UserError(`model.encoding: ${cfg.data.dataset} gives event frames; set model.encoding: frames`);
    }
    const d = await loadEventDataset(cfg.data);
    if (d.train.timesteps !== cfg.model.timesteps) {
      throw new UserError(`model.timesteps: must equal data.dvs.frames (${d.train.timesteps}), got ${cfg.model.timesteps}`);
    }
    const { height, width, channels, numClasses } = d.train;
    return {
      name: d.name,
      input: { height, width, channels, numClasses },
      sequence: true,
      count: { train: d.train.count, test: d.test.count },
      source: d.source,
      split: d.split,
      batches: (split, o) => frameBatches(split === 'train' ? d.train : d.test, o),
    };
  }
  if (cfg.data.dataset === 'imagefolder' && cfg.model.encoding !== 'frames') return loadFolderSource(cfg);
  if (cfg.model.encoding === 'frames') throw new UserError(`model.encoding: frames needs an event data set, not ${cfg.data.dataset}`);
  const d = await loadDataset(cfg.data, cfg.seed);
  const { height, width, channels, numClasses } = d.train;
  // Rate encoding draws spikes with the pixel value as probability: feed [0, 1], not z-scores.
  const rate = cfg.model.encoding === 'rate';
  const mean = rate ? d.mean.map(() => 0) : d.mean;
  const std = rate ? d.std.map(() => 1) : d.std;
  return {
    name: d.name,
    input: { height, width, channels, numClasses },
    sequence: false,
    count: { train: d.train.count, test: d.test.count },
    source: d.source,
    split: null,
    batches: (split, o) => imageBatches(split === 'train' ? d.train : d.test, mean, std, o),
  };
}
