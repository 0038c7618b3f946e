/**
 * The geometry of the standard ImageNet transforms, as torchvision defines them; the pixels
 * are moved by sharp (folderDecode.ts). Integer maths follows Python's: `int()` truncates and
 * `round()` rounds half to even.
 *
 * - Resize(side): the shorter side becomes `side`, the longer `int(side · long / short)`.
 * - Evaluation: Resize(floor(S / 0.875)), then CenterCrop(S): top = round((H − S) / 2),
 *   left = round((W − S) / 2).
 * - Training: RandomResizedCrop(S, scale, ratio): up to ten tries of an area
 *   A·U(scale) and an aspect ratio exp(U(log ratio)), giving w = round(√(A·r)),
 *   h = round(√(A/r)); the first that fits is placed uniformly (top in [0, H − h], left in
 *   [0, W − w]); if none fits, the largest centred box with the ratio clamped to the range.
 *   The box is resized to S × S. Then RandomHorizontalFlip(p = 1/2).
 */
import type { Rng } from '../util/rng.js';

export interface Box {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Python's round(): half to even. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The evaluation resize for crop size S: floor(S / 0.875) (256 for 224). */
export function evalResizeSide(imageSize: number): number {
  return Math.floor(imageSize / 0.875);
}

/** [height, width] after resizing the shorter side to `side`. */
export function resizedDims(height: number, width: number, side: number): [number, number] {
  if (height <= width) return [side, Math.trunc((side * width) / height)];
  return [Math.trunc((side * height) / width), side];
}

export function centreCropBox(height: number, width: number, size: number): Box {
  return { top: roundHalfEven((height - size) / 2), left: roundHalfEven((width - size) / 2), height: size, width: size };
}

const uniform = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng.next();

/** torchvision's RandomResizedCrop.get_params on an image of height x width. */
export function randomResizedCropBox(height: number, width: number, scale: readonly [number, number], ratio: readonly [number, number], rng: Rng): Box {
  const area = height * width;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * uniform(rng, scale[0], scale[1]);
    const aspect = Math.exp(uniform(rng, logLo, logHi));
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: rng.int(height - h + 1), left: rng.int(width - w + 1), height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) h = roundHalfEven(w / ratio[0]);
  else if (inRatio > ratio[1]) w = roundHalfEven(h * ratio[1]);
  // A box of at least one pixel that fits, whatever the rounding did.
  h = Math.min(height, Math.max(1, h));
  w = Math.min(width, Math.max(1, w));
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** One training sample's draws: the crop (null: the evaluation centre crop) and the flip. */
export interface TrainDraw {
  box: Box | null;
  flip: boolean;
}

export interface TrainTransform {
  crop: boolean;
  flip: boolean;
  scale: readonly [number, number];
  ratio: readonly [number, number];
}

/** Crop first, then flip, from the sample's own generator (seeded per sample and epoch). */
export function drawTrain(height: number, width: number, t: TrainTransform, rng: Rng): TrainDraw {
  const box = t.crop ? randomResizedCropBox(height, width, t.scale, t.ratio, rng) : null;
  const flip = t.flip ? rng.next() < 0.5 : false;
  return { box, flip };
}
