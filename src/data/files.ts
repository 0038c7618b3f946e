/**
 * Reading data files, with the failures a user can fix (missing file, unreadable, broken gzip)
 * turned into UserErrors that name the file. Every read is bounded: a data file must be a
 * regular file of at most MAX_DATA_BYTES, and gzip is inflated as a stream that stops as soon
 * as it passes that, or what the content's own header promises (an IDX header, say), so a
 * gzip bomb costs no more memory than the data it claims to hold.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { checkRegularFile } from '../util/boundedRead.js';
import { UserError } from '../util/errors.js';

/** What snn reads of one data file at most (Fashion-MNIST's largest file is 47 MB, CIFAR-100's 154 MB). */
export const MAX_DATA_BYTES = 1024 * 1024 * 1024;

/**
 * The size a file's decompressed content may have, from its first bytes (its header): a
 * number, or 'more' while the header is not complete yet. It may throw a UserError for a
 * header that is impossible.
 */
export type SizeFromHeader = (head: Uint8Array) => number | 'more';

/** True if the bytes start with gzip's magic number (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Inflates gzip bytes, stopping once the output passes `maxBytes` or what the header promises. */
function inflateBounded(raw: Uint8Array, file: string, maxBytes: number, sizeFromHeader?: SizeFromHeader): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const gz = createGunzip();
    const chunks: Buffer[] = [];
    let n = 0;
    let limit = maxBytes;
    let fromHeader = false;
    let done = false;
    const fail = (e: Error): void => {
      if (done) return;
      done = true;
      gz.destroy();
      reject(e);
    };
    gz.on('data', (c: Buffer) => {
      if (done) return;
      chunks.push(c);
      n += c.length;
      if (sizeFromHeader && !fromHeader) {
        let r: number | 'more';
        try {
          r = sizeFromHeader(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
        } catch (e) {
          fail(e as Error);
          return;
        }
        if (r !== 'more') {
          fromHeader = true;
          limit = Math.min(limit, r);
        }
      }
      if (n > limit) {
        fail(
          new UserError(
            fromHeader
              ? `${file} is longer than its header says: more than ${limit} bytes after decompression (stopped there)`
              : `${file} decompresses to more than the ${limit} bytes snn reads of a data file (stopped there)`,
          ),
        );
      }
    });
    gz.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, n));
    });
    gz.on('error', (e) => fail(new UserError(`${file} is truncated or not valid gzip (${e.message})`)));
    gz.end(raw);
  });
}

/**
 * The bytes of a file, decompressed if they are gzip, bounded (see the top of this file).
 * Detection is by content, not by name, since a renamed or already-decompressed download is common.
 */
export async function readMaybeGzip(
  file: string,
  o: { maxBytes?: number; sizeFromHeader?: SizeFromHeader } = {},
): Promise<{ bytes: Uint8Array; gzipped: boolean }> {
  const maxBytes = o.maxBytes ?? MAX_DATA_BYTES;
  checkRegularFile(file, { what: 'data file', maxBytes });
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (!isGzip(raw)) return { bytes: raw, gzipped: false };
  return { bytes: await inflateBounded(raw, file, maxBytes, o.sizeFromHeader), gzipped: true };
}

export function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `dir/name.gz` if it exists, else `dir/name` if it exists, else null. */
export function findGzOrRaw(dir: string, name: string): string | null {
  for (const candidate of [join(dir, `${name}.gz`), join(dir, name)]) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}
