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
