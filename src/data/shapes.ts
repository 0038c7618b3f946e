/**
 * The input shape and class count a data set gives a model, known without reading its files
 * (for `snn model` and for checking a config before any data is loaded).
 */
import type { DataConfig } from '../config/schema.js';
import { folderClassCount } from './imageFolder.js';

export interface InputShape {
  height: number;
  width: number;
  channels: number;
  numClasses: number;
}

export function datasetInput(cfg: DataConfig): InputShape {
  switch (cfg.dataset) {
    case 'fashion-mnist':
    case 'mnist':
      return { height: 28, width: 28, channels: 1, numClasses: 10 };
    case 'cifar10':
      return { height: 32, width: 32, channels: 3, numClasses: 10 };
    case 'cifar100':
      return { height: 32, width: 32, channels: 3, numClasses: 100 };
    case 'cifar10-dvs':
      // One frame of per-polarity counts; a sample is data.dvs.frames of them (eventLoader.ts).
      return { height: cfg.dvs.size, width: cfg.dvs.size, channels: 2, numClasses: 10 };
    case 'synthetic':
      return { height: cfg.synthetic.height, width: cfg.synthetic.width, channels: cfg.synthetic.channels, numClasses: cfg.synthetic.classes };
    case 'imagefolder':
      return { height: cfg.imageSize, width: cfg.imageSize, channels: 3, numClasses: folderClassCount(cfg) };
    default:
      throw new Error(`no input shape known for data set '${String(cfg.dataset)}'`);
  }
}
