/**
 * Pixels of an image folder through sharp (libvips): decoding to 8-bit RGB at a fixed shorter
 * side, and the two crops of folderTransforms.ts. Resampling is libvips' linear kernel, which
 * widens its support when shrinking (antialiased, like PIL's bilinear that torchvision uses on
 * image files). EXIF orientation is ignored and alpha dropped, as PIL's convert('RGB') does.
 */
import { readFile } from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';
import { centreCropBox, resizedDims, type Box } from './folderTransforms.js';

// Our own cache keeps decoded images; libvips' operation cache would only hold memory twice.
sharp.cache(false);

/** An RGB image, HWC bytes. */
export interface Decoded {
  data: Uint8Array;
  height: number;
  width: number;
}

export interface DecodeLimits {
  maxFileBytes: number;
  maxPixels: number;
}

/** A problem with a file's content: the message names the file and is meant for the user. */
export class BadImageError extends Error {
  override readonly name = 'BadImageError';
}

/** Decodes `file` and resizes its shorter side to `side` (no resampling if it is already; 0: never). */
export async function decodeResized(file: string, side: number, limits: DecodeLimits): Promise<Decoded> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new BadImageError(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (bytes.length > limits.maxFileBytes) {
    throw new BadImageError(`${file}: ${(bytes.length / 2 ** 20).toFixed(2)} MiB is larger than data.imagefolder.maxFileMB`);
  }
  try {
    return await decodeBytes(bytes, side, limits);
  } catch (first) {
    // libvips keeps one error buffer for all threads: under concurrent decodes the reason can
    // be taken by another pipeline ("Unknown error"); decoding again alone recovers it.
    let e = first as Error;
    if (/unknown error/i.test(e.message)) {
      try {
        return await decodeBytes(bytes, side, limits);
      } catch (again) {
        e = again as Error;
      }
    }
    let why = e.message.replace(/\s+/g, ' ').trim();
    if (/pixel limit/.test(why)) why = `more pixels than data.imagefolder.maxPixels (${limits.maxPixels})`;
    if (/unknown error/i.test(why)) why = 'corrupt or truncated image data; libvips gave no reason';
    // libvips repeats its warnings; the first ones say what is wrong.
    if (why.length > 160) why = `${why.slice(0, 157)}...`;
    throw new BadImageError(`${file}: not a readable image (${why})`);
  }
}

async function decodeBytes(bytes: Buffer, side: number, limits: DecodeLimits): Promise<Decoded> {
  const img = sharp(bytes, { failOn: 'truncated', limitInputPixels: limits.maxPixels });
  const meta = await img.metadata();
  if (!meta.width || !meta.height) throw new Error('no image size in the header');
  const [h, w] = side > 0 ? resizedDims(meta.height, meta.width, side) : [meta.height, meta.width];
  let p = img.removeAlpha().toColourspace('srgb');
  if (h !== meta.height || w !== meta.width) p = p.resize({ width: w, height: h, fit: 'fill', kernel: 'linear' });
  const { data, info } = await p.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== w || info.height !== h) {
    throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}, expected ${w}x${h}x3`);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), height: h, width: w };
}

/** Decodes `file` fully at its own size and discards the pixels: throws BadImageError if it cannot. */
export async function checkImage(file: string, limits: DecodeLimits): Promise<void> {
  const meta = await decodeResized(file, 0, limits);
  void meta;
}

function rawInput(d: Decoded): Sharp {
  return sharp(d.data, { raw: { width: d.width, height: d.height, channels: 3 } });
}

/** Mirrors a size x size RGB image left-right in place. */
export function mirror(px: Uint8Array, size: number): void {
  for (let y = 0; y < size; y++) {
    const row = y * size * 3;
    for (let a = 0, b = size - 1; a < b; a++, b--) {
      for (let k = 0; k < 3; k++) {
        const t = px[row + a * 3 + k];
        px[row + a * 3 + k] = px[row + b * 3 + k];
        px[row + b * 3 + k] = t;
      }
    }
  }
}

// The flip is applied here, after sharp's crop and resize, so that it is the last step whatever
// order libvips runs its operations in.
async function rawOut(p: Sharp, size: number, flip: boolean): Promise<Uint8Array> {
  const data = await p.raw().toBuffer();
  if (data.length !== size * size * 3) throw new Error(`transform gave ${data.length} bytes, expected ${size * size * 3}`);
  const px = new Uint8Array(data.buffer, data.byteOffset, data.length);
  if (flip) mirror(px, size);
  return px;
}

/** `box` of `d`, resized to size x size and optionally mirrored left-right. */
export async function cropResize(d: Decoded, box: Box, size: number, flip: boolean): Promise<Uint8Array> {
  let p = rawInput(d).extract(box);
  if (box.height !== size || box.width !== size) p = p.resize({ width: size, height: size, fit: 'fill', kernel: 'linear' });
  return rawOut(p, size, flip);
}

/** The evaluation transform: shorter side to `evalSide` (when `d` is not already), centre crop. */
export async function evalCrop(d: Decoded, evalSide: number, size: number, flip: boolean): Promise<Uint8Array> {
  const [h, w] = resizedDims(d.height, d.width, evalSide);
  let p = rawInput(d);
  if (h !== d.height || w !== d.width) p = p.resize({ width: w, height: h, fit: 'fill', kernel: 'linear' });
  p = p.extract(centreCropBox(h, w, size));
  return rawOut(p, size, flip);
}
