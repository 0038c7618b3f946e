/**
 * Reading data files, with the failures a user can fix (missing file, unreadable, broken gzip)
 * turned into UserErrors that name the file.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { UserError } from '../util/errors.js';

const gunzipAsync = promisify(gunzip);

/** True if the bytes start with gzip's magic number (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The bytes of a file, decompressed if they are gzip. Detection is by content, not by name,
 * since a renamed or already-decompressed download is common.
 */
export async function readMaybeGzip(file: string): Promise<{ bytes: Uint8Array; gzipped: boolean }> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (!isGzip(raw)) return { bytes: raw, gzipped: false };
  try {
    return { bytes: await gunzipAsync(raw), gzipped: true };
  } catch (e) {
    throw new UserError(`${file} is truncated or not valid gzip (${(e as Error).message})`);
  }
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
