/**
 * data.dataset: imagefolder, below the CLI: class indexing as torchvision's ImageFolder, the
 * transforms' geometry and pixels against hand computations, and the worker's batches.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DataSchema } from '../src/config/schema.js';
import { decodeResized } from '../src/data/folderDecode.js';
import { openFolderReader, type FolderReader } from '../src/data/folderReader.js';
import { centreCropBox, drawTrain, evalResizeSide, randomResizedCropBox, resizedDims, roundHalfEven } from '../src/data/folderTransforms.js';
import { IMAGENET_MEAN, IMAGENET_STD, scanFolderFromConfig, scanImageFolder, type FolderIndex } from '../src/data/imageFolder.js';
import { datasetInput } from '../src/data/shapes.js';
import { loadConfig } from '../src/config/load.js';
import { createRng, permutation } from '../src/util/rng.js';
import { encode, pixels, solid, type Rgb } from './folderKit.js';
import { repoRoot, tempDir } from './helpers.js';

const NO_LIMITS = { maxFileBytes: 2 ** 30, trainLimit: null, testLimit: null };
const readers: FolderReader[] = [];
after(async () => {
  for (const r of readers) await r.close();
});

/** A reader over `index` with imageSize 32 (decode and eval side 36) and mean 0, std 1/255: x = byte value. */
function reader(index: FolderIndex, extra: Record<string, unknown> = {}): FolderReader {
  const cfg = DataSchema.parse({ dataset: 'imagefolder', root: index.root, imageSize: 32, ...extra });
  const r = openFolderReader(index, cfg, [0, 0, 0], [1 / 255, 1 / 255, 1 / 255]);
  readers.push(r);
  return r;
}

const evalOpts = { batchSize: 8, shuffle: false, rng: null, crop: false, flip: false, dropLast: false };

test('classes are the sorted class folders (by code point); files sorted, recursive, non-images and hidden files ignored', async () => {
  const root = tempDir('imf-index');
  const px = solid(8, 8, [1, 2, 3]);
  for (const split of ['train', 'val']) {
    for (const c of ['b_zebra', 'a_ant', 'C_upper']) await encode(join(root, split, c, 'x1.JPEG'), px, 8, 8);
  }
  await encode(join(root, 'train', 'a_ant', 'sub', 'a0.png'), px, 8, 8);
  await encode(join(root, 'train', 'a_ant', 'B.jpg'), px, 8, 8);
  writeFileSync(join(root, 'train', 'a_ant', 'notes.txt'), 'not an image');
  await encode(join(root, 'train', 'a_ant', '.hidden.jpg'), px, 8, 8);
  const idx = scanImageFolder(root, NO_LIMITS);
  // Python's sorted(): upper case before lower case.
  assert.deepEqual(idx.classNames, ['C_upper', 'a_ant', 'b_zebra']);
  const names = idx.train.files.map((f) => f.slice(root.length + 1));
  assert.deepEqual(names, ['train/C_upper/x1.JPEG', 'train/a_ant/B.jpg', 'train/a_ant/sub/a0.png', 'train/a_ant/x1.JPEG', 'train/b_zebra/x1.JPEG']);
  assert.deepEqual([...idx.train.labels], [0, 1, 1, 1, 2]);
  assert.deepEqual([...idx.test.labels], [0, 1, 2]);
  // trainLimit keeps a class-balanced first N: file 0 of every class, then file 1, ...
  const limited = scanImageFolder(root, { ...NO_LIMITS, trainLimit: 4 });
  assert.deepEqual(limited.train.files.map((f) => f.slice(root.length + 1)), ['train/C_upper/x1.JPEG', 'train/a_ant/B.jpg', 'train/a_ant/sub/a0.png', 'train/b_zebra/x1.JPEG']);
  assert.deepEqual([...limited.train.labels], [0, 1, 1, 2]);
});

test('resize and crop geometry match torchvision by hand', () => {
  assert.equal(evalResizeSide(224), 256);
  assert.equal(evalResizeSide(32), 36); // int(32 / 0.875) = int(36.57)
  assert.deepEqual(resizedDims(375, 500, 256), [256, 341]); // int(256 * 500 / 375) = 341
  assert.deepEqual(resizedDims(500, 333, 256), [384, 256]); // int(256 * 500 / 333) = 384.38
  // Python rounds half to even: CenterCrop(32) of width 45 starts at round(6.5) = 6, of 47 at round(7.5) = 8.
  assert.deepEqual([roundHalfEven(6.5), roundHalfEven(7.5), roundHalfEven(-0.5), roundHalfEven(2.4)], [6, 8, 0, 2]);
  assert.deepEqual(centreCropBox(36, 45, 32), { top: 2, left: 6, height: 32, width: 32 });
  assert.deepEqual(centreCropBox(256, 341, 224), { top: 16, left: 58, height: 224, width: 224 });
  // A 10 x 1000 strip: every try needs h >= sqrt(800 / (4/3)) = 24.5 > 10, so the fallback takes
  // h = 10, w = round(10 * 4/3) = 13, centred: left = (1000 - 13) // 2 = 493.
  assert.deepEqual(randomResizedCropBox(10, 1000, [0.08, 1], [3 / 4, 4 / 3], createRng(5)), { top: 0, left: 493, height: 10, width: 13 });
  // And a 1000 x 10 one: w = 10, h = round(10 / (3/4)) = 13, top = 493.
  assert.deepEqual(randomResizedCropBox(1000, 10, [0.08, 1], [3 / 4, 4 / 3], createRng(5)), { top: 493, left: 0, height: 13, width: 10 });
});

test('random-resized crops stay inside the image, cover the scale range, and repeat per seed', () => {
  const rng = createRng(11);
  let small = 0;
  let large = 0;
  for (let i = 0; i < 3000; i++) {
    const h = 1 + rng.int(300);
    const w = 1 + rng.int(300);
    const seed = rng.int(2 ** 32);
    const t = { crop: true, flip: true, scale: [0.08, 1] as const, ratio: [3 / 4, 4 / 3] as const };
    const a = drawTrain(h, w, t, createRng(seed));
    assert.deepEqual(drawTrain(h, w, t, createRng(seed)), a, 'same seed, same draw');
    const b = a.box;
    assert.ok(b !== null);
    assert.ok(b.top >= 0 && b.left >= 0 && b.height >= 1 && b.width >= 1, JSON.stringify({ h, w, b }));
    assert.ok(b.top + b.height <= h && b.left + b.width <= w, JSON.stringify({ h, w, b }));
    const frac = (b.height * b.width) / (h * w);
    if (h >= 50 && w >= 50) {
      assert.ok(frac > 0.06 && frac < 1.03, `area fraction ${frac}`);
      if (frac < 0.2) small++;
      if (frac > 0.8) large++;
    }
  }
  assert.ok(small > 50 && large > 50, `both ends of the scale range drawn (${small}, ${large})`);
});

test('eval transform: a 36 x 45 gradient is centre-cropped at (2, 6) exactly (PNG) and within JPEG error', async () => {
  const root = tempDir('imf-eval');
  // Shorter side 36 = int(32 / 0.875): no resize, so the output is the crop itself.
  const grad = (y: number, x: number): Rgb => [5 * x, 7 * y, 100];
  for (const split of ['train', 'val']) {
    await encode(join(root, split, 'g', 'a.png'), pixels(36, 45, grad), 36, 45);
    await encode(join(root, split, 'g', 'b.JPEG'), pixels(36, 45, grad), 36, 45);
    await encode(join(root, split, 'g', 'c.JPEG'), solid(72, 90, [200, 120, 40]), 72, 90); // resized to 36 x 45 first
  }
  const idx = scanImageFolder(root, NO_LIMITS);
  const [batch] = [...reader(idx).batches('test', evalOpts)];
  assert.equal(batch.size, 3);
  assert.equal(batch.x.length, 3 * 32 * 32 * 3);
  const at = (i: number, y: number, x: number, c: number): number => batch.x[((i * 32 + y) * 32 + x) * 3 + c];
  let worstJpeg = 0;
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const want = grad(y + 2, x + 6);
      for (let c = 0; c < 3; c++) {
        assert.ok(Math.abs(at(0, y, x, c) - want[c]) < 1e-3, `png (${y}, ${x}, ${c}): ${at(0, y, x, c)} vs ${want[c]}`);
        worstJpeg = Math.max(worstJpeg, Math.abs(at(1, y, x, c) - want[c]));
        assert.ok(Math.abs(at(2, y, x, c) - [200, 120, 40][c]) <= 2, 'solid colour after resize');
      }
    }
  }
  // A one-pixel shift would be off by 5 (x) or 7 (y) levels.
  assert.ok(worstJpeg <= 3, `jpeg error ${worstJpeg} levels`);
});

test('normalisation is ImageNet mean/std per channel', async () => {
  const root = tempDir('imf-norm');
  for (const split of ['train', 'val']) await encode(join(root, split, 'k', 'a.png'), solid(40, 40, [255, 128, 0]), 40, 40);
  const idx = scanImageFolder(root, NO_LIMITS);
  const cfg = DataSchema.parse({ dataset: 'imagefolder', root, imageSize: 16 });
  const r = openFolderReader(idx, cfg, IMAGENET_MEAN, IMAGENET_STD);
  readers.push(r);
  const [b] = [...r.batches('test', evalOpts)];
  const want = [255, 128, 0].map((v, c) => (v / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c]);
  for (let p = 0; p < 16 * 16; p++) for (let c = 0; c < 3; c++) assert.ok(Math.abs(b.x[p * 3 + c] - want[c]) < 1e-5);
});

test('train transform: the crop and flip each sample draws from its seed, on a linear gradient', async () => {
  const root = tempDir('imf-train');
  const H = 36;
  const W = 60;
  const grad = (y: number, x: number): Rgb => [4 * x, 6 * y, 50];
  const n = 12;
  for (const split of ['train', 'val']) {
    for (let i = 0; i < n; i++) await encode(join(root, split, 'g', `${String(i).padStart(2, '0')}.png`), pixels(H, W, grad), H, W);
  }
  const idx = scanImageFolder(root, NO_LIMITS);
  const r = reader(idx);
  const opts = (seed: number) => ({ batchSize: 5, shuffle: true, rng: createRng(seed), crop: true, flip: true, dropLast: false });
  const run = (seed: number) => [...r.batches('train', opts(seed))];
  const a = run(7);
  const b = run(7);
  const c = run(8);
  assert.equal(a.length, 3);
  assert.deepEqual(a, b, 'same seed, same batches');
  assert.notDeepEqual(a.map((x) => [...x.x]), c.map((x) => [...x.x]), 'another seed, other crops');
  // The draws the reader documents: the permutation, then one seed per position.
  const rng = createRng(7);
  permutation(n, rng);
  const seeds = Array.from({ length: n }, () => Math.floor(rng.next() * 2 ** 32));
  let flips = 0;
  for (let pos = 0; pos < n; pos++) {
    const { box, flip } = drawTrain(H, W, { crop: true, flip: true, scale: [0.08, 1], ratio: [3 / 4, 4 / 3] }, createRng(seeds[pos]));
    assert.ok(box);
    flips += flip ? 1 : 0;
    const x = a[Math.floor(pos / 5)].x;
    const base = (pos % 5) * 32 * 32 * 3;
    // A resize maps output column u to source column left + (u + 0.5) * w / 32 - 0.5 (pixel
    // centres), and a linear gradient stays linear; compare away from the clamped borders.
    for (const u of [8, 16, 23]) {
      const v = 16;
      const srcX = box.left + ((u + 0.5) * box.width) / 32 - 0.5;
      const srcY = box.top + ((v + 0.5) * box.height) / 32 - 0.5;
      const col = flip ? 31 - u : u;
      const got = [x[base + (v * 32 + col) * 3], x[base + (v * 32 + col) * 3 + 1]];
      assert.ok(Math.abs(got[0] - 4 * srcX) <= 3, `pos ${pos} u ${u}: R ${got[0]} vs ${4 * srcX} (box ${JSON.stringify(box)}, flip ${flip})`);
      assert.ok(Math.abs(got[1] - 6 * srcY) <= 4, `pos ${pos}: G ${got[1]} vs ${6 * srcY}`);
    }
  }
  assert.ok(flips > 0 && flips < n, `some flipped, some not (${flips} of ${n})`);
});

test('flip without crop gives the eval crop or its mirror image', async () => {
  const root = tempDir('imf-flip');
  const grad = (y: number, x: number): Rgb => [3 * x, 2 * y, 9];
  for (const split of ['train', 'val']) for (let i = 0; i < 6; i++) await encode(join(root, split, 'g', `${i}.png`), pixels(36, 45, grad), 36, 45);
  const idx = scanImageFolder(root, NO_LIMITS);
  const [b] = [...reader(idx).batches('train', { batchSize: 6, shuffle: false, rng: createRng(3), crop: false, flip: true, dropLast: false })];
  const seen = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const r0 = b.x[(i * 32 * 32) * 3];
    // Column 0 holds source column 6 (3 * 6 = 18) unflipped, column 37 (111) flipped.
    assert.ok(r0 === 18 || r0 === 111, `R at (0, 0): ${r0}`);
    seen.add(String(r0));
  }
  assert.equal(seen.size, 2, 'both orientations among six draws');
});

test('a decode cache of 0 MiB and of enough MiB give the same batches', async () => {
  const root = tempDir('imf-cache');
  for (const split of ['train', 'val']) for (let i = 0; i < 5; i++) await encode(join(root, split, 'g', `${i}.JPEG`), pixels(40 + i, 50, (y, x) => [x * 5, y * 3, i * 40]), 40 + i, 50);
  const idx = scanImageFolder(root, NO_LIMITS);
  const o = () => ({ batchSize: 2, shuffle: true, rng: createRng(1), crop: true, flip: true, dropLast: false });
  const cached = reader(idx, { imagefolder: { cacheMB: 16 } });
  const uncached = reader(idx, { imagefolder: { cacheMB: 0 } });
  const first = [...cached.batches('train', o())];
  const second = [...cached.batches('train', o())]; // served from the cache
  assert.deepEqual(second, first);
  assert.deepEqual([...uncached.batches('train', o())], first);
});

test('config: imagefolder keys are validated with their key paths', () => {
  const bad = (tree: unknown, pattern: RegExp): void => {
    const r = DataSchema.safeParse(tree);
    assert.equal(r.success, false);
    const issue = r.error?.issues[0];
    assert.match(`${issue?.path.join('.')}: ${issue?.message}`, pattern);
  };
  bad({ imageSize: 224, imagefolder: { resizeSide: 200 } }, /^imagefolder\.resizeSide: must be at least data\.imageSize \(224\)/);
  bad({ imagefolder: { scale: [0.5, 0.1] } }, /^imagefolder\.scale: scale: the first value must not exceed the second/);
  bad({ imagefolder: { scale: [0.5, 1.5] } }, /^imagefolder\.scale: .*cannot exceed 1/);
  bad({ imagefolder: { ratio: [0, 1] } }, /^imagefolder\.ratio\.0/);
  bad({ imagefolder: { cacheMB: -1 } }, /^imagefolder\.cacheMB/);
  bad({ imageSize: 0 }, /^imageSize/);
  const ok = DataSchema.parse({ dataset: 'imagefolder' });
  assert.equal(ok.imageSize, 224);
  assert.deepEqual(ok.imagefolder.scale, [0.08, 1]);
});

test('input shape: imageSize and the class count from data.imagefolder.classes or the folder; a wrong count is refused', async () => {
  const root = tempDir('imf-shape');
  for (const split of ['train', 'val']) for (const c of ['x', 'y', 'z']) await encode(join(root, split, c, '0.JPEG'), solid(8, 8, [9, 9, 9]), 8, 8);
  const cfg = (extra: Record<string, unknown>) => DataSchema.parse({ dataset: 'imagefolder', imageSize: 48, ...extra });
  assert.deepEqual(datasetInput(cfg({ root })), { height: 48, width: 48, channels: 3, numClasses: 3 });
  assert.deepEqual(datasetInput(cfg({ imagefolder: { classes: 1000 } })), { height: 48, width: 48, channels: 3, numClasses: 1000 });
  assert.equal(scanFolderFromConfig(cfg({ root, imagefolder: { classes: 3 } })).classNames.length, 3);
  assert.throws(() => scanFolderFromConfig(cfg({ root, imagefolder: { classes: 4 } })), /data\.imagefolder\.classes: 4, but .*train has 3 class folders/);
});

test('configs/imagenet-danet50.yaml: DANet ResNet-50, T = 4, ImageNet at 224 with 1000 classes', () => {
  const cfg = loadConfig(join(repoRoot, 'configs', 'imagenet-danet50.yaml'));
  assert.equal(cfg.model.arch, 'danet');
  assert.equal(cfg.model.preset, 'resnet50-imagenet');
  assert.equal(cfg.model.timesteps, 4);
  assert.deepEqual(datasetInput(cfg.data), { height: 224, width: 224, channels: 3, numClasses: 1000 });
  assert.deepEqual(cfg.data.augment, ['crop', 'flip']);
});

test('an image with more pixels than data.imagefolder.maxPixels is refused with its name', async () => {
  const root = tempDir('imf-pixels');
  const file = join(root, 'wide.JPEG');
  await encode(file, solid(20, 30, [5, 5, 5]), 20, 30);
  const limits = { maxFileBytes: 2 ** 30, maxPixels: 599 };
  await assert.rejects(decodeResized(file, 16, limits), (e: Error) => {
    assert.equal(e.name, 'BadImageError');
    assert.match(e.message, /wide\.JPEG: not a readable image \(more pixels than data\.imagefolder\.maxPixels \(599\)\)/);
    return true;
  });
  const ok = await decodeResized(file, 16, { ...limits, maxPixels: 600 });
  assert.deepEqual([ok.height, ok.width], [16, 24]); // int(16 * 30 / 20)
});
