/**
 * The shapes data moves in. Images stay as bytes until a batch is made, so that a whole
 * training split costs one byte per pixel; normalisation happens per batch.
 */

/** One split of a data set: `count` images of height x width x channels bytes, HWC order. */
export interface ImageSet {
  /** count*H*W*C bytes, image after image, each in HWC order. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
}

export interface DatasetSplits {
  name: string;
  train: ImageSet;
  test: ImageSet;
  /** Per-channel mean of the pixels on the [0, 1] scale. */
  mean: number[];
  /** Per-channel standard deviation on the [0, 1] scale. */
  std: number[];
  classNames: string[];
  /** The folder the files came from, or 'generated'. */
  source: string;
}

/** A batch ready for a model: `x` is size*H*W*C floats, normalised as (v/255 - mean) / std. */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  size: number;
}

/** Where a format found its files under a root folder, or which expected files are missing. */
export type Located = { ok: true; dir: string } | { ok: false; missing: string[] };

/**
 * One split of an event data set as integrated frames (see frames.ts): `count` samples, each
 * T frames of H x W x 2 per-polarity event counts. Counts, not bytes, hence uint16.
 */
export interface EventFrameSet {
  /** count*T*H*W*2 counts, sample after sample, each laid out [T, H, W, 2] (polarity last). */
  frames: Uint16Array;
  labels: Uint8Array;
  count: number;
  /** T, the frames per sample. */
  timesteps: number;
  height: number;
  width: number;
  /** Always 2: OFF and ON polarity. */
  channels: number;
  numClasses: number;
}

/**
 * Which samples form the test set of a data set that has no official split, written so that
 * another machine can check it has the same one: `hash` is the sha256 of the JSON
 * `{"train":[...],"test":[...]}` of the samples' relative file names in split order.
 */
export interface SplitRecord {
  mode: 'seeded' | 'tebn';
  /** The split's own seed (null for a fixed rule such as tebn). */
  seed: number | null;
  train: number;
  test: number;
  hash: string;
  /** A JSON file holding both name lists, next to the frame cache. */
  file: string;
}

export interface EventDatasetSplits {
  name: string;
  train: EventFrameSet;
  test: EventFrameSet;
  classNames: string[];
  /** The folder the event files came from. */
  source: string;
  /** The frame cache file the frames were read from. */
  cache: string;
  split: SplitRecord;
}
