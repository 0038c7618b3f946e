/**
 * imagefolder against torchvision itself (Debian's python3-torchvision + python3-pil, through
 * test/torchvisionRef.py): class indices and file order of ImageFolder, the evaluation
 * transform's pixels (Resize + CenterCrop on PIL images), RandomResizedCrop.get_params fed the
 * same uniform draws, Pillow's resize on noise, and resized_crop + hflip of given boxes. Pixels
 * must agree within one level (an IDCT rounding of the JPEG decoders); here they are equal.
 * Skips with the reason when torchvision is missing; in CI that is a failing test instead.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DataSchema } from '../src/config/schema.js';
import { openFolderReader, type FolderReader } from '../src/data/folderReader.js';
import { drawTrain, randomResizedCropBox } from '../src/data/folderTransforms.js';
import { scanImageFolder } from '../src/data/imageFolder.js';
import { resizeBilinear } from '../src/data/resample.js';
import { createRng, permutation, type Rng } from '../src/util/rng.js';
import { encode, pixels, type Rgb } from './folderKit.js';
import { repoRoot, tempDir } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torchvision, PIL'], { encoding: 'utf8' });
const missing = probe.status === 0 ? null : 'needs Debian python3-torchvision and python3-pil';
// In CI (CI=true, or SNN_CI=1 as main's .ci/run sets) a missing reference is a failing test.
if (missing && (process.env.CI === 'true' || process.env.SNN_CI === '1')) {
  test('torchvision and Pillow are installed (required in CI)', () => assert.fail(`${missing}; .ci/run installs them`));
}

function torchvision(req: unknown): Record<string, unknown> {
  const r = spawnSync(PYTHON, [join(repoRoot, 'test', 'torchvisionRef.py')], { input: JSON.stringify(req), encoding: 'utf8', maxBuffer: 1 << 28, timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const readers: FolderReader[] = [];
after(async () => {
  for (const r of readers) await r.close();
});

/** Smooth image content with some texture, as photographs have: JPEG and resampling behave as on real data. */
const scene = (seed: number) => (y: number, x: number): Rgb => [
  Math.round(127 + 100 * Math.sin((x + seed * 7) / 9) * Math.cos(y / 11)),
  Math.round(127 + 90 * Math.cos((x * 0.7 + y + seed) / 13)),
  Math.round(((x * 3 + y * 2 + seed * 17) % 256) * 0.6 + 40),
];

/** Mean and largest absolute difference of two byte arrays. */
function diff(a: ArrayLike<number>, b: ArrayLike<number>): { mean: number; max: number } {
  assert.equal(a.length, b.length);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / a.length, max };
}

test('ImageFolder classes and order, and the evaluation transform, match torchvision', { skip: missing ?? false }, async () => {
  const root = tempDir('imf-tv');
  const classes = ['n02', 'N01', 'n01_b'];
  const sizes: [number, number][] = [[48, 64], [80, 45], [37, 37], [120, 90], [36, 50]];
  for (const split of ['train', 'val']) {
    for (let c = 0; c < classes.length; c++) {
      for (let i = 0; i < sizes.length; i++) {
        const [h, w] = sizes[(i + c) % sizes.length];
        await encode(join(root, split, classes[c], `img_${i}.JPEG`), pixels(h, w, scene(i * 3 + c)), h, w);
      }
    }
  }
  const index = scanImageFolder(root, { maxFileBytes: 2 ** 30, trainLimit: null, testLimit: null });
  const cfg = DataSchema.parse({ dataset: 'imagefolder', root, imageSize: 32 });
  const reader = openFolderReader(index, cfg, [0, 0, 0], [1 / 255, 1 / 255, 1 / 255]);
  readers.push(reader);
  const batches = [...reader.batches('test', { batchSize: 4, shuffle: false, rng: null, crop: false, flip: false, dropLast: false })];
  const ref = torchvision({ folder: { root: join(root, 'val'), resize: 36, size: 32 } }).folder as { classes: string[]; targets: number[]; files: string[]; pixels: number[][] };
  assert.deepEqual(index.classNames, ref.classes);
  assert.deepEqual(index.test.files, ref.files);
  assert.deepEqual([...index.test.labels], ref.targets);
  const ours = batches.flatMap((b) => Array.from({ length: b.size }, (_, i) => Array.from(b.x.subarray(i * 32 * 32 * 3, (i + 1) * 32 * 32 * 3), Math.round)));
  assert.equal(ours.length, ref.pixels.length);
  for (let i = 0; i < ours.length; i++) {
    const d = diff(ours[i], ref.pixels[i]);
    // The resize is Pillow's to the integer; the JPEG decoders (libjpeg-turbo in both, mozjpeg's
    // fork in sharp) may differ by one level in an IDCT rounding.
    assert.ok(d.max <= 1, `image ${i} (${ref.files[i]}): ${JSON.stringify(d)}`);
  }
});

test("resizeBilinear equals Pillow's BILINEAR resize on noise, shrinking and enlarging", { skip: missing ?? false }, () => {
  const rng = createRng(77);
  const cases = Array.from({ length: 40 }, (_, k) => {
    const height = 1 + rng.int(60);
    const width = 1 + rng.int(60);
    const outHeight = k === 0 ? height : 1 + rng.int(70);
    const outWidth = k === 1 ? width : 1 + rng.int(70);
    const data = Array.from({ length: height * width * 3 }, () => rng.int(256));
    return { height, width, outHeight, outWidth, data };
  });
  const ref = torchvision({ resize: cases }).resize as number[][];
  cases.forEach((c, k) => {
    const ours = resizeBilinear(Uint8Array.from(c.data), c.height, c.width, 3, c.outHeight, c.outWidth);
    assert.deepEqual([...ours], ref[k], `${c.height}x${c.width} -> ${c.outHeight}x${c.outWidth}`);
  });
});

/** An Rng that records every uniform draw it hands out. */
function recording(rng: Rng): { rng: Rng; draws: number[] } {
  const draws: number[] = [];
  const next = (): number => {
    const u = rng.next();
    draws.push(u);
    return u;
  };
  return { draws, rng: { ...rng, next, int: (n) => Math.floor(next() * n) } };
}

test('random-resized crop boxes equal torchvision get_params given the same uniform draws', { skip: missing ?? false }, () => {
  const src = createRng(2024);
  const cases: { height: number; width: number; scale: [number, number]; ratio: [number, number]; draws: number[] }[] = [];
  const ours: number[][] = [];
  const shapes: [number, number][] = [[10, 1000], [1000, 10], [7, 7], [1, 1], [2, 300]];
  for (let k = 0; k < 400; k++) {
    const [height, width] = k < shapes.length ? shapes[k] : [1 + src.int(400), 1 + src.int(400)];
    const scale: [number, number] = k % 3 === 0 ? [0.35, 1] : [0.08, 1];
    const ratio: [number, number] = k % 5 === 0 ? [0.5, 2] : [3 / 4, 4 / 3];
    const rec = recording(createRng(k));
    const b = randomResizedCropBox(height, width, scale, ratio, rec.rng);
    ours.push([b.top, b.left, b.height, b.width]);
    cases.push({ height, width, scale, ratio, draws: rec.draws });
  }
  const ref = torchvision({ crops: cases }).crops as number[][];
  assert.deepEqual(ours, ref);
});

test('training crops (resized_crop + hflip) match torchvision on the boxes the reader drew', { skip: missing ?? false }, async () => {
  const root = tempDir('imf-tv-train');
  // Shorter side 36 = the decode side for imageSize 32: the reader crops the file's own pixels.
  const n = 8;
  for (const split of ['train', 'val']) {
    for (let i = 0; i < n; i++) await encode(join(root, split, 'c', `${i}.JPEG`), pixels(36, 36 + 6 * i, scene(i)), 36, 36 + 6 * i);
  }
  const index = scanImageFolder(root, { maxFileBytes: 2 ** 30, trainLimit: null, testLimit: null });
  const cfg = DataSchema.parse({ dataset: 'imagefolder', root, imageSize: 32 });
  const reader = openFolderReader(index, cfg, [0, 0, 0], [1 / 255, 1 / 255, 1 / 255]);
  readers.push(reader);
  const [batch] = [...reader.batches('train', { batchSize: n, shuffle: true, rng: createRng(9), crop: true, flip: true, dropLast: false })];
  const rng = createRng(9);
  const order = permutation(n, rng);
  const seeds = Array.from({ length: n }, () => Math.floor(rng.next() * 2 ** 32));
  const requests = Array.from({ length: n }, (_, pos) => {
    const idx = order[pos];
    const d = drawTrain(36, 36 + 6 * idx, { crop: true, flip: true, scale: [0.08, 1], ratio: [3 / 4, 4 / 3] }, createRng(seeds[pos]));
    assert.ok(d.box);
    return { file: index.train.files[idx], ...d.box, size: 32, flip: d.flip };
  });
  const ref = torchvision({ resized: requests }).resized as number[][];
  for (let pos = 0; pos < n; pos++) {
    const ours = Array.from(batch.x.subarray(pos * 3072, (pos + 1) * 3072), Math.round);
    const d = diff(ours, ref[pos]);
    assert.ok(d.max <= 1, `sample ${pos} ${JSON.stringify(requests[pos])}: ${JSON.stringify(d)}`);
  }
});
