/**
 * The binary versions of CIFAR-10 and CIFAR-100: fixed-size records of label byte(s) followed
 * by a 32x32 RGB image stored plane by plane (CHW). Images are converted to HWC, the layout of
 * every ImageSet.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { readMaybeGzip } from './files.js';
import type { ImageSet, Located } from './types.js';

export type CifarVariant = 'cifar10' | 'cifar100';

interface CifarLayout {
  /** Sub-folder the official archive unpacks to; the files may also sit directly in root. */
  folder: string;
  train: string[];
  test: string[];
  /** Label bytes per record; CIFAR-100 has coarse then fine, and the fine label is used. */
  labelBytes: number;
  numClasses: number;
}

export const CIFAR_LAYOUTS: Record<CifarVariant, CifarLayout> = {
  cifar10: {
    folder: 'cifar-10-batches-bin',
    train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
    test: ['test_batch.bin'],
    labelBytes: 1,
    numClasses: 10,
  },
  cifar100: {
    folder: 'cifar-100-binary',
    train: ['train.bin'],
    test: ['test.bin'],
    labelBytes: 2,
    numClasses: 100,
  },
};

/** A CIFAR file holds at most 50000 records of 3074 bytes (CIFAR-100's train.bin, 154 MB); twice that is plenty. */
const MAX_CIFAR_BYTES = 2 * 50_000 * 3074;

const SIDE = 32;
const PLANE = SIDE * SIDE;
const IMAGE = 3 * PLANE;

/** Decodes one binary file's records into HWC images and (fine) labels. */
export function decodeCifar(
  bytes: Uint8Array,
  file: string,
  variant: CifarVariant,
): { images: Uint8Array; labels: Uint8Array; count: number } {
  const { labelBytes, numClasses } = CIFAR_LAYOUTS[variant];
  const record = labelBytes + IMAGE;
  if (bytes.length === 0 || bytes.length % record !== 0) {
    const whole = Math.floor(bytes.length / record);
    const extra = bytes.length - whole * record;
    throw new UserError(
      bytes.length === 0
        ? `${file} is empty`
        : `${file}: ${bytes.length} bytes is not a whole number of ${record}-byte records (${whole} records and ${extra} bytes more): truncated inside a record, or bytes appended`,
    );
  }
  const count = bytes.length / record;
  const images = new Uint8Array(count * IMAGE);
  const labels = new Uint8Array(count);
  for (let r = 0; r < count; r++) {
    const base = r * record;
    const label = bytes[base + labelBytes - 1];
    if (label >= numClasses) {
      throw new UserError(`${file}: label ${label} of record ${r} is not below ${numClasses}`);
    }
    labels[r] = label;
    const src = base + labelBytes;
    const dst = r * IMAGE;
    for (let p = 0; p < PLANE; p++) {
      images[dst + 3 * p] = bytes[src + p];
      images[dst + 3 * p + 1] = bytes[src + PLANE + p];
      images[dst + 3 * p + 2] = bytes[src + 2 * PLANE + p];
    }
  }
  return { images, labels, count };
}

/** Encodes HWC images and labels as CIFAR binary records (for tests). */
export function encodeCifar(images: Uint8Array, labels: Uint8Array, variant: CifarVariant): Uint8Array {
  const { labelBytes } = CIFAR_LAYOUTS[variant];
  const record = labelBytes + IMAGE;
  const out = new Uint8Array(labels.length * record);
  for (let r = 0; r < labels.length; r++) {
    const base = r * record;
    out[base + labelBytes - 1] = labels[r];
    for (let p = 0; p < PLANE; p++) {
      for (let c = 0; c < 3; c++) out[base + labelBytes + c * PLANE + p] = images[r * IMAGE + 3 * p + c];
    }
  }
  return out;
}

/** The files as error messages list them: each may sit in root or in the archive's folder. */
export function cifarExpected(variant: CifarVariant): string[] {
  const layout = CIFAR_LAYOUTS[variant];
  return [...layout.train, ...layout.test].map((n) => `[${layout.folder}/]${n}`);
}

/** `root` or its archive sub-folder, whichever holds every file of the variant. */
export function locateCifar(root: string, variant: CifarVariant): Located {
  const layout = CIFAR_LAYOUTS[variant];
  const names = [...layout.train, ...layout.test];
  const lacking = (dir: string): string[] => names.filter((n) => !existsSync(join(dir, n)));
  const inRoot = lacking(root);
  if (inRoot.length === 0) return { ok: true, dir: root };
  const sub = join(root, layout.folder);
  const inSub = lacking(sub);
  if (inSub.length === 0) return { ok: true, dir: sub };
  // Report against whichever place came closer to complete, or both if neither has any file.
  if (inSub.length < inRoot.length) return { ok: false, missing: inSub.map((n) => `${layout.folder}/${n}`) };
  if (inRoot.length === names.length) return { ok: false, missing: cifarExpected(variant) };
  return { ok: false, missing: inRoot };
}

async function loadFiles(dir: string, names: string[], variant: CifarVariant): Promise<ImageSet> {
  const parts = await Promise.all(
    names.map(async (n) => {
      const file = join(dir, n);
      return decodeCifar((await readMaybeGzip(file, { maxBytes: MAX_CIFAR_BYTES })).bytes, file, variant);
    }),
  );
  const count = parts.reduce((s, p) => s + p.count, 0);
  const images = new Uint8Array(count * IMAGE);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * IMAGE);
    labels.set(p.labels, at);
    at += p.count;
  }
  const { numClasses } = CIFAR_LAYOUTS[variant];
  return { images, labels, count, height: SIDE, width: SIDE, channels: 3, numClasses };
}

/** Train and test splits from a folder found by `locateCifar`. */
export async function loadCifarDataset(dir: string, variant: CifarVariant): Promise<{ train: ImageSet; test: ImageSet }> {
  const layout = CIFAR_LAYOUTS[variant];
  const [train, test] = await Promise.all([loadFiles(dir, layout.train, variant), loadFiles(dir, layout.test, variant)]);
  return { train, test };
}
