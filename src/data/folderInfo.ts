/**
 * `snn data info imagefolder --root DIR`: what an image folder holds (classes, files per split),
 * after the same checks training makes; with `check`, every image is also decoded, which finds
 * the files that are not images or are truncated before a run meets them.
 */
import type { ImageFolderConfig } from '../config/schema.js';
import { UserError } from '../util/errors.js';
import { BadImageError, checkImage } from './folderDecode.js';
import { resolveFolderRoot, scanImageFolder } from './imageFolder.js';

export interface FolderInfoReport {
  dataset: 'imagefolder';
  root: string;
  classes: number;
  classNames: string[];
  train: number;
  val: number;
  /** Images decoded by the check (null: not checked). */
  decoded: number | null;
}

/** Files decoded at once by the check (libvips threads do the work). */
const PARALLEL = 4;

export async function folderInfo(root: string, limits: ImageFolderConfig, check: boolean, onProgress?: (done: number, total: number) => void): Promise<FolderInfoReport> {
  const dir = resolveFolderRoot(root);
  const index = scanImageFolder(dir, { maxFileBytes: limits.maxFileMB * 2 ** 20, trainLimit: null, testLimit: null });
  let decoded: number | null = null;
  if (check) {
    const files = [...index.train.files, ...index.test.files];
    const bounds = { maxFileBytes: limits.maxFileMB * 2 ** 20, maxPixels: limits.maxPixels };
    decoded = 0;
    for (let i = 0; i < files.length; i += PARALLEL) {
      // In order, so that the first bad file reported is the first in listing order.
      const results = await Promise.allSettled(files.slice(i, i + PARALLEL).map((f) => checkImage(f, bounds)));
      const bad = results.find((r) => r.status === 'rejected');
      if (bad) throw bad.reason instanceof BadImageError ? new UserError(bad.reason.message) : bad.reason;
      decoded += results.length;
      onProgress?.(decoded, files.length);
    }
  }
  return { dataset: 'imagefolder', root: dir, classes: index.classNames.length, classNames: index.classNames, train: index.train.files.length, val: index.test.files.length, decoded };
}
