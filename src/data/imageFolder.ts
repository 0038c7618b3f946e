/**
 * An ImageNet-style image folder: `root/train/<class>/<file>` and `root/val/<class>/<file>`.
 * As torchvision's ImageFolder: the class index is the position of the class folder's name in
 * the sorted list of class folders, files are found recursively below each class folder and
 * taken in sorted order, and only image extensions count (others are ignored). Unlike it, both
 * splits must have the same class folders, and an empty class folder is an error, not a class
 * with no samples (ours: a class index that silently shifts is worse than a stopped run).
 *
 * Everything is checked before training starts, except the pixels themselves: a file that is
 * not an image or is truncated is found when it is first decoded (folderWorker.ts).
 */
import { readdirSync, statSync, type Stats } from 'node:fs';
import { extname, isAbsolute, join, resolve } from 'node:path';
import type { DataConfig } from '../config/schema.js';
import { UserError } from '../util/errors.js';
import { packageRoot } from '../util/paths.js';
import { isDir } from './files.js';

/** The formats sharp decodes that torchvision's ImageFolder also accepts. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff'] as const;

/** ImageNet's per-channel mean and std on the [0, 1] scale (torchvision's reference scripts). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

/** The split folders; `test` is the name the trainer uses for the held-out split. */
export const SPLIT_DIRS = { train: 'train', test: 'val' } as const;

export interface FolderSplit {
  /** Absolute file paths, class by class, each class's files sorted. */
  files: string[];
  labels: Int32Array;
}

export interface FolderIndex {
  root: string;
  classNames: string[];
  train: FolderSplit;
  test: FolderSplit;
}

export interface ScanLimits {
  maxFileBytes: number;
  /** Keep at most this many files per split (null: all); see `balancedFirst`. */
  trainLimit: number | null;
  testLimit: number | null;
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `root` as given if absolute; else from the current folder, then from the package's. */
export function resolveFolderRoot(root: string | null): string {
  if (root === null) throw new UserError('data.root: imagefolder needs data.root, the folder that holds train/ and val/');
  const candidates = isAbsolute(root) ? [root] : [...new Set([resolve(root), resolve(packageRoot(), root)])];
  const found = candidates.find(isDir);
  if (found === undefined) throw new UserError(`data.root: folder ${root} does not exist (looked for ${candidates.join(' and ')}); it should hold train/<class>/ and val/<class>/`);
  return found;
}

function classFolders(splitDir: string): string[] {
  if (!isDir(splitDir)) throw new UserError(`${splitDir}: missing; an image folder holds train/<class>/ and val/<class>/`);
  const names = readdirSync(splitDir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || (e.isSymbolicLink() && isDir(join(splitDir, e.name)))))
    .map((e) => e.name)
    .sort(byCodePoint);
  if (names.length === 0) throw new UserError(`${splitDir}: no class folders; expected ${splitDir}/<class>/<image files>`);
  return names;
}

function isImageName(name: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
}

/** The image files below one class folder, sorted, each checked against the size bound. */
function classFiles(dir: string, maxFileBytes: number): string[] {
  const names = (readdirSync(dir, { recursive: true }) as string[])
    .filter((n) => isImageName(n) && !n.split(/[\\/]/).some((part) => part.startsWith('.')))
    .sort(byCodePoint);
  const files: string[] = [];
  for (const n of names) {
    const file = join(dir, n);
    let st: Stats;
    try {
      st = statSync(file);
    } catch (e) {
      throw new UserError(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    if (!st.isFile()) continue;
    if (st.size > maxFileBytes) {
      throw new UserError(`${file}: ${(st.size / 2 ** 20).toFixed(2)} MiB is larger than data.imagefolder.maxFileMB (${(maxFileBytes / 2 ** 20).toFixed(2)} MiB)`);
    }
    if (st.size === 0) throw new UserError(`${file}: empty file, not an image`);
    files.push(file);
  }
  if (files.length === 0) throw new UserError(`${dir}: class folder with no image files (${IMAGE_EXTENSIONS.join(' ')})`);
  return files;
}

/**
 * The first `n` samples of a split in class-interleaved order: file 0 of every class, then
 * file 1 of every class, and so on (ours: data.trainLimit on a class-sorted folder would
 * otherwise keep the first classes only). Samples stay grouped by class in the result.
 */
export function balancedFirst(perClass: string[][], n: number | null): FolderSplit {
  const keep = perClass.map(() => 0);
  const total = perClass.reduce((s, f) => s + f.length, 0);
  let left = n === null ? total : Math.min(n, total);
  for (let rank = 0; left > 0; rank++) {
    for (let c = 0; c < perClass.length && left > 0; c++) {
      if (rank < perClass[c].length) {
        keep[c]++;
        left--;
      }
    }
  }
  const files = perClass.flatMap((f, c) => f.slice(0, keep[c]));
  const labels = new Int32Array(files.length);
  let at = 0;
  keep.forEach((k, c) => {
    labels.fill(c, at, at + k);
    at += k;
  });
  return { files, labels };
}

/** Lists and checks both splits of the folder at `root` (already resolved). */
export function scanImageFolder(root: string, limits: ScanLimits): FolderIndex {
  const trainDir = join(root, SPLIT_DIRS.train);
  const valDir = join(root, SPLIT_DIRS.test);
  const classNames = classFolders(trainDir);
  const valNames = classFolders(valDir);
  const onlyTrain = classNames.filter((c) => !valNames.includes(c));
  const onlyVal = valNames.filter((c) => !classNames.includes(c));
  if (onlyTrain.length > 0 || onlyVal.length > 0) {
    const where = onlyTrain.length > 0 ? `${join(valDir, onlyTrain[0])} is missing (class ${onlyTrain[0]} is in train/)` : `${join(valDir, onlyVal[0])} has no counterpart in train/`;
    throw new UserError(`${root}: train/ and val/ have different classes (${onlyTrain.length} only in train, ${onlyVal.length} only in val): ${where}`);
  }
  const list = (dir: string): string[][] => classNames.map((c) => classFiles(join(dir, c), limits.maxFileBytes));
  return {
    root,
    classNames,
    train: balancedFirst(list(trainDir), limits.trainLimit),
    test: balancedFirst(list(valDir), limits.testLimit),
  };
}

/** data.imagefolder.classes, or the class folders under data.root/train when it is not set. */
export function folderClassCount(cfg: DataConfig): number {
  if (cfg.imagefolder.classes !== null) return cfg.imagefolder.classes;
  if (cfg.root === null) throw new UserError('data.imagefolder.classes: not set and data.root is not set either; give one of them (ImageNet: 1000 classes)');
  return classFolders(join(resolveFolderRoot(cfg.root), SPLIT_DIRS.train)).length;
}

/** The folder's index, with data.imagefolder.classes (when set) checked against it. */
export function scanFolderFromConfig(cfg: DataConfig): FolderIndex {
  const root = resolveFolderRoot(cfg.root);
  const index = scanImageFolder(root, { maxFileBytes: cfg.imagefolder.maxFileMB * 2 ** 20, trainLimit: cfg.trainLimit, testLimit: cfg.testLimit });
  const want = cfg.imagefolder.classes;
  if (want !== null && want !== index.classNames.length) {
    throw new UserError(`data.imagefolder.classes: ${want}, but ${join(root, SPLIT_DIRS.train)} has ${index.classNames.length} class folders`);
  }
  return index;
}
