/**
 * Training-time augmentation on byte images and on event frames: random crop after zero
 * padding, random circular shift ("roll", as torch.roll, used for DVS frames), and horizontal
 * flip with probability 1/2. Working on raw values before normalisation means padding is a raw 0,
 * which normalises to (0 - mean) / std, as torchvision's RandomCrop + Normalize does.
 *
 * The random choices for a whole epoch are drawn up front (`planAugment`), so that the draws do
 * not depend on how far a consumer iterates; applying them (`augmentImage`) is deterministic.
 * Crop and roll draw the same shift (dy, dx in [-pad, pad]); they differ in what fills the
 * uncovered border (zeros, or the pixels that left on the other side), so they exclude each other.
 */
import { UserError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';

export type AugmentKind = 'crop' | 'flip' | 'roll';

/** Pixel values: bytes for images, uint16 counts for event frames. */
export type Pixels = Uint8Array | Uint16Array;

/** Rejects combinations that have no meaning (one line, for the config key). */
export function checkAugment(kinds: readonly AugmentKind[]): void {
  if (kinds.includes('crop') && kinds.includes('roll')) {
    throw new UserError('data.augment: crop and roll both shift the image; choose one');
  }
}

export interface AugmentPlan {
  dy: Int32Array;
  dx: Int32Array;
  flip: Uint8Array;
}

/** Draws the choices for `count` images, image by image, crop (dy, dx) before flip. */
export function planAugment(count: number, kinds: readonly AugmentKind[], pad: number, rng: Rng): AugmentPlan {
  checkAugment(kinds);
  const crop = kinds.includes('crop') || kinds.includes('roll');
  const flip = kinds.includes('flip');
  const plan: AugmentPlan = { dy: new Int32Array(count), dx: new Int32Array(count), flip: new Uint8Array(count) };
  const span = 2 * pad + 1;
  for (let i = 0; i < count; i++) {
    if (crop) {
      plan.dy[i] = rng.int(span) - pad;
      plan.dx[i] = rng.int(span) - pad;
    }
    if (flip) plan.flip[i] = rng.next() < 0.5 ? 1 : 0;
  }
  return plan;
}

/**
 * Writes one h x w x c image to `dst`: out(y, x) = src(y + dy, x' + dx), x' = w-1-x if flipped
 * else x; where that falls outside the source it is 0, or with `wrap` the coordinates are taken
 * modulo the size (a roll). Unflipped, unwrapped rows are copied as whole spans.
 */
export function augmentImage(
  src: Pixels, srcOff: number,
  dst: Pixels, dstOff: number,
  h: number, w: number, c: number,
  dy: number, dx: number, flip: boolean, wrap = false,
): void {
  const row = w * c;
  for (let y = 0; y < h; y++) {
    const out = dstOff + y * row;
    let sy = y + dy;
    if (wrap) sy = ((sy % h) + h) % h;
    else if (sy < 0 || sy >= h) {
      dst.fill(0, out, out + row);
      continue;
    }
    const inp = srcOff + sy * row;
    if (!flip && !wrap) {
      // Output columns whose source column x + dx lies inside the image.
      const x0 = Math.min(w, Math.max(0, -dx));
      const x1 = Math.max(x0, Math.min(w, w - dx));
      dst.fill(0, out, out + x0 * c);
      dst.set(src.subarray(inp + (x0 + dx) * c, inp + (x1 + dx) * c), out + x0 * c);
      dst.fill(0, out + x1 * c, out + row);
    } else {
      for (let x = 0; x < w; x++) {
        let sx = (flip ? w - 1 - x : x) + dx;
        const o = out + x * c;
        if (wrap) sx = ((sx % w) + w) % w;
        else if (sx < 0 || sx >= w) {
          for (let k = 0; k < c; k++) dst[o + k] = 0;
          continue;
        }
        const s = inp + sx * c;
        for (let k = 0; k < c; k++) dst[o + k] = src[s + k];
      }
    }
  }
}
