/**
 * The DataSource of an image folder (data.dataset: imagefolder): the folder is listed and
 * checked once, then batches are decoded by a worker (src/data/folderReader.ts). data.augment
 * picks the training transform: 'crop' is the random-resized crop, 'flip' the horizontal flip;
 * without 'crop' training images get the evaluation centre crop.
 */
import type { Config } from '../config/schema.js';
import { IMAGENET_MEAN, IMAGENET_STD, scanFolderFromConfig } from '../data/imageFolder.js';
import { openFolderReader } from '../data/folderReader.js';
import { UserError } from '../util/errors.js';
import type { DataSource, SourceBatch } from './dataSource.js';

export function loadFolderSource(cfg: Config): DataSource {
  const d = cfg.data;
  const index = scanFolderFromConfig(d);
  // Rate encoding draws spikes with the pixel value as probability: feed [0, 1], not z-scores.
  const rate = cfg.model.encoding === 'rate';
  const mean = rate ? [0, 0, 0] : IMAGENET_MEAN;
  const std = rate ? [1, 1, 1] : IMAGENET_STD;
  const reader = openFolderReader(index, d, mean, std);
  const side = d.imageSize;
  return {
    name: d.dataset,
    input: { height: side, width: side, channels: 3, numClasses: index.classNames.length },
    sequence: false,
    count: reader.count,
    source: index.root,
    split: null,
    *batches(split, o) {
      if (o.augment.includes('roll')) throw new UserError("data.augment: 'roll' is for event frames (cifar10-dvs); use crop or flip");
      const crop = o.augment.includes('crop');
      const flip = o.augment.includes('flip');
      for (const b of reader.batches(split, { batchSize: o.batchSize, shuffle: o.shuffle, rng: o.rng, crop, flip, dropLast: o.dropLast })) {
        yield { x: b.x, y: b.y, size: b.size, shape: [b.size, side, side, 3] } satisfies SourceBatch;
      }
    },
  };
}
