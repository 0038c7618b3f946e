/**
 * Throughput of the image-folder loader (decode, crop, resize, normalise; no model) against
 * torchvision's ImageFolder + DataLoader with the same transforms, on the same generated
 * folder of ImageNet-sized JPEGs (500 x 375), in one run:
 *
 *   npx tsc -p tsconfig.json && node dist/bench/imageFolder.js [--images N] [--size S]
 *
 * Rows: training transform with no cache (every epoch decodes), training with the cache
 * (second epoch served from memory), the evaluation transform; torchvision with one and two
 * DataLoader workers. Writes bench/results/imagefolder-<time>.json and .md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { DataSchema } from '../src/config/schema.js';
import { openFolderReader } from '../src/data/folderReader.js';
import { IMAGENET_MEAN, IMAGENET_STD, scanImageFolder } from '../src/data/imageFolder.js';
import { createRng } from '../src/util/rng.js';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const IMAGES = arg('images', 128);
const SIZE = arg('size', 224);
const BATCH = 32;
const EPOCHS = 2;

/** Photograph-like content: smooth shapes plus noise, so JPEG sizes are realistic. */
async function writeFolder(root: string): Promise<void> {
  const rng = createRng(1);
  const [h, w] = [375, 500];
  for (const [split, n] of [['train', IMAGES], ['val', IMAGES / 2]] as const) {
    for (let i = 0; i < n; i++) {
      const px = Buffer.alloc(h * w * 3);
      const f = 5 + rng.int(20);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const o = (y * w + x) * 3;
          px[o] = 128 + 90 * Math.sin(x / f + i) + rng.int(20);
          px[o + 1] = 128 + 90 * Math.cos(y / (f + 3));
          px[o + 2] = (x + y + i * 9) % 200 + rng.int(30);
        }
      }
      const dir = join(root, split, `c${i % 4}`);
      mkdirSync(dir, { recursive: true });
      await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toFile(join(dir, `${i}.JPEG`));
    }
  }
}

async function main(): Promise<void> {
  // Taken first: the code measured is the code of this commit (plus any uncommitted edits).
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: packageRoot, encoding: 'utf8' }).stdout.trim() || null;
  const dirty = spawnSync('git', ['status', '--porcelain', 'src', 'bench'], { cwd: packageRoot, encoding: 'utf8' }).stdout.trim() !== '';
  const root = join(tmpdir(), `snn-bench-imagefolder-${IMAGES}`);
  if (!existsSync(join(root, 'val'))) await writeFolder(root);
  const index = scanImageFolder(root, { maxFileBytes: 2 ** 30, trainLimit: null, testLimit: null });
  const rows: { loader: string; transform: string; epoch: number; imagesPerSecond: number }[] = [];
  const time = (loader: string, transform: string, epoch: number, run: () => number): void => {
    const t0 = performance.now();
    const n = run();
    rows.push({ loader, transform, epoch, imagesPerSecond: n / ((performance.now() - t0) / 1000) });
  };
  for (const cacheMB of [0, 1024]) {
    const cfg = DataSchema.parse({ dataset: 'imagefolder', root, imageSize: SIZE, imagefolder: { cacheMB } });
    const reader = openFolderReader(index, cfg, IMAGENET_MEAN, IMAGENET_STD);
    const rng = createRng(3);
    const name = cacheMB === 0 ? 'snn (no cache)' : `snn (cache ${cacheMB} MiB)`;
    for (let e = 1; e <= EPOCHS; e++) {
      time(name, 'train', e, () => {
        let n = 0;
        for (const b of reader.batches('train', { batchSize: BATCH, shuffle: true, rng, crop: true, flip: true, dropLast: false })) n += b.size;
        return n;
      });
    }
    if (cacheMB === 0) {
      time(name, 'eval', 1, () => {
        let n = 0;
        for (const b of reader.batches('test', { batchSize: BATCH, shuffle: false, rng: null, crop: false, flip: false, dropLast: false })) n += b.size;
        return n;
      });
    }
    await reader.close();
  }
  const torch: unknown[] = [];
  for (const workers of [1, 2]) {
    const r = spawnSync('/usr/bin/python3', [join(packageRoot, 'bench', 'imagefolder_reference.py'), root, String(SIZE), String(BATCH), String(workers), String(EPOCHS)], { encoding: 'utf8' });
    if (r.status !== 0) {
      torch.push({ workers, error: r.stderr.trim().split('\n').pop() });
      continue;
    }
    const t = JSON.parse(r.stdout) as { torchvision: string; train: number[]; eval: number[] };
    torch.push(t);
    t.train.forEach((v, i) => rows.push({ loader: `torchvision ${t.torchvision} (${workers} worker${workers > 1 ? 's' : ''})`, transform: 'train', epoch: i + 1, imagesPerSecond: v }));
    rows.push({ loader: `torchvision ${t.torchvision} (${workers} worker${workers > 1 ? 's' : ''})`, transform: 'eval', epoch: 1, imagesPerSecond: t.eval[0] });
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? '', loadAverage1m: loadavg()[0], node: process.version, commit, dirty };
  const report = { images: { train: index.train.files.length, val: index.test.files.length, side: '500x375 JPEG q90' }, size: SIZE, batch: BATCH, machine, rows, torch };
  const dir = join(packageRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `imagefolder-${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  const ref = (t: string, e: number) => rows.find((r) => r.loader.startsWith('torchvision') && r.loader.includes('(1 worker)') && r.transform === t && r.epoch === e)?.imagesPerSecond;
  const md = [
    `# Image-folder loader: snn vs torchvision (${stamp})`,
    '',
    `${report.images.train} train / ${report.images.val} val JPEGs of 500x375 (q90), crop ${SIZE}, batch ${BATCH}; ${machine.cpus} cores (${machine.model}), load average ${machine.loadAverage1m.toFixed(1)} at the end (other work shares the cores: compare rows of one run only); commit ${commit}${dirty ? ' + uncommitted edits' : ''}. Command: \`node dist/bench/imageFolder.js --images ${IMAGES} --size ${SIZE}\`.`,
    '',
    '| loader | transform | epoch | images/s | vs torchvision, 1 worker |',
    '|---|---|---|---|---|',
    ...rows.map((r) => {
      const base = ref(r.transform, r.epoch);
      return `| ${r.loader} | ${r.transform} | ${r.epoch} | ${r.imagesPerSecond.toFixed(1)} | ${base ? (r.imagesPerSecond / base).toFixed(2) : '—'} |`;
    }),
    '',
  ].join('\n');
  writeFileSync(join(dir, `imagefolder-${stamp}.md`), md);
  process.stdout.write(md);
}

await main();
