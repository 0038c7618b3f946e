/**
 * Data sets by name: finds the files, loads both splits, applies the limits, and attaches the
 * normalisation constants and class names.
 *
 * Where files are looked for: `data.root` if set (a relative path is taken from the current
 * directory, then from the package's folder, so the shipped subset is found from anywhere);
 * otherwise datasets/<name> in the current directory, the package's datasets/<name>, then the
 * data set's system paths. Nothing is downloaded here.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { DataConfig } from '../config/schema.js';
import { UserError } from '../util/errors.js';
import { packageRoot } from '../util/paths.js';
import { CATALOG, type FileDatasetName, type ImageDatasetName } from './catalog.js';
import { cifarExpected, loadCifarDataset, locateCifar } from './cifar.js';
import { CIFAR10_DVS_EXPECTED, loadCifar10Dvs, locateCifar10Dvs, type PrepareOptions } from './cifar10Dvs.js';
import { isDir } from './files.js';
import { IDX_EXPECTED, loadIdxDataset, locateIdx } from './idx.js';
import { channelStats } from './stats.js';
import { makeSynthetic } from './synthetic.js';
import type { DatasetSplits, EventDatasetSplits, ImageSet, Located } from './types.js';

interface Format {
  /** The files, as shown in error messages. */
  expected: string[];
  locate(root: string): Located;
}

const FORMATS: Record<FileDatasetName, Format> = {
  'fashion-mnist': { expected: IDX_EXPECTED, locate: locateIdx },
  mnist: { expected: IDX_EXPECTED, locate: locateIdx },
  cifar10: { expected: cifarExpected('cifar10'), locate: (r) => locateCifar(r, 'cifar10') },
  cifar100: { expected: cifarExpected('cifar100'), locate: (r) => locateCifar(r, 'cifar100') },
  'cifar10-dvs': { expected: CIFAR10_DVS_EXPECTED, locate: locateCifar10Dvs },
};

const IMAGE_LOADERS: Record<ImageDatasetName, (dir: string) => Promise<{ train: ImageSet; test: ImageSet }>> = {
  'fashion-mnist': (d) => loadIdxDataset(d, 10),
  mnist: (d) => loadIdxDataset(d, 10),
  cifar10: (d) => loadCifarDataset(d, 'cifar10'),
  cifar100: (d) => loadCifarDataset(d, 'cifar100'),
};

function unique(paths: string[]): string[] {
  return [...new Set(paths)];
}

/** Whether `dir` holds `name`'s files (directly or in the folder its archive unpacks to). */
export function locateDataset(name: FileDatasetName, dir: string): Located {
  return FORMATS[name].locate(dir);
}

/** The files of `name` as messages list them. */
export function expectedFiles(name: FileDatasetName): string[] {
  return FORMATS[name].expected;
}

/** The folders searched for `name`, in order, when data.root is not set. */
export function defaultDirs(name: FileDatasetName): string[] {
  return unique([resolve('datasets', name), join(packageRoot(), 'datasets', name), ...CATALOG[name].systemPaths]);
}

/** The folder holding `name`'s files, or a UserError that says where it looked and for what. */
export function findDatasetDir(name: FileDatasetName, root: string | null): string {
  const format = FORMATS[name];
  const expected = format.expected.join(', ');
  if (root !== null) {
    const candidates = isAbsolute(root) ? [root] : unique([resolve(root), resolve(packageRoot(), root)]);
    const existing = candidates.filter(isDir);
    if (existing.length === 0) {
      const file = candidates.find((c) => existsSync(c));
      if (file !== undefined) {
        throw new UserError(`data.root: ${file} is a file, not a folder; point it to the folder that holds the ${name} files ${expected}`);
      }
      throw new UserError(`data.root: folder ${root} does not exist (looked for ${candidates.join(' and ')}); it should hold the ${name} files ${expected}`);
    }
    for (const dir of existing) {
      const found = format.locate(dir);
      if (found.ok) return found.dir;
    }
    const lacking = format.locate(existing[0]);
    throw new UserError(`data.root: ${existing[0]} lacks the ${name} files ${lacking.ok ? expected : lacking.missing.join(', ')}`);
  }
  const candidates = defaultDirs(name);
  // A folder that exists but is incomplete (an interrupted download, say) is worth naming.
  const incomplete: string[] = [];
  for (const dir of candidates) {
    if (!isDir(dir)) continue;
    const found = format.locate(dir);
    if (found.ok) return found.dir;
    incomplete.push(`${dir} lacks ${found.missing.join(', ')}`);
  }
  const partly = incomplete.length > 0 ? ` (${incomplete.join('; ')})` : '';
  throw new UserError(
    `${name} not found in ${candidates.join(', ')}${partly}; set data.root to a folder with ${expected} (${CATALOG[name].howToGet})`,
  );
}

/** The first `n` images of a split (views, no copy); null or n >= count keeps all. */
export function limitSet(set: ImageSet, n: number | null): ImageSet {
  if (n === null || n >= set.count) return set;
  const size = set.height * set.width * set.channels;
  return { ...set, images: set.images.subarray(0, n * size), labels: set.labels.subarray(0, n), count: n };
}

export async function loadDataset(cfg: DataConfig, seed: number): Promise<DatasetSplits> {
  if (cfg.dataset === 'synthetic') {
    const { train, test } = makeSynthetic(cfg.synthetic, seed);
    // Statistics of the whole generated train split, so that trainLimit does not change them.
    const { mean, std } = channelStats(train);
    return {
      name: cfg.dataset,
      train: limitSet(train, cfg.trainLimit),
      test: limitSet(test, cfg.testLimit),
      mean,
      std,
      classNames: Array.from({ length: cfg.synthetic.classes }, (_, i) => `class ${i}`),
      source: 'generated',
    };
  }
  if (cfg.dataset === 'cifar10-dvs') {
    // Event frames have a time axis of their own; they come from loadEventDataset (below).
    throw new UserError('data.dataset: cifar10-dvs yields event frames [T, H, W, 2], which this trainer does not feed to a model yet; snn data prepare cifar10-dvs builds them');
  }
  if (cfg.dataset === 'imagefolder') {
    // Decoded batch by batch from files (imageFolder.ts, folderReader.ts), never held whole.
    throw new UserError('data.dataset: imagefolder is read batch by batch by snn train and snn eval; snn export and snn eval --exported do not read it yet');
  }
  const dir = findDatasetDir(cfg.dataset, cfg.root);
  const { train, test } = await IMAGE_LOADERS[cfg.dataset](dir);
  const info = CATALOG[cfg.dataset];
  return {
    name: cfg.dataset,
    train: limitSet(train, cfg.trainLimit),
    test: limitSet(test, cfg.testLimit),
    mean: [...info.mean],
    std: [...info.std],
    classNames: [...info.classNames],
    source: dir,
  };
}

/**
 * An event data set as integrated frames, both splits in memory (built into the frame cache on
 * first use, which may take minutes: `opts.onProgress` reports it). The split description in
 * the result (`split.hash`, `split.file`) is what a run should record.
 */
export async function loadEventDataset(cfg: DataConfig, opts: PrepareOptions = {}): Promise<EventDatasetSplits> {
  if (cfg.dataset !== 'cifar10-dvs') throw new UserError(`data.dataset: ${cfg.dataset} is an image data set, not an event one`);
  const dir = findDatasetDir(cfg.dataset, cfg.root);
  return loadCifar10Dvs(dir, cfg, opts);
}

/** True for data sets whose samples are event frames rather than images. */
export function isEventDataset(name: string): boolean {
  return name === 'cifar10-dvs';
}
