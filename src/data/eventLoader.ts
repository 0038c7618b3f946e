/**
 * Mini-batches of event frames for a model that takes a time dimension.
 *
 * A batch's `x` is float32 in time-major layout [T, N, H, W, 2]: frame t of sample n starts at
 * ((t * N + n) * H * W * 2). That is SpikingJelly's [T, N, ...] convention, and a model can view
 * it as [T*N, H, W, 2] for its first convolution without moving data. Values are the raw event
 * counts (no normalisation, as SpikingJelly's frames).
 *
 * Randomness follows loader.ts: the permutation, then each sample's augmentation (crop or roll
 * shift, flip), all drawn when `eventBatches` is called; one shift and flip applies to all T
 * frames of a sample, as the DVS augmentations in the literature do.
 */
import { batchCount, planEpoch, type BatchOptions, type EpochPlan } from './loader.js';
import type { EventFrameSet } from './types.js';

export type EventBatchOptions = Pick<BatchOptions, 'batchSize' | 'shuffle' | 'rng' | 'augment' | 'cropPadding' | 'dropLast'>;

export interface EventBatch {
  /** [T, N, H, W, 2] float32 counts. */
  x: Float32Array;
  y: Int32Array;
  /** N, the samples in this batch. */
  size: number;
  /** T. */
  timesteps: number;
}

export function checkEventOptions(set: EventFrameSet, o: EventBatchOptions): void {
  if (!Number.isInteger(o.batchSize) || o.batchSize <= 0) throw new Error(`batchSize must be a positive integer, got ${o.batchSize}`);
  if ((o.shuffle || o.augment.length > 0) && o.rng === null) throw new Error('shuffle and augment need an rng');
  const expected = set.count * set.timesteps * set.height * set.width * set.channels;
  if (set.frames.length !== expected) throw new Error(`frames hold ${set.frames.length} values, expected ${expected}`);
}

export interface EventBatcher {
  /** Source row of each output row for the current sample (-1: outside, left at 0). */
  rows: Int32Array;
  /** Source column of each output column for the current sample (-1: outside). */
  cols: Int32Array;
  wrap: boolean;
}

export function eventBatcher(set: EventFrameSet, o: Pick<EventBatchOptions, 'augment'>): EventBatcher {
  return { rows: new Int32Array(set.height), cols: new Int32Array(set.width), wrap: o.augment.includes('roll') };
}

/** Where each output row and column of a sample reads from, for its shift and flip. */
function sourceMaps(k: EventBatcher, h: number, w: number, dy: number, dx: number, flip: boolean): void {
  for (let y = 0; y < h; y++) {
    const sy = y + dy;
    k.rows[y] = k.wrap ? ((sy % h) + h) % h : sy >= 0 && sy < h ? sy : -1;
  }
  for (let x = 0; x < w; x++) {
    const sx = (flip ? w - 1 - x : x) + dx;
    k.cols[x] = k.wrap ? ((sx % w) + w) % w : sx >= 0 && sx < w ? sx : -1;
  }
}

/**
 * Batch number `b` of an epoch (deterministic given the plan; the prefetch worker runs it too).
 * The shift and flip of a sample are resolved once into row and column maps shared by its T
 * frames; unflipped rows are copied as contiguous runs (converted to float natively by `set`).
 */
export function eventBatch(set: EventFrameSet, batchSize: number, epoch: EpochPlan, b: number, k: EventBatcher): EventBatch {
  const { timesteps: T, height: h, width: w, channels: c, frames } = set;
  const plane = h * w * c;
  const row = w * c;
  const sample = T * plane;
  const start = b * batchSize;
  const n = Math.min(batchSize, set.count - start);
  const x = new Float32Array(T * n * plane); // zeros: what a shift uncovers stays 0
  const y = new Int32Array(n);
  const { order, plan } = epoch;
  const runs: number[] = [];
  for (let i = 0; i < n; i++) {
    const pos = start + i;
    const idx = order ? order[pos] : pos;
    y[i] = set.labels[idx];
    if (!plan) {
      for (let t = 0; t < T; t++) x.set(frames.subarray(idx * sample + t * plane, idx * sample + (t + 1) * plane), (t * n + i) * plane);
      continue;
    }
    const flip = plan.flip[pos] === 1;
    sourceMaps(k, h, w, plan.dy[pos], plan.dx[pos], flip);
    if (!flip) {
      // Runs of consecutive source columns: [output column, source column, length].
      runs.length = 0;
      for (let xx = 0; xx < w; ) {
        if (k.cols[xx] < 0) {
          xx++;
          continue;
        }
        let len = 1;
        while (xx + len < w && k.cols[xx + len] === k.cols[xx] + len) len++;
        runs.push(xx, k.cols[xx], len);
        xx += len;
      }
    }
    for (let t = 0; t < T; t++) {
      const src = idx * sample + t * plane;
      const out = (t * n + i) * plane;
      for (let yy = 0; yy < h; yy++) {
        const sy = k.rows[yy];
        if (sy < 0) continue;
        const s0 = src + sy * row;
        const o0 = out + yy * row;
        if (!flip) {
          for (let r = 0; r < runs.length; r += 3) {
            const from = s0 + runs[r + 1] * c;
            x.set(frames.subarray(from, from + runs[r + 2] * c), o0 + runs[r] * c);
          }
        } else {
          for (let xx = 0; xx < w; xx++) {
            const sx = k.cols[xx];
            if (sx < 0) continue;
            const o = o0 + xx * c;
            const s = s0 + sx * c;
            for (let ch = 0; ch < c; ch++) x[o + ch] = frames[s + ch];
          }
        }
      }
    }
  }
  return { x, y, size: n, timesteps: T };
}

/** The epoch's batches; all randomness is drawn by this call, before the first batch. */
export function eventBatches(set: EventFrameSet, opts: EventBatchOptions): Generator<EventBatch> {
  checkEventOptions(set, opts);
  return generate(set, opts, planEpoch(set.count, opts));
}

function* generate(set: EventFrameSet, o: EventBatchOptions, epoch: EpochPlan): Generator<EventBatch> {
  const k = eventBatcher(set, o);
  const n = batchCount(set.count, o.batchSize, o.dropLast);
  for (let b = 0; b < n; b++) yield eventBatch(set, o.batchSize, epoch, b, k);
}
