/**
 * data.dataset: imagefolder through the CLI: `snn train` and `snn eval` on a folder of
 * generated JPEGs, `snn data info imagefolder`, and the one-line errors (exit 2) for bad folders.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { scanImageFolder } from '../src/data/imageFolder.js';
import { UserError } from '../src/util/errors.js';
import { encode, pixels, writeFolder } from './folderKit.js';
import { fixture, runCli, tempDir } from './helpers.js';

const CLASSES = ['ant', 'bee', 'cat'];
const base = tempDir('imf-cli');
const good = join(base, 'good');

before(async () => {
  await writeFolder(good, CLASSES, 8, 3);
});

const sets = (root: string, extra: string[] = []): string[] =>
  [
    'data.dataset=imagefolder',
    `data.root=${root}`,
    'data.imageSize=32',
    'data.augment=[crop, flip]',
    'data.batchSize=8',
    'data.testBatchSize=8',
    'train.epochs=2',
    ...extra,
  ].flatMap((s) => ['--set', s]);

test('snn train and snn eval on an image folder', () => {
  const runs = tempDir('imf-runs');
  const r = runCli(['train', '--config', fixture('synthetic.yaml'), '--runs-dir', runs, '--json', ...sets(good)]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { run: string; status: string };
  assert.equal(out.status, 'completed');
  const meta = JSON.parse(readFileSync(join(out.run, 'meta.json'), 'utf8')) as { data: { train: number; test: number } };
  assert.deepEqual([meta.data.train, meta.data.test], [24, 9]);
  const e = runCli(['eval', out.run, '--checkpoint', 'last', '--json']);
  assert.equal(e.code, 0, e.stderr);
  const res = JSON.parse(e.stdout) as { count: number; accuracy: number };
  assert.equal(res.count, 9);
  assert.ok(res.accuracy >= 0 && res.accuracy <= 1);
});

test('snn model on imagefolder needs the class count: from data.root or data.imagefolder.classes', () => {
  const none = runCli(['model', fixture('synthetic.yaml'), '--set', 'data.dataset=imagefolder']);
  assertOneLine(none, /data\.imagefolder\.classes: not set and data\.root is not set either/);
});

test('snn data info imagefolder counts classes and images, and --check decodes them', () => {
  const r = runCli(['data', 'info', 'imagefolder', '--root', good, '--check', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout) as { classes: number; classNames: string[]; train: number; val: number; decoded: number };
  assert.deepEqual(info.classNames, CLASSES);
  assert.deepEqual([info.train, info.val, info.decoded], [24, 9, 33]);
});

/** A copy of the good folder with `damage` applied. */
function damaged(name: string, damage: (root: string) => void): string {
  const root = join(base, name);
  for (const split of ['train', 'val']) {
    for (const c of CLASSES) {
      mkdirSync(join(root, split, c), { recursive: true });
      const n = split === 'train' ? 8 : 3;
      for (let i = 0; i < n; i++) {
        const f = `${String(i).padStart(3, '0')}.JPEG`;
        copyFileSync(join(good, split, c, f), join(root, split, c, f));
      }
    }
  }
  damage(root);
  return root;
}

const userError = (pattern: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof UserError, String(e));
  assert.match(e.message, pattern);
  return true;
};

function assertOneLine(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
}

test('a file that is not an image stops training, a truncated JPEG fails data info --check; each with its name (exit 2)', async () => {
  const text = damaged('text', (root) => writeFileSync(join(root, 'train', 'bee', '004.JPEG'), 'this is not a JPEG'));
  const r = runCli(['train', '--config', fixture('synthetic.yaml'), '--runs-dir', tempDir('imf-bad'), ...sets(text)]);
  assertOneLine(r, /train\/bee\/004\.JPEG: not a readable image/);

  // A noisy 200 x 200 JPEG cut after 60 % of its bytes: the header is whole, the scan is not.
  const noisy = pixels(200, 200, (y, x) => [(x * 37 + y * 11) % 256, (x * y) % 256, (x ^ y) % 256]);
  const whole = join(base, 'whole.JPEG');
  await encode(whole, noisy, 200, 200);
  const bytes = readFileSync(whole);
  const cut = damaged('cut', (root) => writeFileSync(join(root, 'val', 'cat', '001.JPEG'), bytes.subarray(0, Math.floor(bytes.length * 0.6))));
  const c = runCli(['data', 'info', 'imagefolder', '--root', cut, '--check']);
  assertOneLine(c, /val\/cat\/001\.JPEG: not a readable image \(.*(premature end|truncated|corrupt)/i);
});

test('bad folder layouts and oversized files: one line naming the file or folder (exit 2)', () => {
  const scan = (root: string, maxFileBytes = 2 ** 30) => () => scanImageFolder(root, { maxFileBytes, trainLimit: null, testLimit: null });
  const big = damaged('big', (root) => writeFileSync(join(root, 'train', 'ant', '002.JPEG'), Buffer.alloc(300_000, 1)));
  assert.throws(scan(big, 0.25 * 2 ** 20), userError(/train\/ant\/002\.JPEG: 0\.29 MiB is larger than data\.imagefolder\.maxFileMB \(0\.25 MiB\)/));
  const empty = damaged('emptyclass', (root) => {
    rmSync(join(root, 'val', 'bee'), { recursive: true });
    mkdirSync(join(root, 'val', 'bee'));
    writeFileSync(join(root, 'val', 'bee', 'readme.txt'), 'no images here');
  });
  assert.throws(scan(empty), userError(/val\/bee: class folder with no image files/));
  const zero = damaged('zerobytes', (root) => writeFileSync(join(root, 'val', 'ant', '000.JPEG'), ''));
  assert.throws(scan(zero), userError(/val\/ant\/000\.JPEG: empty file, not an image/));
  const noClasses = join(base, 'noclasses');
  mkdirSync(join(noClasses, 'train'), { recursive: true });
  mkdirSync(join(noClasses, 'val'), { recursive: true });
  assert.throws(scan(noClasses), userError(/noclasses\/train: no class folders/));
  const noVal = damaged('noval', (root) => rmSync(join(root, 'val'), { recursive: true }));
  assert.throws(scan(noVal), userError(/noval\/val: missing/));
  const extra = damaged('extra', (root) => mkdirSync(join(root, 'val', 'dog')));
  assert.throws(scan(extra), userError(/different classes \(0 only in train, 1 only in val\): .*val\/dog has no counterpart in train\//));
  // Through the CLI: the same message on one line, exit 2.
  const mismatch = damaged('mismatch', (root) => rmSync(join(root, 'val', 'cat'), { recursive: true }));
  assertOneLine(runCli(['data', 'info', 'imagefolder', '--root', mismatch]), /train\/ and val\/ have different classes .*val\/cat is missing \(class cat is in train\/\)/);
});
