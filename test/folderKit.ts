/** Image folders for the imagefolder tests, written with sharp (JPEG unless a name says .png). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

export type Rgb = [number, number, number];

/** A height x width RGB image whose pixel (y, x) is f(y, x), as raw HWC bytes. */
export function pixels(height: number, width: number, f: (y: number, x: number) => Rgb): Uint8Array {
  const out = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) out.set(f(y, x), (y * width + x) * 3);
  }
  return out;
}

/** Encodes raw RGB bytes as JPEG (quality 100, no chroma subsampling) or PNG, by extension. */
export async function encode(file: string, data: Uint8Array, height: number, width: number): Promise<void> {
  const img = sharp(data, { raw: { width, height, channels: 3 } });
  const bytes = file.toLowerCase().endsWith('.png') ? await img.png().toBuffer() : await img.jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

export const solid = (height: number, width: number, c: Rgb): Uint8Array => pixels(height, width, () => c);

/** The class colours of writeFolder: far apart, so a tiny network can tell them apart. */
export const CLASS_COLOURS: Rgb[] = [[220, 30, 30], [30, 200, 40], [40, 50, 210]];

/**
 * root/train/<class>/<i>.JPEG and root/val/<class>/<i>.JPEG: per class `perClass` train and
 * `perVal` val images of a noisy class colour, sizes varying between images.
 */
export async function writeFolder(root: string, classes: string[], perClass: number, perVal: number): Promise<void> {
  for (const [split, n] of [['train', perClass], ['val', perVal]] as const) {
    for (let c = 0; c < classes.length; c++) {
      for (let i = 0; i < n; i++) {
        const h = 40 + ((i * 7) % 13);
        const w = 44 + ((i * 5) % 17);
        const col = CLASS_COLOURS[c % CLASS_COLOURS.length];
        const data = pixels(h, w, (y, x) => col.map((v) => Math.max(0, Math.min(255, v + (((x * 31 + y * 17 + i * 13) % 41) - 20)))) as Rgb);
        await encode(join(root, split, classes[c], `${String(i).padStart(3, '0')}.JPEG`), data, h, w);
      }
    }
  }
}
