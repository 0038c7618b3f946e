/**
 * Bilinear resizing of 8-bit RGB images as Pillow does it (Image.resize with BILINEAR, which
 * torchvision's Resize and RandomResizedCrop call on image files), to the same integers.
 *
 * Separable: a horizontal pass, rounded to bytes, then a vertical pass. Output pixel i of a
 * pass samples the input around its centre c = (i + ½)·s, s = in / out, with the triangle
 * filter widened by f = max(s, 1) when shrinking (antialiasing):
 *
 *   out_i = Σ_j K((j + ½ − c) / f) · in_j / Σ_j K(…),  K(t) = max(0, 1 − |t|),
 *   j from ⌊c − f + ½⌋ to ⌊c + f + ½⌋ − 1, clamped to the image.
 *
 * Weights are normalised, then fixed-point with 22 fraction bits, and each sum is rounded by
 * adding ½ before the shift, as Pillow's ImagingResample. (Why not sharp: libvips upsamples
 * with a corner-aligned grid, half a source pixel off torchvision's centre-aligned one.)
 */

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

interface Coeffs {
  /** First input index of each output's window. */
  start: Int32Array;
  /** Window length of each output. */
  count: Int32Array;
  /** ksize fixed-point weights per output (|w| <= 2^22, so int32). */
  weights: Int32Array;
  ksize: number;
}

function coefficients(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filterscale; // the bilinear filter's support is 1
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      const w = t < 1 ? 1 - t : 0;
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? k[x] / ww : k[x];
      weights[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { start, count, weights, ksize };
}

function clip8(v: number): number {
  if (v >= ONE * 256) return 255;
  if (v <= 0) return 0;
  // 0 < v < 2^30: the shift of Pillow's int arithmetic.
  return v >> PRECISION_BITS;
}

/** Horizontal pass: each row of h x w x c bytes to outW columns. */
function horizontal(src: Uint8Array, h: number, w: number, c: number, outW: number): Uint8Array {
  const co = coefficients(w, outW);
  const { start, count, weights, ksize } = co;
  const out = new Uint8Array(h * outW * c);
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let x = 0; x < outW; x++) {
      const n = count[x];
      const kb = x * ksize;
      const o = (y * outW + x) * c;
      let p = row + start[x] * c;
      if (c === 3) {
        // RGB, the only case the image folder has: three accumulators in registers.
        let a0 = HALF;
        let a1 = HALF;
        let a2 = HALF;
        for (let j = 0; j < n; j++, p += 3) {
          const k = weights[kb + j];
          a0 += src[p] * k;
          a1 += src[p + 1] * k;
          a2 += src[p + 2] * k;
        }
        out[o] = clip8(a0);
        out[o + 1] = clip8(a1);
        out[o + 2] = clip8(a2);
      } else {
        for (let ch = 0; ch < c; ch++) {
          let a = HALF;
          for (let j = 0; j < n; j++) a += src[p + j * c + ch] * weights[kb + j];
          out[o + ch] = clip8(a);
        }
      }
    }
  }
  return out;
}

/** Vertical pass: h rows of rowLen bytes to outH rows. */
function vertical(src: Uint8Array, h: number, rowLen: number, outH: number): Uint8Array {
  const { start, count, weights, ksize } = coefficients(h, outH);
  const out = new Uint8Array(outH * rowLen);
  for (let y = 0; y < outH; y++) {
    const n = count[y];
    const kb = y * ksize;
    const first = start[y] * rowLen;
    const o = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let a = HALF;
      for (let j = 0, p = first + i; j < n; j++, p += rowLen) a += src[p] * weights[kb + j];
      out[o + i] = clip8(a);
    }
  }
  return out;
}

/** Resizes `src` (h x w, `c` channels, HWC bytes) to outH x outW. Same size: a copy. */
export function resizeBilinear(src: Uint8Array, h: number, w: number, c: number, outH: number, outW: number): Uint8Array {
  const wide = outW !== w ? horizontal(src, h, w, c, outW) : src;
  if (outH === h) return wide === src ? src.slice() : wide;
  return vertical(wide, h, outW * c, outH);
}

/** The `top, left, height, width` box of an h x w image (HWC bytes), copied. */
export function cropBytes(src: Uint8Array, w: number, c: number, top: number, left: number, height: number, width: number): Uint8Array {
  const out = new Uint8Array(height * width * c);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * w + left) * c;
    out.set(src.subarray(from, from + width * c), y * width * c);
  }
  return out;
}
