/** Data-set readers (IDX, CIFAR), the synthetic set and the registry's lookup and limits. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { z } from 'zod';
import { DataSchema, type DataConfig } from '../src/config/schema.js';
import { CATALOG } from '../src/data/catalog.js';
import { decodeCifar, encodeCifar, loadCifarDataset, locateCifar } from '../src/data/cifar.js';
import { decodeIdx, encodeIdx, loadIdxDataset, readIdx } from '../src/data/idx.js';
import { findDatasetDir, loadDataset } from '../src/data/registry.js';
import { makeSynthetic } from '../src/data/synthetic.js';
import { UserError } from '../src/util/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'snn-data-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let dirCounter = 0;
function freshDir(): string {
  const d = join(tmp, `d${dirCounter++}`);
  mkdirSync(d, { recursive: true });
  return d;
}

const PACKAGE = fileURLToPath(new URL('../../', import.meta.url));
const SUBSET = join(PACKAGE, 'datasets', 'fashion-mnist-subset');

function config(over: z.input<typeof DataSchema>): DataConfig {
  return DataSchema.parse(over);
}

/** Asserts that `fn` rejects with a UserError whose message contains every string given. */
async function rejectsUser(fn: () => unknown, ...parts: string[]): Promise<void> {
  await assert.rejects(async () => fn(), (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" should contain "${p}"`);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

function bytes(n: number, f: (i: number) => number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => f(i) & 255);
}

/** An MNIST-style folder: train split raw, test split gzipped, images 3x4. */
function writeIdxFolder(dir: string, nTrain: number, nTest: number): { trainImages: Uint8Array; testLabels: Uint8Array } {
  const trainImages = bytes(nTrain * 12, (i) => i * 7 + 1);
  const trainLabels = bytes(nTrain, (i) => i % 10);
  const testImages = bytes(nTest * 12, (i) => 255 - i);
  const testLabels = bytes(nTest, (i) => (i * 3) % 10);
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), encodeIdx([nTrain, 3, 4], trainImages));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx([nTrain], trainLabels));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(encodeIdx([nTest, 3, 4], testImages)));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(encodeIdx([nTest], testLabels)));
  return { trainImages, testLabels };
}

describe('IDX', () => {
  test('reads raw and gzip files back', async () => {
    const dir = freshDir();
    const { trainImages, testLabels } = writeIdxFolder(dir, 5, 3);
    const { train, test: t } = await loadIdxDataset(dir);
    assert.equal(train.count, 5);
    assert.deepEqual([train.height, train.width, train.channels, train.numClasses], [3, 4, 1, 10]);
    assert.deepEqual(train.images, trainImages);
    assert.deepEqual(Array.from(train.labels), [0, 1, 2, 3, 4]);
    assert.equal(t.count, 3);
    assert.deepEqual(t.labels, testLabels);
    assert.equal(t.images[0], 255);
  });

  test('gzip is detected by content, not by name', async () => {
    const file = join(freshDir(), 'labels-without-suffix');
    writeFileSync(file, gzipSync(encodeIdx([4], bytes(4, (i) => i))));
    assert.deepEqual((await readIdx(file)).dims, [4]);
  });

  test('a truncated file names the file and the sizes', async () => {
    const file = join(freshDir(), 'train-images-idx3-ubyte');
    const full = encodeIdx([2, 3, 4], bytes(24, (i) => i));
    writeFileSync(file, full.subarray(0, full.length - 5));
    await rejectsUser(() => readIdx(file), file, 'truncated', `expected ${full.length} bytes, got ${full.length - 5}`);
    writeFileSync(file, full.subarray(0, 10)); // cut inside the header
    await rejectsUser(() => readIdx(file), file, 'truncated');
  });

  test('truncated gzip content and a cut-off gzip stream are UserErrors naming the file', async () => {
    const dir = freshDir();
    const full = encodeIdx([2, 3, 4], bytes(24, (i) => i));
    const short = join(dir, 'short.gz');
    writeFileSync(short, gzipSync(full.subarray(0, 30)));
    await rejectsUser(() => readIdx(short), short, 'truncated', 'after decompression');
    const cut = join(dir, 'cut.gz');
    const gz = gzipSync(full);
    writeFileSync(cut, gz.subarray(0, gz.length - 6));
    await rejectsUser(() => readIdx(cut), cut, 'truncated');
  });

  test('extra bytes, wrong magic and wrong type are rejected', () => {
    const full = encodeIdx([3], bytes(3, (i) => i));
    const longer = new Uint8Array(full.length + 2);
    longer.set(full);
    assert.throws(() => decodeIdx(longer, 'x.idx'), /x\.idx is longer than its header says/);
    assert.throws(() => decodeIdx(bytes(12, () => 0x50), 'img.png'), (e: unknown) => e instanceof UserError && /img\.png is not an IDX file/.test(e.message));
    const floats = encodeIdx([3], bytes(3, () => 0));
    floats[2] = 0x0d;
    assert.throws(() => decodeIdx(floats, 'f.idx'), /f\.idx holds IDX type 0xd \(float\)/);
  });

  test('image/label count mismatch and labels >= 10 are rejected', async () => {
    const dir = freshDir();
    writeIdxFolder(dir, 4, 2);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx([3], bytes(3, () => 1)));
    await rejectsUser(() => loadIdxDataset(dir), '4 images', '3 labels');
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx([4], Uint8Array.from([1, 2, 10, 3])));
    await rejectsUser(() => loadIdxDataset(dir), 'train-labels-idx1-ubyte', 'label 10 at index 2');
  });
});

/** A CIFAR record written by hand in CHW: value of (channel c, pixel p) of record r. */
function chwValue(r: number, c: number, p: number): number {
  return (p * 3 + c * 50 + r * 11) & 255;
}
function cifarRecords(labels: number[][], first: number): Uint8Array {
  const rec = labels[0].length + 3072;
  const out = new Uint8Array(labels.length * rec);
  labels.forEach((ls, i) => {
    out.set(ls, i * rec);
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) out[i * rec + ls.length + c * 1024 + p] = chwValue(first + i, c, p);
  });
  return out;
}

describe('CIFAR', () => {
  test('CIFAR-10 in the archive folder: HWC conversion and labels', async () => {
    const root = freshDir();
    const dir = join(root, 'cifar-10-batches-bin');
    mkdirSync(dir);
    for (let b = 1; b <= 5; b++) writeFileSync(join(dir, `data_batch_${b}.bin`), cifarRecords([[b], [9 - b]], 2 * (b - 1)));
    writeFileSync(join(dir, 'test_batch.bin'), cifarRecords([[7]], 100));
    const found = locateCifar(root, 'cifar10');
    assert.deepEqual(found, { ok: true, dir });
    const { train, test: t } = await loadCifarDataset(dir, 'cifar10');
    assert.equal(train.count, 10);
    assert.deepEqual([train.height, train.width, train.channels, train.numClasses], [32, 32, 3, 10]);
    assert.deepEqual(Array.from(train.labels), [1, 8, 2, 7, 3, 6, 4, 5, 5, 4]);
    for (const r of [0, 3, 9]) {
      for (const [y, x, c] of [[0, 0, 0], [0, 1, 2], [5, 7, 1], [31, 31, 2]]) {
        assert.equal(train.images[r * 3072 + (y * 32 + x) * 3 + c], chwValue(r, c, y * 32 + x));
      }
    }
    assert.equal(t.count, 1);
    assert.equal(t.labels[0], 7);
    assert.equal(t.images[(2 * 32 + 3) * 3 + 1], chwValue(100, 1, 2 * 32 + 3));
  });

  test('CIFAR-100 directly in root uses the fine label', async () => {
    const root = freshDir();
    writeFileSync(join(root, 'train.bin'), cifarRecords([[3, 57], [19, 99], [0, 0]], 0));
    writeFileSync(join(root, 'test.bin'), cifarRecords([[4, 12]], 5));
    const { train, test: t } = await loadCifarDataset(root, 'cifar100');
    assert.deepEqual(Array.from(train.labels), [57, 99, 0]);
    assert.equal(train.numClasses, 100);
    assert.equal(t.labels[0], 12);
    assert.equal(train.images[2 * 3072 + 100 * 3 + 2], chwValue(2, 2, 100));
  });

  test('encodeCifar inverts decodeCifar', () => {
    const images = bytes(2 * 3072, (i) => i * 13);
    const labels = Uint8Array.from([3, 42]);
    const back = decodeCifar(encodeCifar(images, labels, 'cifar100'), 'x', 'cifar100');
    assert.deepEqual(back.images, images);
    assert.deepEqual(back.labels, labels);
  });

  test('a truncated file and a bad label are UserErrors naming the file', async () => {
    const root = freshDir();
    writeFileSync(join(root, 'train.bin'), cifarRecords([[1, 2], [1, 2]], 0).subarray(0, 3074 + 100));
    writeFileSync(join(root, 'test.bin'), cifarRecords([[1, 2]], 0));
    await rejectsUser(() => loadCifarDataset(root, 'cifar100'), join(root, 'train.bin'), 'truncated', '3074-byte records');
    writeFileSync(join(root, 'train.bin'), cifarRecords([[1, 100]], 0));
    await rejectsUser(() => loadCifarDataset(root, 'cifar100'), join(root, 'train.bin'), 'label 100');
  });

  test('missing files are listed', () => {
    const root = freshDir();
    writeFileSync(join(root, 'train.bin'), new Uint8Array(0));
    assert.deepEqual(locateCifar(root, 'cifar100'), { ok: false, missing: ['test.bin'] });
  });
});

describe('synthetic', () => {
  const opts = { classes: 4, train: 64, test: 32, height: 8, width: 8, channels: 2, noise: 0.25 };

  test('deterministic for a seed, different across seeds, pinned bytes', () => {
    const a = makeSynthetic(opts, 7);
    const b = makeSynthetic(opts, 7);
    const c = makeSynthetic(opts, 8);
    assert.deepEqual(a.train.images, b.train.images);
    assert.deepEqual(a.test.labels, b.test.labels);
    assert.notDeepEqual(a.train.images, c.train.images);
    assert.equal(a.train.images.length, 64 * 8 * 8 * 2);
    // Pinned so that any change to the generator (or a platform difference) is noticed.
    const hash = createHash('sha256').update(a.train.images).update(a.train.labels).digest('hex');
    assert.equal(hash, SYNTHETIC_SHA256);
  });

  test('classes are balanced and separable by the nearest class mean', () => {
    const { train, test: t } = makeSynthetic({ ...opts, train: 400, test: 200, height: 12, width: 12, channels: 1 }, 3);
    const size = 144;
    const counts = [0, 0, 0, 0];
    const means = Array.from({ length: 4 }, () => new Float64Array(size));
    for (let i = 0; i < train.count; i++) {
      counts[train.labels[i]]++;
      for (let p = 0; p < size; p++) means[train.labels[i]][p] += train.images[i * size + p];
    }
    assert.deepEqual(counts, [100, 100, 100, 100]);
    means.forEach((m, k) => m.forEach((v, p) => (m[p] = v / counts[k])));
    let right = 0;
    for (let i = 0; i < t.count; i++) {
      let best = -1;
      let bestD = Infinity;
      means.forEach((m, k) => {
        let d = 0;
        for (let p = 0; p < size; p++) d += (t.images[i * size + p] - m[p]) ** 2;
        if (d < bestD) [best, bestD] = [k, d];
      });
      if (best === t.labels[i]) right++;
    }
    assert.ok(right / t.count > 0.95, `nearest-mean accuracy ${right / t.count}`);
  });
});

describe('registry', () => {
  test('a missing data.root names the key, the path and the expected files', async () => {
    const missing = join(tmp, 'no-such-folder');
    await rejectsUser(() => loadDataset(config({ dataset: 'fashion-mnist', root: missing }), 1), 'data.root', missing, 'train-images-idx3-ubyte');
    await rejectsUser(() => loadDataset(config({ dataset: 'cifar10', root: missing }), 1), 'data.root', 'data_batch_1.bin');
  });

  test('a data.root without the files lists the missing ones', async () => {
    const dir = freshDir();
    writeIdxFolder(dir, 2, 2);
    rmSync(join(dir, 't10k-labels-idx1-ubyte.gz'));
    await rejectsUser(() => loadDataset(config({ dataset: 'mnist', root: dir }), 1), 'data.root', dir, 't10k-labels-idx1-ubyte[.gz]');
    assert.throws(() => findDatasetDir('mnist', dir), /lacks the mnist files t10k-labels/);
  });

  test('the shipped Fashion-MNIST subset loads with 10000/2000 images of 28x28x1', async () => {
    const data = await loadDataset(config({ dataset: 'fashion-mnist', root: SUBSET }), 1);
    assert.equal(data.train.count, 10000);
    assert.equal(data.test.count, 2000);
    assert.deepEqual([data.train.height, data.train.width, data.train.channels], [28, 28, 1]);
    assert.equal(data.train.images.length, 10000 * 784);
    assert.equal(data.test.labels.length, 2000);
    assert.deepEqual(data.mean, [0.286]);
    assert.equal(data.classNames[9], 'Ankle boot');
    assert.equal(data.source, SUBSET);
  });

  test('limits keep the first N images', async () => {
    const full = await loadDataset(config({ dataset: 'fashion-mnist', root: SUBSET }), 1);
    const cut = await loadDataset(config({ dataset: 'fashion-mnist', root: SUBSET, trainLimit: 100, testLimit: 5000 }), 1);
    assert.equal(cut.train.count, 100);
    assert.equal(cut.train.images.length, 100 * 784);
    assert.deepEqual(cut.train.labels, full.train.labels.subarray(0, 100));
    assert.equal(cut.test.count, 2000, 'a limit above the count keeps all');
  });

  test('CIFAR-100 by data.root gets its constants and 100 class names', async () => {
    const root = freshDir();
    const dir = join(root, 'cifar-100-binary');
    mkdirSync(dir);
    writeFileSync(join(dir, 'train.bin'), cifarRecords([[0, 1]], 0));
    writeFileSync(join(dir, 'test.bin'), cifarRecords([[0, 2]], 0));
    const data = await loadDataset(config({ dataset: 'cifar100', root }), 1);
    assert.equal(data.source, dir);
    assert.equal(data.classNames.length, 100);
    assert.equal(new Set(data.classNames).size, 100);
    assert.deepEqual(data.std, CATALOG.cifar100.std);
  });

  test('synthetic is generated, with statistics from its train split', async () => {
    const cfg = config({ dataset: 'synthetic', trainLimit: 10, synthetic: { classes: 3, train: 30, test: 6, height: 5, width: 5 } });
    const data = await loadDataset(cfg, 4);
    assert.equal(data.source, 'generated');
    assert.equal(data.train.count, 10);
    assert.equal(data.test.count, 6);
    assert.deepEqual(data.classNames, ['class 0', 'class 1', 'class 2']);
    assert.equal(data.mean.length, 1);
    assert.ok(data.mean[0] > 0 && data.mean[0] < 1 && data.std[0] > 0);
  });

  test('the subset is the first images of the Debian package files', { skip: !existsSync('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz') }, async () => {
    const full = await readIdx('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz');
    const sub = await readIdx(join(SUBSET, 't10k-images-idx3-ubyte.gz'));
    assert.deepEqual(sub.dims, [2000, 28, 28]);
    assert.deepEqual(sub.data, full.data.subarray(0, 2000 * 784));
  });
});

const SYNTHETIC_SHA256 = 'd2b4ed1be48905bf3d6b897c999cfaa2c932140e658097ef371054e0d831c949';
