/**
 * Mini-batches from an ImageSet: optional shuffle and augmentation, then normalisation to
 * float32 through a per-channel lookup table (256 entries per channel, so no per-pixel maths).
 *
 * Every random draw of an epoch (the permutation, then each image's augmentation choices) is
 * made when `batches` is called, in that fixed order. Restoring the rng to the state it had
 * before the call therefore replays the epoch exactly, however many batches were consumed.
 * The rng should serve the data alone, or the draws of other users would interleave.
 */
import { permutation, type Rng } from '../util/rng.js';
import { augmentImage, planAugment, type AugmentKind, type AugmentPlan } from './augment.js';
import type { Batch, ImageSet } from './types.js';

export interface BatchOptions {
  batchSize: number;
  shuffle: boolean;
  /** Needed when shuffling or augmenting; null otherwise. */
  rng: Rng | null;
  augment: readonly AugmentKind[];
  /** Zero padding per side before a random crop (used with 'crop'). */
  cropPadding: number;
  mean: number[];
  std: number[];
  /** Skip the last batch if it is smaller than batchSize. */
  dropLast: boolean;
}

export function batchCount(count: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/** lut[ch * 256 + v] = (v / 255 - mean[ch]) / std[ch]. */
export function normalisationTable(mean: readonly number[], std: readonly number[]): Float32Array {
  const lut = new Float32Array(mean.length * 256);
  for (let ch = 0; ch < mean.length; ch++) {
    for (let v = 0; v < 256; v++) lut[ch * 256 + v] = (v / 255 - mean[ch]) / std[ch];
  }
  return lut;
}

function check(set: ImageSet, o: BatchOptions): void {
  if (!Number.isInteger(o.batchSize) || o.batchSize <= 0) throw new Error(`batchSize must be a positive integer, got ${o.batchSize}`);
  if (o.mean.length !== set.channels || o.std.length !== set.channels) {
    throw new Error(`mean and std need ${set.channels} values (one per channel), got ${o.mean.length} and ${o.std.length}`);
  }
  if (o.std.some((s) => !(s > 0))) throw new Error(`std must be positive, got ${o.std.join(', ')}`);
  if ((o.shuffle || o.augment.length > 0) && o.rng === null) throw new Error('shuffle and augment need an rng');
  if (!Number.isInteger(o.cropPadding) || o.cropPadding < 0) throw new Error(`cropPadding must be a non-negative integer, got ${o.cropPadding}`);
}

/** The epoch's batches; all randomness is drawn by this call, before the first batch. */
export function batches(set: ImageSet, opts: BatchOptions): Generator<Batch> {
  check(set, opts);
  const order = opts.shuffle && opts.rng ? permutation(set.count, opts.rng) : null;
  const plan = opts.augment.length > 0 && opts.rng ? planAugment(set.count, opts.augment, opts.cropPadding, opts.rng) : null;
  return generate(set, opts, order, plan);
}

function* generate(set: ImageSet, o: BatchOptions, order: Int32Array | null, plan: AugmentPlan | null): Generator<Batch> {
  const { height: h, width: w, channels: c } = set;
  const size = h * w * c;
  const lut = normalisationTable(o.mean, o.std);
  const scratch = new Uint8Array(size);
  const n = batchCount(set.count, o.batchSize, o.dropLast);
  for (let b = 0; b < n; b++) {
    const start = b * o.batchSize;
    const bs = Math.min(o.batchSize, set.count - start);
    // Fresh arrays per batch: a consumer may keep a batch while pulling the next.
    const x = new Float32Array(bs * size);
    const y = new Int32Array(bs);
    for (let i = 0; i < bs; i++) {
      const pos = start + i;
      const idx = order ? order[pos] : pos;
      y[i] = set.labels[idx];
      let src = set.images;
      let off = idx * size;
      if (plan) {
        augmentImage(set.images, off, scratch, 0, h, w, c, plan.dy[pos], plan.dx[pos], plan.flip[pos] === 1);
        src = scratch;
        off = 0;
      }
      const out = i * size;
      // Channel by channel with a stride: a tight loop with one table base per pass.
      for (let ch = 0; ch < c; ch++) {
        const base = ch << 8;
        for (let p = ch; p < size; p += c) x[out + p] = lut[base | src[off + p]];
      }
    }
    yield { x, y, size: bs };
  }
}
