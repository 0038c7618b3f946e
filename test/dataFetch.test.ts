/**
 * `snn data fetch` against a local HTTP server on 127.0.0.1 serving generated archives: good
 * downloads verify and unpack, a corrupt one fails its checksum and leaves nothing unpacked, an
 * interrupted one resumes with a Range request. Then the CLI's one-line failures (exit 2).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { c as tarCreate } from 'tar';
import yazl from 'yazl';
import { DataSchema } from '../src/config/schema.js';
import { encodeAedat2 } from '../src/data/aedat.js';
import { encodeCifar } from '../src/data/cifar.js';
import { CIFAR10_DVS_CLASSES } from '../src/data/cifar10Dvs.js';
import { fetchSource, MARKER } from '../src/data/fetch.js';
import { datasetInfo } from '../src/data/info.js';
import { encodeIdx } from '../src/data/idx.js';
import { loadDataset, loadEventDataset, locateDataset } from '../src/data/registry.js';
import type { DatasetSource } from '../src/data/sources.js';
import { UserError } from '../src/util/errors.js';
import { repoRoot, tempDir } from './helpers.js';

const tmp = tempDir('fetch');
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (label: string): string => join(tmp, `${label}-${n++}`);
const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

// ---- the server -------------------------------------------------------------------------------

interface Served {
  body: Buffer;
  /** Send only this many bytes of the first full (non-Range) response, then drop the connection. */
  cutFirstAt?: number;
  /** Answer every request with the whole file (200), as a server without Range support does. */
  noRanges?: boolean;
}

const files = new Map<string, Served>();
const requests: { name: string; range: string | null }[] = [];
let server: Server;
let base = '';

before(async () => {
  server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    const range = req.headers.range ?? null;
    requests.push({ name, range });
    const f = files.get(name);
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(range ?? '');
    if (m && !f.noRanges) {
      const start = Number(m[1]);
      if (start >= f.body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${f.body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'Content-Length': f.body.length - start, 'Content-Range': `bytes ${start}-${f.body.length - 1}/${f.body.length}` });
      res.end(f.body.subarray(start));
      return;
    }
    res.writeHead(200, { 'Content-Length': f.body.length });
    if (f.cutFirstAt !== undefined) {
      const cut = f.cutFirstAt;
      f.cutFirstAt = undefined;
      res.write(f.body.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(f.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function serve(name: string, body: Uint8Array, extra: Omit<Served, 'body'> = {}): void {
  files.set(name, { body: Buffer.from(body), ...extra });
}

// ---- generated archives ---------------------------------------------------------------------

/** cifar-10-binary.tar.gz with two images per batch file. */
async function cifarTarGz(): Promise<Buffer> {
  const dir = fresh('cifar-src');
  const sub = join(dir, 'cifar-10-batches-bin');
  mkdirSync(sub, { recursive: true });
  const names = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`).concat('test_batch.bin');
  names.forEach((name, k) => {
    const images = Uint8Array.from({ length: 2 * 3072 }, (_, i) => (i + k) & 255);
    writeFileSync(join(sub, name), encodeCifar(images, Uint8Array.of(k, 9 - k), 'cifar10'));
  });
  const out = join(dir, 'cifar-10-binary.tar.gz');
  await tarCreate({ gzip: true, cwd: dir, file: out }, ['cifar-10-batches-bin']);
  return readFileSync(out);
}

function zipOf(entries: [string, Uint8Array][]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of entries) zip.addBuffer(Buffer.from(data), name);
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

const mnistFiles = (): [string, Uint8Array][] => [
  ['train-images-idx3-ubyte.gz', gzipSync(encodeIdx([3, 2, 2], Uint8Array.from({ length: 12 }, (_, i) => i * 20)))],
  ['train-labels-idx1-ubyte.gz', gzipSync(encodeIdx([3], Uint8Array.of(1, 2, 3)))],
  ['t10k-images-idx3-ubyte.gz', gzipSync(encodeIdx([1, 2, 2], Uint8Array.of(1, 2, 3, 4)))],
  ['t10k-labels-idx1-ubyte.gz', gzipSync(encodeIdx([1], Uint8Array.of(7)))],
];

function source(name: DatasetSource['name'], unpack: DatasetSource['unpack'], list: [string, Uint8Array][], prefix: string): DatasetSource {
  for (const [f, body] of list) serve(`${prefix}/${f}`, body);
  return { name, unpack, homepage: 'http://example.invalid/', files: list.map(([f, body]) => ({ name: f, urls: [`${base}/${prefix}/${f}`], md5: md5(body) })) };
}

const userError = (...parts: string[]) => (e: unknown): boolean => {
  assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
  for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" should contain "${p}"`);
  assert.ok(!e.message.includes('\n'), 'one line');
  return true;
};

/** Everything under a folder except the marker-free essentials, to show nothing was left behind. */
const listing = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).sort() : []);

describe('fetch from a local server', () => {
  test('tar.gz: downloads, verifies, unpacks, marks; a second call is a no-op', async () => {
    const root = fresh('cifar10');
    const src = source('cifar10', 'tar.gz', [['cifar-10-binary.tar.gz', await cifarTarGz()]], 'good');
    const r = await fetchSource(src, { root, locate: (d) => locateDataset('cifar10', d) });
    assert.equal(r.status, 'fetched');
    assert.equal(r.dir, join(root, 'cifar-10-batches-bin'));
    assert.deepEqual(readdirSync(root).sort(), [MARKER, 'cifar-10-batches-bin']);
    const marker = JSON.parse(readFileSync(join(root, MARKER), 'utf8')) as { files: { md5: string }[] };
    assert.equal(marker.files[0].md5, src.files[0].md5);
    const data = await loadDataset(DataSchema.parse({ dataset: 'cifar10', root }), 1);
    assert.equal(data.train.count, 10);
    assert.equal(data.test.count, 2);
    const before = requests.length;
    const again = await fetchSource(src, { root, locate: (d) => locateDataset('cifar10', d) });
    assert.equal(again.status, 'present');
    assert.equal(requests.length, before, 'no request the second time');
    const info = await datasetInfo('cifar10', root);
    assert.ok(info.found && info.marker !== null);
    // Two images per file is not the published data set, and info says so.
    assert.equal(info.verdict, 'differs');
    assert.ok(info.files.every((f) => f.check === 'size wrong'));
  });

  test('zip (CIFAR10-DVS layout): one archive per class unpacks to class folders that load', async () => {
    const root = fresh('dvs');
    const list: [string, Uint8Array][] = [];
    for (const c of CIFAR10_DVS_CLASSES) {
      const entries: [string, Uint8Array][] = [0, 1].map((i) => [`${c}/cifar10_${c}_${i}.aedat`, encodeAedat2({ x: [1, 2, 3], y: [4, 5, 6], p: [0, 1, 1], t: [0, 5, 9] })]);
      list.push([`${c}.zip`, await zipOf(entries)]);
    }
    const src = source('cifar10-dvs', 'zip', list, 'dvs');
    const r = await fetchSource(src, { root, locate: (d) => locateDataset('cifar10-dvs', d) });
    assert.equal(r.status, 'fetched');
    assert.deepEqual(readdirSync(root).filter((x) => !x.startsWith('.')).sort(), [...CIFAR10_DVS_CLASSES].sort());
    const data = await loadEventDataset(DataSchema.parse({ dataset: 'cifar10-dvs', root, dvs: { frames: 2, size: 8 } }));
    assert.equal(data.train.count + data.test.count, 20);
    assert.equal(data.test.count, 10, 'at least one test sample per class');
  });

  test('gzip files kept as they are (MNIST)', async () => {
    const root = fresh('mnist');
    const src = source('mnist', 'keep', mnistFiles(), 'mnist');
    await fetchSource(src, { root, locate: (d) => locateDataset('mnist', d) });
    const data = await loadDataset(DataSchema.parse({ dataset: 'mnist', root }), 1);
    assert.deepEqual(Array.from(data.train.labels), [1, 2, 3]);
    assert.ok(!existsSync(join(root, '.downloads')));
  });

  test('a corrupt download fails its checksum, is deleted, and nothing is unpacked', async () => {
    const root = fresh('corrupt');
    const good = await cifarTarGz();
    const src = source('cifar10', 'tar.gz', [['cifar-10-binary.tar.gz', good]], 'corrupt');
    const bad = Buffer.from(good);
    bad[bad.length >> 1] ^= 0xff;
    serve('corrupt/cifar-10-binary.tar.gz', bad);
    await assert.rejects(fetchSource(src, { root, locate: (d) => locateDataset('cifar10', d) }), userError('failed its checksum', 'nothing was unpacked'));
    assert.deepEqual(listing(root), ['.downloads']);
  });

  test('an archive that verifies but will not unpack leaves nothing half-unpacked', async () => {
    const root = fresh('broken');
    const good = await cifarTarGz();
    const truncated = good.subarray(0, good.length - 200);
    const src = source('cifar10', 'tar.gz', [['cifar-10-binary.tar.gz', truncated]], 'broken');
    await assert.rejects(fetchSource(src, { root, locate: (d) => locateDataset('cifar10', d) }), userError('cannot unpack cifar10'));
    assert.deepEqual(listing(root), ['.downloads', '.downloads/cifar-10-binary.tar.gz']);
    assert.ok(!readdirSync(root).some((x) => x.startsWith('.staging')));
  });

  test('an interrupted transfer resumes with a Range request and verifies', async () => {
    const root = fresh('resume');
    const body = await cifarTarGz();
    const src = source('cifar10', 'tar.gz', [['cifar-10-binary.tar.gz', body]], 'cut');
    const cut = Math.floor(body.length / 3);
    serve('cut/cifar-10-binary.tar.gz', body, { cutFirstAt: cut });
    const r = await fetchSource(src, { root, locate: (d) => locateDataset('cifar10', d) });
    assert.equal(r.status, 'fetched');
    const mine = requests.filter((q) => q.name === 'cut/cifar-10-binary.tar.gz');
    assert.deepEqual(mine.map((q) => q.range), [null, `bytes=${cut}-`]);
  });

  test('a part file left by an earlier call is resumed; a server ignoring Range restarts cleanly', async () => {
    const body = await cifarTarGz();
    for (const noRanges of [false, true]) {
      const root = fresh('part');
      const prefix = noRanges ? 'norange' : 'part';
      const src = source('cifar10', 'tar.gz', [['cifar-10-binary.tar.gz', body]], prefix);
      serve(`${prefix}/cifar-10-binary.tar.gz`, body, { noRanges });
      mkdirSync(join(root, '.downloads'), { recursive: true });
      const half = body.length >> 1;
      writeFileSync(join(root, '.downloads', 'cifar-10-binary.tar.gz.part'), body.subarray(0, half));
      const r = await fetchSource(src, { root, locate: (d) => locateDataset('cifar10', d) });
      assert.equal(r.status, 'fetched');
      const mine = requests.filter((q) => q.name === `${prefix}/cifar-10-binary.tar.gz`);
      assert.deepEqual(mine.map((q) => q.range), [`bytes=${half}-`]);
    }
  });
});

// ---- the command line -----------------------------------------------------------------------

/** Runs the CLI without blocking this process (the server above must keep answering). */
function runCliAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'snn'), ...args], { cwd: tmp, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function oneLine(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit ${r.code}; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.match(lines[0], pattern);
}

describe('snn data: one-line failures with exit 2', () => {
  test('wrong checksum, offline, unknown name, frames 0, truncated event file', async () => {
    // A mirror serving a file that is not the published CIFAR-10 archive.
    serve('mirror/cifar-10-binary.tar.gz', await cifarTarGz());
    const wrongRoot = fresh('wrong');
    // An event folder with one truncated file.
    const dvs = fresh('dvs-trunc');
    for (const c of CIFAR10_DVS_CLASSES) {
      mkdirSync(join(dvs, c), { recursive: true });
      writeFileSync(join(dvs, c, `cifar10_${c}_0.aedat`), encodeAedat2({ x: [1], y: [1], p: [1], t: [1] }));
    }
    writeFileSync(join(dvs, 'dog', 'cifar10_dog_0.aedat'), encodeAedat2({ x: [1, 2], y: [1, 2], p: [1, 0], t: [1, 2] }).subarray(0, -3));
    // A port that was just free: nothing listens there, as when offline.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closed = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const [wrong, offline, unknown, frames0, trainFrames0, truncated] = await Promise.all([
      runCliAsync(['data', 'fetch', 'cifar10', '--root', wrongRoot, '--quiet'], { SNN_DATA_MIRROR: `${base}/mirror` }),
      runCliAsync(['data', 'fetch', 'mnist', '--root', fresh('offline'), '--mirror', closed, '--quiet']),
      runCliAsync(['data', 'info', 'imagenet']),
      runCliAsync(['data', 'prepare', 'cifar10-dvs', '--root', dvs, '--frames', '0']),
      runCliAsync(['train', '--config', join(repoRoot, 'configs', 'cifar10-dvs.yaml'), '--set', 'data.dvs.frames=0', '--runs-dir', fresh('runs')]),
      runCliAsync(['data', 'prepare', 'cifar10-dvs', '--root', dvs, '--quiet']),
    ]);
    oneLine(wrong, /cifar-10-binary\.tar\.gz from http:\/\/127\.0\.0\.1:\d+\/mirror\/cifar-10-binary\.tar\.gz failed its checksum .*published c32a1d4ab5d03f1284b67883e8d87530/);
    assert.deepEqual(listing(wrongRoot), ['.downloads']);
    oneLine(offline, /cannot reach the server for mnist .*offline\? To install by hand, put train-images-idx3-ubyte\.gz.* into /);
    oneLine(unknown, /unknown data set 'imagenet' \(one of .*cifar10-dvs/);
    oneLine(frames0, /data\.dvs\.frames/);
    oneLine(trainFrames0, /data\.dvs\.frames/);
    oneLine(truncated, /cifar10_dog_0\.aedat is truncated/);
  });
});
