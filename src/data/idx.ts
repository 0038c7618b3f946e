/**
 * IDX files, the format of MNIST and Fashion-MNIST: two zero bytes, a type byte, a dimension
 * count, one big-endian uint32 per dimension, then the values. Only unsigned bytes (type 0x08)
 * occur in these data sets, so only they are read.
 */
import { UserError } from '../util/errors.js';
import { findGzOrRaw, MAX_DATA_BYTES, readMaybeGzip } from './files.js';
import type { ImageSet, Located } from './types.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** The standard file names (each may also carry a .gz suffix). */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** The files as error messages list them. */
export const IDX_EXPECTED = Object.values(IDX_FILES).map((n) => `${n}[.gz]`);

const UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = {
  0x08: 'ubyte', 0x09: 'byte', 0x0b: 'short', 0x0c: 'int', 0x0d: 'float', 0x0e: 'double',
};

function hexBytes(bytes: Uint8Array, n: number): string {
  return Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Parses and validates IDX bytes. `file` names the source in errors; `gzipped` says whether
 * the byte counts in them are after decompression.
 */
/** What an IDX file's dimension count says it holds, for messages. */
const kindOfDims = (n: number): string => (n === 1 ? 'a label file' : n === 3 ? 'an image file' : `${n} dimensions`);

/**
 * The size an IDX file's header promises (header + values), once `head` holds the header;
 * 'more' before. A UserError for a header that cannot be right: another dimension count than
 * `expectDims` (a label file where images belong, or the reverse), or more values than any
 * data set snn reads. Used to stop decompression early (see readMaybeGzip).
 */
export function idxSizeFromHeader(head: Uint8Array, file: string, expectDims?: number): number | 'more' {
  if (head.length < 4) return 'more';
  if (head[0] !== 0 || head[1] !== 0 || head[2] !== UBYTE || head[3] === 0) return MAX_DATA_BYTES; // decodeIdx names the problem
  const ndims = head[3];
  if (expectDims !== undefined && ndims !== expectDims) {
    const want = expectDims === 3 ? 'an image file has 3 (count, rows, columns)' : expectDims === 1 ? 'a label file has 1' : `expected ${expectDims}`;
    const swapped = (ndims === 1 || ndims === 3) && (expectDims === 1 || expectDims === 3) ? ` (the header of ${kindOfDims(ndims)}: the other file of the pair?)` : '';
    throw new UserError(`${file} has ${ndims} dimension${ndims === 1 ? '' : 's'}; ${want}${swapped}`);
  }
  const header = 4 + 4 * ndims;
  if (head.length < header) return 'more';
  const view = new DataView(head.buffer, head.byteOffset, header);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = header + dims.reduce((a, b) => a * b, 1);
  if (size > MAX_DATA_BYTES) {
    throw new UserError(`${file}: its IDX header says ${dims.join('×')} values, ${size} bytes, more than the ${MAX_DATA_BYTES} snn reads of a data file (a damaged header?)`);
  }
  return size;
}

export function decodeIdx(bytes: Uint8Array, file: string, gzipped = false, expectDims?: number): IdxArray {
  const sizeError = (expected: number): UserError => {
    const what = expected > bytes.length ? 'is truncated' : 'is longer than its header says';
    const after = gzipped ? ' after decompression' : '';
    return new UserError(`${file} ${what}: expected ${expected} bytes${after}, got ${bytes.length}`);
  };
  if (bytes.length < 4) throw sizeError(4);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new UserError(`${file} is not an IDX file: it starts ${hexBytes(bytes, 4)}, not 00 00 08 0N`);
  }
  if (bytes[2] !== UBYTE) {
    const type = TYPE_NAMES[bytes[2]] ?? 'unknown';
    throw new UserError(`${file} holds IDX type 0x${bytes[2].toString(16)} (${type}); only ubyte (0x08) is supported`);
  }
  const ndims = bytes[3];
  if (ndims === 0) throw new UserError(`${file} is an IDX file with 0 dimensions`);
  const header = 4 + 4 * ndims;
  if (bytes.length >= header) idxSizeFromHeader(bytes.subarray(0, header), file, expectDims); // kind and size checks
  else if (expectDims !== undefined && ndims !== expectDims) idxSizeFromHeader(bytes.subarray(0, 4), file, expectDims);
  if (bytes.length < header) throw sizeError(header);
  const view = new DataView(bytes.buffer, bytes.byteOffset, header);
  const dims: number[] = [];
  let product = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    product *= d;
  }
  if (bytes.length !== header + product) throw sizeError(header + product);
  // A plain view, not a Buffer subarray, so callers see an ordinary Uint8Array.
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + header, product) };
}

/** IDX bytes for `data` shaped `dims` (used by tests and by the subset maker). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const product = dims.reduce((a, b) => a * b, 1);
  if (product !== data.length) throw new Error(`encodeIdx: dims ${dims.join('x')} need ${product} bytes, got ${data.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = UBYTE;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** Reads an IDX file (raw or gzip), `expectDims` its dimension count when known (3 images, 1 labels). */
export async function readIdx(file: string, expectDims?: number): Promise<IdxArray> {
  const { bytes, gzipped } = await readMaybeGzip(file, { sizeFromHeader: (head) => idxSizeFromHeader(head, file, expectDims) });
  return decodeIdx(bytes, file, gzipped, expectDims);
}

/** Pairs an image file (count x rows x columns) with its label file and checks they agree. */
export function idxImageSet(
  images: IdxArray,
  labels: IdxArray,
  files: { images: string; labels: string },
  numClasses: number,
): ImageSet {
  if (images.dims.length !== 3) {
    throw new UserError(`${files.images} has ${images.dims.length} dimensions; an image file has 3 (count, rows, columns)`);
  }
  if (labels.dims.length !== 1) {
    throw new UserError(`${files.labels} has ${labels.dims.length} dimensions; a label file has 1`);
  }
  const [count, height, width] = images.dims;
  if (labels.dims[0] !== count) {
    throw new UserError(`${files.images} has ${count} images but ${files.labels} has ${labels.dims[0]} labels`);
  }
  const bad = labels.data.findIndex((l) => l >= numClasses);
  if (bad >= 0) {
    throw new UserError(`${files.labels}: label ${labels.data[bad]} at index ${bad} is not below ${numClasses}`);
  }
  return { images: images.data, labels: labels.data, count, height, width, channels: 1, numClasses };
}

/** The folder `root` if it holds all four files (raw or .gz), else the ones it lacks. */
export function locateIdx(root: string): Located {
  const missing = Object.values(IDX_FILES).filter((name) => findGzOrRaw(root, name) === null);
  return missing.length === 0 ? { ok: true, dir: root } : { ok: false, missing: missing.map((n) => `${n}[.gz]`) };
}

async function loadSplit(dir: string, imagesName: string, labelsName: string, numClasses: number): Promise<ImageSet> {
  const imagesFile = findGzOrRaw(dir, imagesName);
  const labelsFile = findGzOrRaw(dir, labelsName);
  if (imagesFile === null || labelsFile === null) {
    throw new UserError(`${dir} lacks ${imagesFile === null ? imagesName : labelsName}[.gz]`);
  }
  const [images, labels] = await Promise.all([readIdx(imagesFile, 3), readIdx(labelsFile, 1)]);
  return idxImageSet(images, labels, { images: imagesFile, labels: labelsFile }, numClasses);
}

/** Train and test splits of an MNIST-style folder. */
export async function loadIdxDataset(dir: string, numClasses = 10): Promise<{ train: ImageSet; test: ImageSet }> {
  const [train, test] = await Promise.all([
    loadSplit(dir, IDX_FILES.trainImages, IDX_FILES.trainLabels, numClasses),
    loadSplit(dir, IDX_FILES.testImages, IDX_FILES.testLabels, numClasses),
  ]);
  if (train.height !== test.height || train.width !== test.width) {
    const file = (name: string): string => findGzOrRaw(dir, name) ?? name;
    throw new UserError(
      `${file(IDX_FILES.testImages)} holds ${test.height}×${test.width} images but ${file(IDX_FILES.trainImages)} holds ${train.height}×${train.width}`,
    );
  }
  return { train, test };
}
