/**
 * CIFAR10-DVS: AEDAT decoding, integration into frames (both split modes, downscaling), the
 * split, the frame cache, event batches and the prefetch worker. Event files are written here
 * byte by byte in the published form, independently of the encoder in src/data/aedat.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DataSchema, type DataConfig } from '../src/config/schema.js';
import { decodeAedat, encodeAedat2, encodeAedat31 } from '../src/data/aedat.js';
import { CIFAR10_DVS_CLASSES, listCifar10Dvs, readCifar10DvsEvents } from '../src/data/cifar10Dvs.js';
import { eventBatches } from '../src/data/eventLoader.js';
import { frameIndices, integrate, type FrameSpec } from '../src/data/frames.js';
import { batches } from '../src/data/loader.js';
import { createPrefetcher } from '../bench/loader/prefetch.js';
import { loadEventDataset } from '../src/data/registry.js';
import { splitSamples, type Sample } from '../src/data/split.js';
import { makeSynthetic } from '../src/data/synthetic.js';
import type { EventFrameSet } from '../src/data/types.js';
import { UserError } from '../src/util/errors.js';
import { createRng } from '../src/util/rng.js';
import { tempDir } from './helpers.js';

import { aedat2, writeDvsFolder, type RawEvent } from './dvsKit.js';

const tmp = tempDir('dvs');
after(() => rmSync(tmp, { recursive: true, force: true }));

const userError = (...parts: (string | RegExp)[]) => (e: unknown): boolean => {
  assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
  for (const p of parts) assert.match(e.message, typeof p === 'string' ? new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : p);
  assert.ok(!e.message.includes('\n'), 'one line');
  return true;
};

describe('AEDAT decoding', () => {
  const raw: RawEvent[] = [
    { x: 0, y: 0, p: 1, t: 100 },
    { x: 127, y: 0, p: 0, t: 250 },
    { x: 5, y: 127, p: 1, t: 4_000_000_000 },
    { x: 64, y: 33, p: 0, t: 4_000_000_001 },
  ];

  test('AEDAT 2.0 as published: big-endian address (x bits 1-7, y bits 8-14, p bit 0) and timestamp', () => {
    const ev = decodeAedat(aedat2(raw), 'a.aedat');
    assert.equal(ev.version, '2.0');
    assert.equal(ev.count, 4);
    assert.deepEqual(Array.from(ev.x), [0, 127, 5, 64]);
    assert.deepEqual(Array.from(ev.y), [0, 0, 127, 33]);
    assert.deepEqual(Array.from(ev.p), [1, 0, 1, 0]);
    assert.deepEqual(Array.from(ev.t), [100, 250, 4_000_000_000, 4_000_000_001]);
  });

  test('the library encoder writes what the decoder reads', () => {
    const bytes = encodeAedat2({ x: raw.map((e) => e.x), y: raw.map((e) => e.y), p: raw.map((e) => e.p), t: raw.map((e) => e.t) });
    assert.deepEqual(Buffer.from(bytes).subarray(bytes.length - 32), aedat2(raw).subarray(aedat2(raw).length - 32));
  });

  test('CIFAR10-DVS orientation as SpikingJelly: x = 127 - y, y = 127 - x, p = 1 - p', async () => {
    const file = join(tmp, 'orient.aedat');
    writeFileSync(file, aedat2(raw));
    const ev = await readCifar10DvsEvents(file);
    assert.deepEqual(Array.from(ev.x), [127, 127, 0, 94]);
    assert.deepEqual(Array.from(ev.y), [127, 0, 122, 63]);
    assert.deepEqual(Array.from(ev.p), [0, 1, 0, 1]);
  });

  test('AEDAT 3.1 polarity packets: valid bit, x bits 17-31, y bits 2-16, overflow', () => {
    const bytes = encodeAedat31(
      { x: [3, 200, 7], y: [4, 100, 9], p: [1, 0, 1], t: [10, 20, 30] },
      { overflow: 2, invalid: new Set([2]) },
    );
    const ev = decodeAedat(bytes, 'b.aedat');
    assert.equal(ev.version, '3.1');
    assert.deepEqual(Array.from(ev.x), [3, 200]);
    assert.deepEqual(Array.from(ev.y), [4, 100]);
    assert.deepEqual(Array.from(ev.p), [1, 0]);
    assert.deepEqual(Array.from(ev.t), [2 * 2 ** 31 + 10, 2 * 2 ** 31 + 20]);
  });

  test('a truncated event file is a one-line error naming it', () => {
    const cut = aedat2(raw).subarray(0, aedat2(raw).length - 3);
    assert.throws(() => decodeAedat(cut, 'cut.aedat'), userError('cut.aedat is truncated'));
    const cut3 = encodeAedat31({ x: [1, 2], y: [1, 2], p: [0, 1], t: [1, 2] }).subarray(0, -5);
    assert.throws(() => decodeAedat(cut3, 'cut3.aedat'), userError('cut3.aedat is truncated'));
  });

  test('an unsupported version is named', () => {
    assert.throws(() => decodeAedat(Buffer.from('#!AER-DAT1.0\r\n'), 'old.aedat'), userError('AEDAT 1.0'));
  });
});

describe('integration into frames', () => {
  // Seven events; (x, y, p) already oriented. Times chosen so the two modes differ.
  const xs = [1, 1, 2, 1, 3, 3, 0];
  const ys = [0, 0, 1, 0, 2, 2, 3];
  const ps = [1, 1, 0, 0, 1, 1, 0];
  const ts = [0, 10, 20, 30, 40, 50, 95];
  const ev = { x: Uint16Array.from(xs), y: Uint16Array.from(ys), p: Uint8Array.from(ps), t: Float64Array.from(ts), count: 7 };
  const spec = (splitBy: 'number' | 'time', size = 4): FrameSpec => ({ frames: 3, splitBy, sensorHeight: 4, sensorWidth: 4, height: size, width: size });
  const at = (f: number, y: number, x: number, p: number, size = 4): number => ((f * size + y) * size + x) * 2 + p;

  test('split by number: floor(7/3) = 2 events per frame, the last takes the remainder', () => {
    assert.deepEqual(Array.from(frameIndices(ev, 3, 'number')), [0, 0, 1, 1, 2, 2, 2]);
    const fr = integrate(ev, spec('number'));
    assert.equal(fr.length, 3 * 4 * 4 * 2);
    const expected = new Uint16Array(fr.length);
    expected[at(0, 0, 1, 1)] = 2; // events 0, 1
    expected[at(1, 1, 2, 0)] = 1; // event 2
    expected[at(1, 0, 1, 0)] = 1; // event 3
    expected[at(2, 2, 3, 1)] = 2; // events 4, 5
    expected[at(2, 3, 0, 0)] = 1; // event 6
    assert.deepEqual(fr, expected);
  });

  test('split by time: frames of floor(95/3) = 31 us from the first event, the last takes the end', () => {
    assert.deepEqual(Array.from(frameIndices(ev, 3, 'time')), [0, 0, 0, 0, 1, 1, 2]);
    const fr = integrate(ev, spec('time'));
    const expected = new Uint16Array(fr.length);
    expected[at(0, 0, 1, 1)] = 2;
    expected[at(0, 1, 2, 0)] = 1;
    expected[at(0, 0, 1, 0)] = 1;
    expected[at(1, 2, 3, 1)] = 2;
    expected[at(2, 3, 0, 0)] = 1;
    assert.deepEqual(fr, expected);
  });

  test('fewer events than frames, or no time span: everything lands in the last frame', () => {
    const two = { ...ev, count: 2, t: Float64Array.from([5, 5]) };
    assert.deepEqual(Array.from(frameIndices(two, 3, 'number')), [2, 2]);
    assert.deepEqual(Array.from(frameIndices(two, 3, 'time')), [2, 2]);
  });

  test('downscaling bins coordinates: 4 -> 2 sums 2x2 blocks', () => {
    const fr = integrate(ev, spec('number', 2));
    const expected = new Uint16Array(3 * 2 * 2 * 2);
    expected[at(0, 0, 0, 1, 2)] = 2;
    expected[at(1, 0, 1, 0, 2)] = 1; // (2, 1) -> (1, 0)
    expected[at(1, 0, 0, 0, 2)] = 1;
    expected[at(2, 1, 1, 1, 2)] = 2;
    expected[at(2, 1, 0, 0, 2)] = 1;
    assert.deepEqual(fr, expected);
    const total = (a: Uint16Array): number => a.reduce((s, v) => s + v, 0);
    assert.equal(total(fr), 7);
  });

  test('128 -> 48 takes floor(x * 48 / 128): bins of 3, 3, 2 pixels', () => {
    const one = (x: number): number => {
      const e = { x: Uint16Array.of(x), y: Uint16Array.of(0), p: Uint8Array.of(0), t: Float64Array.of(0), count: 1 };
      const fr = integrate(e, { frames: 1, splitBy: 'number', sensorHeight: 128, sensorWidth: 128, height: 48, width: 48 });
      return fr.indexOf(1) / 2;
    };
    assert.deepEqual([0, 2, 3, 5, 6, 7, 8, 127].map(one), [0, 0, 1, 1, 2, 2, 3, 47]);
  });
});

describe('split', () => {
  const samples: Sample[] = [];
  for (let c = 0; c < 3; c++) for (let i = 0; i < 20; i++) samples.push({ file: `c${c}/s_${i}.aedat`, label: c, index: i });

  test('seeded: class-balanced 9:1, reproducible, independent of input order, changes with the seed', () => {
    const a = splitSamples(samples, 3, 'seeded', 0);
    const b = splitSamples([...samples].reverse(), 3, 'seeded', 0);
    assert.equal(a.hash, b.hash);
    assert.deepEqual(a.test, b.test);
    for (let c = 0; c < 3; c++) {
      assert.equal(a.test.filter((s) => s.label === c).length, 2);
      assert.equal(a.train.filter((s) => s.label === c).length, 18);
    }
    const all = new Set([...a.train, ...a.test].map((s) => s.file));
    assert.equal(all.size, 60);
    assert.notEqual(splitSamples(samples, 3, 'seeded', 1).hash, a.hash);
    // Round-robin order: the first three of each split are one per class.
    assert.deepEqual(a.train.slice(0, 3).map((s) => s.label), [0, 1, 2]);
  });

  test('the seeded split is pinned: the same files on every machine', () => {
    const a = splitSamples(samples, 3, 'seeded', 0);
    assert.deepEqual(a.test.map((s) => s.file), ['c0/s_9.aedat', 'c1/s_19.aedat', 'c2/s_10.aedat', 'c0/s_18.aedat', 'c1/s_11.aedat', 'c2/s_3.aedat']);
    assert.equal(a.hash, '227cdc991edffc3a44f949d6df472af05f8b6757e93a775ebbbadbd2dc7c7b11');
  });

  test('the published CIFAR10-DVS file names give the documented split hashes', () => {
    const real: Sample[] = [];
    CIFAR10_DVS_CLASSES.forEach((c, label) => {
      for (let i = 0; i < 1000; i++) real.push({ file: `${c}/cifar10_${c}_${i}.aedat`, label, index: i });
    });
    const seeded = splitSamples(real, 10, 'seeded', 0);
    assert.equal(seeded.hash, '319d27b2c65daf3409a5cc30d3203138e044330601d0cb3f388a79f33afd632f');
    assert.deepEqual([seeded.train.length, seeded.test.length], [9000, 1000]);
    assert.equal(splitSamples(real, 10, 'tebn', 0).hash, '428d78d33bed8c8306cd65e07c453f10c7cfdb7ad9181478d56650c2c03a7325');
  });

  test('tebn: samples 0-99 of each class are the test set', () => {
    const big: Sample[] = [];
    for (let c = 0; c < 2; c++) for (let i = 0; i < 150; i++) big.push({ file: `c${c}/s_${i}.aedat`, label: c, index: i });
    const s = splitSamples(big, 2, 'tebn', 0);
    assert.equal(s.test.length, 200);
    assert.ok(s.test.every((x) => x.index < 100));
    assert.ok(s.train.every((x) => x.index >= 100));
  });
});

function dvsConfig(root: string, over: Record<string, unknown> = {}): DataConfig {
  return DataSchema.parse({ dataset: 'cifar10-dvs', root, dvs: { frames: 3, size: 16, ...over } });
}

describe('CIFAR10-DVS folder, cache and split', () => {
  const root = join(tmp, 'cifar10-dvs');
  writeDvsFolder(root, 10);

  test('lists every sample in label, then number order', () => {
    const s = listCifar10Dvs(root);
    assert.equal(s.length, 100);
    assert.deepEqual(s.slice(0, 3).map((x) => x.file), ['airplane/cifar10_airplane_0.aedat', 'airplane/cifar10_airplane_1.aedat', 'airplane/cifar10_airplane_2.aedat']);
    assert.equal(s[10].file, 'automobile/cifar10_automobile_0.aedat');
  });

  test('frames are built once into the cache, then read from it; the split is recorded', async () => {
    let builds = 0;
    const cfg = dvsConfig(root);
    const a = await loadEventDataset(cfg, { onBuild: () => builds++ });
    assert.equal(builds, 1);
    assert.equal(a.train.count + a.test.count, 100);
    assert.equal(a.test.count, 10);
    assert.deepEqual([a.train.timesteps, a.train.height, a.train.width, a.train.channels], [3, 16, 16, 2]);
    assert.equal(a.train.frames.length, a.train.count * 3 * 16 * 16 * 2);
    const cacheFiles = readdirSync(join(root, '.snn-frames'));
    assert.equal(cacheFiles.filter((f) => f.endsWith('.frames')).length, 1);
    const splitJson = JSON.parse(readFileSync(a.split.file, 'utf8')) as { hash: string; test: string[] };
    assert.equal(splitJson.hash, a.split.hash);
    assert.equal(splitJson.test.length, 10);
    const mtime = statSync(a.cache).mtimeMs;
    const b = await loadEventDataset(cfg, { onBuild: () => builds++ });
    assert.equal(builds, 1, 'second load reads the cache');
    assert.equal(statSync(b.cache).mtimeMs, mtime);
    assert.deepEqual(b.train.frames, a.train.frames);
    assert.equal(b.split.hash, a.split.hash);
    // Each sample's frames equal integrating its own file directly.
    const first = join(root, splitJson.test[0]);
    const ev = await readCifar10DvsEvents(first);
    const direct = integrate(ev, { frames: 3, splitBy: 'number', sensorHeight: 128, sensorWidth: 128, height: 16, width: 16 });
    assert.deepEqual(b.test.frames.subarray(0, direct.length), direct);
    assert.equal(b.test.labels[0], CIFAR10_DVS_CLASSES.indexOf(splitJson.test[0].split('/')[0]));
  });

  test('other parameters get another cache file; limits keep classes balanced', async () => {
    const c = await loadEventDataset({ ...dvsConfig(root, { splitBy: 'time', frames: 2 }), trainLimit: 20 });
    assert.match(c.cache, /T2-time-16px/);
    assert.equal(c.train.count, 20);
    assert.deepEqual(Array.from(c.train.labels.subarray(0, 10)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('a truncated event file fails the build in one line, and leaves no cache', async () => {
    const bad = join(tmp, 'dvs-bad');
    writeDvsFolder(bad, 2);
    const victim = join(bad, 'cat', 'cifar10_cat_1.aedat');
    writeFileSync(victim, readFileSync(victim).subarray(0, -4));
    await assert.rejects(loadEventDataset(dvsConfig(bad)), userError('cifar10_cat_1.aedat is truncated'));
    assert.deepEqual(readdirSync(join(bad, '.snn-frames')), []);
  });
});

function frameSetOf(count: number, T: number, h: number, w: number): EventFrameSet {
  const frames = new Uint16Array(count * T * h * w * 2);
  for (let i = 0; i < frames.length; i++) frames[i] = (i * 7) % 1000;
  return { frames, labels: Uint8Array.from({ length: count }, (_, i) => i % 10), count, timesteps: T, height: h, width: w, channels: 2, numClasses: 10 };
}

describe('event batches', () => {
  test('time-major [T, N, H, W, 2] raw counts', () => {
    const set = frameSetOf(5, 3, 4, 4);
    const [b0, b1] = [...eventBatches(set, { batchSize: 3, shuffle: false, rng: null, augment: [], cropPadding: 0, dropLast: false })];
    assert.equal(b0.size, 3);
    assert.equal(b1.size, 2);
    const plane = 4 * 4 * 2;
    // Frame t of sample n of the batch starts at (t * N + n) * plane.
    for (const [t, n] of [[0, 0], [2, 1], [1, 2]]) {
      const src = (n * 3 + t) * plane;
      assert.deepEqual(Array.from(b0.x.subarray((t * 3 + n) * plane, (t * 3 + n + 1) * plane)), Array.from(set.frames.subarray(src, src + plane)));
    }
    assert.deepEqual(Array.from(b1.y), [3, 4]);
  });

  test('roll shifts every frame of a sample circularly by the same amount; flip mirrors x', () => {
    const set = frameSetOf(1, 2, 3, 4);
    const rng = createRng(3);
    const [b] = [...eventBatches(set, { batchSize: 1, shuffle: false, rng, augment: ['roll', 'flip'], cropPadding: 2, dropLast: false })];
    // Recover the shift and flip by search, then check all frames follow it.
    const value = (t: number, y: number, x: number, c: number): number => set.frames[((t * 3 + y) * 4 + x) * 2 + c];
    let matched = 0;
    for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) for (const flip of [false, true]) {
      let ok = true;
      for (let t = 0; t < 2 && ok; t++) for (let y = 0; y < 3 && ok; y++) for (let x = 0; x < 4 && ok; x++) for (let c = 0; c < 2; c++) {
        const sx = ((((flip ? 3 - x : x) + dx) % 4) + 4) % 4;
        const sy = (((y + dy) % 3) + 3) % 3;
        if (b.x[((t * 3 + y) * 4 + x) * 2 + c] !== value(t, sy, sx, c)) ok = false;
      }
      if (ok) matched++;
    }
    assert.ok(matched >= 1, 'the output is a roll (and maybe flip) of the input');
  });

  test('crop and roll together are refused', () => {
    assert.throws(() => eventBatches(frameSetOf(1, 1, 2, 2), { batchSize: 1, shuffle: false, rng: createRng(1), augment: ['crop', 'roll'], cropPadding: 1, dropLast: false }), userError('crop and roll'));
  });
});

describe('prefetch worker', () => {
  test('image batches equal the synchronous loader, and the rng advances the same', async () => {
    const { train } = makeSynthetic({ classes: 4, train: 70, test: 4, height: 8, width: 8, channels: 3, noise: 0.2 }, 5);
    const opts = (rng: ReturnType<typeof createRng>) => ({ batchSize: 16, shuffle: true, rng, augment: ['crop', 'flip'] as ('crop' | 'flip')[], cropPadding: 2, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], dropLast: false });
    const r1 = createRng(9);
    const r2 = createRng(9);
    const sync = [...batches(train, opts(r1))];
    const pf = createPrefetcher(2);
    try {
      const got = [];
      for await (const b of pf.images(train, opts(r2))) got.push(b);
      assert.equal(got.length, sync.length);
      got.forEach((b, i) => {
        assert.deepEqual(b.x, sync[i].x);
        assert.deepEqual(b.y, sync[i].y);
      });
      assert.deepEqual(r2.state(), r1.state());
      // A second epoch, abandoned early, then a third that completes.
      for await (const b of pf.images(train, opts(r2))) {
        assert.ok(b.size > 0);
        break;
      }
      let n = 0;
      for await (const _ of pf.images(train, opts(r2))) n++;
      assert.equal(n, sync.length);
    } finally {
      await pf.close();
    }
  });

  test('event batches equal the synchronous loader', async () => {
    const set = frameSetOf(13, 3, 6, 6);
    const opts = (seed: number) => ({ batchSize: 4, shuffle: true, rng: createRng(seed), augment: ['roll', 'flip'] as ('roll' | 'flip')[], cropPadding: 2, dropLast: true });
    const sync = [...eventBatches(set, opts(2))];
    const pf = createPrefetcher(3);
    try {
      const got = [];
      for await (const b of pf.events(set, opts(2))) got.push(b);
      assert.equal(got.length, 3);
      got.forEach((b, i) => {
        assert.deepEqual(b.x, sync[i].x);
        assert.deepEqual(b.y, sync[i].y);
        assert.equal(b.timesteps, 3);
      });
    } finally {
      await pf.close();
    }
  });
});
