/**
 * A small data set generated in memory, for tests and smoke runs: each class has a prototype
 * image made of a few soft blobs and a bar per channel, and each sample is its class's
 * prototype plus pixel noise, clipped to [0, 1] and quantised to bytes.
 *
 * Only additions and multiplications of Rng draws are used (no Math.exp/log/cos, whose last
 * bit may differ between platforms), so one seed gives the same bytes on every machine. That
 * is why the noise is a sum of four uniforms (Irwin-Hall, rescaled to unit variance) rather
 * than Box-Muller: it is close to Gaussian, bounded at about 3.5 standard deviations.
 */
import { UserError } from '../util/errors.js';
import { createRng, permutation, type Rng } from '../util/rng.js';
import type { ImageSet } from './types.js';

export interface SyntheticOptions {
  classes: number;
  train: number;
  test: number;
  height: number;
  width: number;
  channels: number;
  /** Standard deviation of the noise, on the [0, 1] pixel scale. */
  noise: number;
}

const SQRT3 = 1.7320508075688772;
/** Offsets the seed so the data's stream differs from other streams made from the same seed. */
const STREAM = 0x5eedda7a;

/** Zero mean, unit variance, from four uniforms. */
function noiseSample(rng: Rng): number {
  return (rng.next() + rng.next() + rng.next() + rng.next() - 2) * SQRT3;
}

/** One class prototype in HWC order, values in [0, 1]. */
function prototype(rng: Rng, h: number, w: number, c: number): Float64Array {
  const img = new Float64Array(h * w * c);
  const side = Math.min(h, w);
  for (let ch = 0; ch < c; ch++) {
    for (let b = 0; b < 2; b++) {
      const cy = rng.next() * h;
      const cx = rng.next() * w;
      const r = side * (0.15 + 0.2 * rng.next());
      const amp = 0.5 + 0.5 * rng.next();
      const inv = 1 / (r * r);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const t = 1 - ((y + 0.5 - cy) * (y + 0.5 - cy) + (x + 0.5 - cx) * (x + 0.5 - cx)) * inv;
          if (t > 0) img[(y * w + x) * c + ch] += amp * t * t;
        }
      }
    }
    // A horizontal or vertical bar, the feature that blobs alone would not give.
    const vertical = rng.next() < 0.5;
    const len = vertical ? w : h;
    const at = rng.int(len);
    const thick = 1 + rng.int(Math.max(1, Math.floor(len / 8)));
    const amp = 0.5 + 0.5 * rng.next();
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const pos = vertical ? x : y;
        if (pos >= at && pos < at + thick) img[(y * w + x) * c + ch] += amp;
      }
    }
  }
  for (let i = 0; i < img.length; i++) img[i] = Math.min(1, img[i]);
  return img;
}

function samples(rng: Rng, protos: Float64Array[], count: number, o: SyntheticOptions): ImageSet {
  const size = o.height * o.width * o.channels;
  const images = new Uint8Array(count * size);
  const labels = new Uint8Array(count);
  // Balanced classes in a shuffled order.
  const order = permutation(count, rng);
  for (let i = 0; i < count; i++) {
    const label = order[i] % o.classes;
    labels[i] = label;
    const proto = protos[label];
    const base = i * size;
    for (let p = 0; p < size; p++) {
      const v = proto[p] + o.noise * noiseSample(rng);
      images[base + p] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
    }
  }
  return { images, labels, count, height: o.height, width: o.width, channels: o.channels, numClasses: o.classes };
}

/** Train and test splits drawn from the same prototypes with independent noise. */
export function makeSynthetic(o: SyntheticOptions, seed: number): { train: ImageSet; test: ImageSet } {
  if (o.classes > 256) throw new UserError(`data.synthetic.classes: at most 256 classes fit a byte label, got ${o.classes}`);
  const rng = createRng((seed ^ STREAM) >>> 0);
  const protos = Array.from({ length: o.classes }, () => prototype(rng, o.height, o.width, o.channels));
  const train = samples(rng, protos, o.train, o);
  const test = samples(rng, protos, o.test, o);
  return { train, test };
}
