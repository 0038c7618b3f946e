/** The batch loader and augmentation: shapes, order, reproducibility, normalisation, crop/flip geometry. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { augmentImage } from '../src/data/augment.js';
import { batchCount, batches, type BatchOptions } from '../src/data/loader.js';
import type { Batch, ImageSet } from '../src/data/types.js';
import { createRng, restoreRng } from '../src/util/rng.js';

/** `count` images of h x w x c whose bytes are all non-zero; image i's first byte is i + 1. */
function makeSet(count: number, h: number, w: number, c: number): ImageSet {
  const size = h * w * c;
  const images = new Uint8Array(count * size);
  for (let i = 0; i < count; i++) {
    for (let p = 0; p < size; p++) images[i * size + p] = p === 0 ? i + 1 : 1 + ((i * 31 + p * 7) % 255);
  }
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { images, labels, count, height: h, width: w, channels: c, numClasses: 10 };
}

function opts(over: Partial<BatchOptions>): BatchOptions {
  return { batchSize: 4, shuffle: false, rng: null, augment: [], cropPadding: 0, mean: [0], std: [1], dropLast: false, ...over };
}

/** Back from x = v / 255 (mean 0, std 1) to bytes. */
function toBytes(x: Float32Array): Uint8Array {
  return Uint8Array.from(x, (v) => Math.round(v * 255));
}

describe('loader', () => {
  const set = makeSet(10, 3, 2, 1);

  test('batch shapes, the last partial batch and dropLast', () => {
    const all = [...batches(set, opts({}))];
    assert.deepEqual(all.map((b) => b.size), [4, 4, 2]);
    assert.deepEqual(all.map((b) => b.x.length), [24, 24, 12]);
    assert.deepEqual(Array.from(all[2].y), [8, 9]);
    assert.equal(batchCount(10, 4, false), 3);
    const dropped = [...batches(set, opts({ dropLast: true }))];
    assert.deepEqual(dropped.map((b) => b.size), [4, 4]);
    assert.equal(batchCount(10, 4, true), 2);
    assert.equal(batchCount(8, 4, false), 2);
    assert.equal([...batches(set, opts({ batchSize: 5, dropLast: true }))].length, 2);
  });

  test('unshuffled batches are the images in order, unchanged', () => {
    const x = Float32Array.from([...batches(set, opts({}))].flatMap((b) => Array.from(b.x)));
    assert.deepEqual(toBytes(x), set.images);
  });

  test('shuffle is a permutation, and labels follow their images', () => {
    const seen: number[] = [];
    for (const b of batches(set, opts({ shuffle: true, rng: createRng(5) }))) {
      for (let i = 0; i < b.size; i++) {
        const id = Math.round(b.x[i * 6] * 255) - 1;
        seen.push(id);
        assert.equal(b.y[i], set.labels[id]);
      }
    }
    assert.notDeepEqual(seen, [...Array(10).keys()]);
    assert.deepEqual([...seen].sort((a, b) => a - b), [...Array(10).keys()]);
  });

  test('the same rng state gives the same epoch, however far the last one was consumed', () => {
    const big = makeSet(40, 6, 6, 3);
    const o = (rng: ReturnType<typeof createRng>): BatchOptions =>
      opts({ shuffle: true, rng, augment: ['crop', 'flip'], cropPadding: 2, mean: [0.1, 0.2, 0.3], std: [0.5, 0.6, 0.7] });
    const rng = createRng(11);
    const saved = rng.state();
    const first = batches(big, o(rng));
    first.next(); // consume one batch only
    const after = rng.state();
    const replay = [...batches(big, o(restoreRng(saved)))];
    const again = [...batches(big, o(restoreRng(saved)))];
    assert.deepEqual(replay, again);
    const r2 = restoreRng(saved);
    [...batches(big, o(r2))];
    assert.deepEqual(r2.state(), after, 'all draws happen when the epoch starts');
    const other = [...batches(big, o(createRng(12)))];
    assert.notDeepEqual(other[0].x, replay[0].x);
  });

  test('normalisation is (v / 255 - mean) / std per channel', () => {
    const rgb = makeSet(3, 2, 2, 3);
    const mean = [0.5, 0.25, 0.1];
    const std = [0.2, 0.4, 0.3];
    const [b] = [...batches(rgb, opts({ batchSize: 3, mean, std }))];
    for (let i = 0; i < rgb.images.length; i++) {
      const expected = Math.fround((rgb.images[i] / 255 - mean[i % 3]) / std[i % 3]);
      assert.equal(b.x[i], expected);
    }
  });

  test('option errors are caught', () => {
    assert.throws(() => batches(set, opts({ shuffle: true })), /need an rng/);
    assert.throws(() => batches(set, opts({ mean: [0, 0] })), /one per channel/);
    assert.throws(() => batches(set, opts({ batchSize: 0 })), /batchSize/);
  });
});

/** Pixel (y, x, ch) of image `i` in an HWC byte set. */
function px(s: ImageSet, i: number, y: number, x: number, ch: number): number {
  return s.images[((i * s.height + y) * s.width + x) * s.channels + ch];
}

/** Image `id` of `s` shifted by (dy, dx) after an optional mirror, 0 outside: what augmentation should give. */
function reference(s: ImageSet, id: number, dy: number, dx: number, flip: boolean): Uint8Array {
  const { height: h, width: w, channels: c } = s;
  const out = new Uint8Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sy = y + dy;
      const sx = (flip ? w - 1 - x : x) + dx;
      if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
      for (let ch = 0; ch < c; ch++) out[(y * w + x) * c + ch] = px(s, id, sy, sx, ch);
    }
  }
  return out;
}

/** The crop offset (within the padding) and flip that turn image `id` into `got`, or null. */
function explain(s: ImageSet, id: number, got: Uint8Array, pad: number): { dy: number; dx: number; flip: boolean } | null {
  for (const flip of [false, true]) {
    for (let dy = -pad; dy <= pad; dy++) {
      for (let dx = -pad; dx <= pad; dx++) {
        if (reference(s, id, dy, dx, flip).every((v, i) => v === got[i])) return { dy, dx, flip };
      }
    }
  }
  return null;
}

describe('augment', () => {
  test('flip mirrors the image exactly', () => {
    const s = makeSet(1, 3, 5, 3);
    const out = new Uint8Array(45);
    augmentImage(s.images, 0, out, 0, 3, 5, 3, 0, 0, true);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 5; x++) for (let ch = 0; ch < 3; ch++) {
      assert.equal(out[(y * 5 + x) * 3 + ch], px(s, 0, y, 4 - x, ch));
    }
  });

  test('crop shifts content and fills zeros, for every offset, inside and past the edges', () => {
    const s = makeSet(1, 4, 5, 2);
    const out = new Uint8Array(40);
    for (const flip of [false, true]) {
      for (let dy = -5; dy <= 5; dy++) {
        for (let dx = -6; dx <= 6; dx++) {
          out.fill(99);
          augmentImage(s.images, 0, out, 0, 4, 5, 2, dy, dx, flip);
          assert.deepEqual(out, reference(s, 0, dy, dx, flip), `dy ${dy} dx ${dx} flip ${flip}`);
        }
      }
    }
  });

  test('augmentImage reads and writes at the given offsets', () => {
    const s = makeSet(3, 2, 3, 1);
    const out = new Uint8Array(20).fill(7);
    augmentImage(s.images, 12, out, 4, 2, 3, 1, 0, 1, false);
    assert.deepEqual(Array.from(out.subarray(0, 4)), [7, 7, 7, 7]);
    assert.deepEqual(out.subarray(4, 10), reference(s, 2, 0, 1, false));
    assert.deepEqual(Array.from(out.subarray(10)), Array(10).fill(7));
  });

  test('in the loader, crop moves content by at most the padding and pads with normalised zero', () => {
    const s = makeSet(60, 6, 7, 1);
    const pad = 2;
    const mean = [0.3];
    const std = [0.5];
    const zero = Math.fround(-0.3 / 0.5);
    const shifts = new Set<string>();
    let flips = 0;
    let k = 0;
    const run: Batch[] = [...batches(s, opts({ batchSize: 16, rng: createRng(3), augment: ['crop', 'flip'], cropPadding: pad, mean, std }))];
    for (const b of run) {
      for (let i = 0; i < b.size; i++, k++) {
        const img = b.x.subarray(i * 42, (i + 1) * 42);
        const bytes = Uint8Array.from(img, (v) => (v === zero ? 0 : Math.round((v * 0.5 + 0.3) * 255)));
        const e = explain(s, k, bytes, pad);
        assert.ok(e, `image ${k} is not a crop/flip of its source`);
        shifts.add(`${e.dy},${e.dx}`);
        if (e.flip) flips++;
        // Padded pixels are exactly the normalised zero.
        for (let p = 0; p < 42; p++) if (bytes[p] === 0) assert.equal(img[p], zero);
      }
    }
    assert.ok(shifts.size > 10, `only ${shifts.size} distinct offsets`);
    assert.ok(flips > 15 && flips < 45, `${flips} of 60 flipped`);
  });
});
