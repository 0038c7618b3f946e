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
import { augmentImage, checkAugment, planAugment, type AugmentKind, type AugmentPlan } from './augment.js';
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

export function check(set: ImageSet, o: BatchOptions): void {
  if (!Number.isInteger(o.batchSize) || o.batchSize <= 0) throw new Error(`batchSize must be a positive integer, got ${o.batchSize}`);
  if (o.mean.length !== set.channels || o.std.length !== set.channels) {
    throw new Error(`mean and std need ${set.channels} values (one per channel), got ${o.mean.length} and ${o.std.length}`);
  }
  if (o.std.some((s) => !(s > 0))) throw new Error(`std must be positive, got ${o.std.join(', ')}`);
  if ((o.shuffle || o.augment.length > 0) && o.rng === null) throw new Error('shuffle and augment need an rng');
  if (!Number.isInteger(o.cropPadding) || o.cropPadding < 0) throw new Error(`cropPadding must be a non-negative integer, got ${o.cropPadding}`);
  checkAugment(o.augment);
}

/** The epoch's draws: the order (null: in order) and the augmentation plan (null: none). */
export interface EpochPlan {
  order: Int32Array | null;
  plan: AugmentPlan | null;
}

/** Draws the epoch's randomness, permutation first, exactly as `batches` does. */
export function planEpoch(count: number, o: Pick<BatchOptions, 'shuffle' | 'rng' | 'augment' | 'cropPadding'>): EpochPlan {
  const order = o.shuffle && o.rng ? permutation(count, o.rng) : null;
  const plan = o.augment.length > 0 && o.rng ? planAugment(count, o.augment, o.cropPadding, o.rng) : null;
  return { order, plan };
}

/** The epoch's batches; all randomness is drawn by this call, before the first batch. */
export function batches(set: ImageSet, opts: BatchOptions): Generator<Batch> {
  check(set, opts);
  return generate(set, opts, planEpoch(set.count, opts));
}

/** Scratch state reused across the batches of an epoch. */
export interface ImageBatcher {
  lut: Float32Array;
  scratch: Uint8Array;
  wrap: boolean;
}

export function imageBatcher(set: ImageSet, o: Pick<BatchOptions, 'mean' | 'std' | 'augment'>): ImageBatcher {
  return {
    lut: normalisationTable(o.mean, o.std),
    scratch: new Uint8Array(set.height * set.width * set.channels),
    wrap: o.augment.includes('roll'),
  };
}

/** Batch number `b` of an epoch: deterministic given the plan (used by the prefetch worker too). */
export function imageBatch(set: ImageSet, batchSize: number, epoch: EpochPlan, b: number, k: ImageBatcher): Batch {
  const { height: h, width: w, channels: c } = set;
  const size = h * w * c;
  const { order, plan } = epoch;
  const { lut, scratch } = k;
  const start = b * batchSize;
  const bs = Math.min(batchSize, set.count - start);
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
      augmentImage(set.images, off, scratch, 0, h, w, c, plan.dy[pos], plan.dx[pos], plan.flip[pos] === 1, k.wrap);
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
  return { x, y, size: bs };
}

function* generate(set: ImageSet, o: BatchOptions, epoch: EpochPlan): Generator<Batch> {
  const k = imageBatcher(set, o);
  const n = batchCount(set.count, o.batchSize, o.dropLast);
  for (let b = 0; b < n; b++) yield imageBatch(set, o.batchSize, epoch, b, k);
}
