/**
 * Pixels of an image folder: sharp (libvips) decodes files to 8-bit RGB; resizing and crops
 * are Pillow's bilinear resize (resample.ts), so that they equal torchvision's on image files.
 * EXIF orientation is ignored and alpha dropped, as PIL's convert('RGB') does.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { centreCropBox, resizedDims, type Box } from './folderTransforms.js';
import { cropBytes, resizeBilinear } from './resample.js';

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
  const { data, info } = await img.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
  const full = new Uint8Array(data.buffer, data.byteOffset, data.length);
  const [h, w] = side > 0 ? resizedDims(info.height, info.width, side) : [info.height, info.width];
  if (h === info.height && w === info.width) return { data: full, height: h, width: w };
  return { data: resizeBilinear(full, info.height, info.width, 3, h, w), height: h, width: w };
}

/** Decodes `file` fully at its own size and discards the pixels: throws BadImageError if it cannot. */
export async function checkImage(file: string, limits: DecodeLimits): Promise<void> {
  const meta = await decodeResized(file, 0, limits);
  void meta;
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

/** `box` of `d`, resized to size x size (torchvision's resized_crop: crop, then resize), optionally mirrored. */
export function cropResize(d: Decoded, box: Box, size: number, flip: boolean): Uint8Array {
  const crop = cropBytes(d.data, d.width, 3, box.top, box.left, box.height, box.width);
  const px = resizeBilinear(crop, box.height, box.width, 3, size, size);
  if (flip) mirror(px, size);
  return px;
}

/** The evaluation transform: shorter side to `evalSide` (when `d` is not already), centre crop. */
export function evalCrop(d: Decoded, evalSide: number, size: number, flip: boolean): Uint8Array {
  const [h, w] = resizedDims(d.height, d.width, evalSide);
  const img = h === d.height && w === d.width ? d.data : resizeBilinear(d.data, d.height, d.width, 3, h, w);
  const box = centreCropBox(h, w, size);
  const px = cropBytes(img, w, 3, box.top, box.left, size, size);
  if (flip) mirror(px, size);
  return px;
}
