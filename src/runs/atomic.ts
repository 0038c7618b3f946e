/**
 * Crash-safe file writes: write a temporary file in the same folder, flush it to disk, then
 * rename it over the target. A reader sees the old file or the new one, never half of one.
 *
 * A failed write (disk full, quota, read-only or unwritable folder) removes its temporary
 * file, leaves the target as it was, and throws an error of one line that names the file and
 * the reason and keeps the errno `code`. Tests simulate such failures with the
 * SNN_TEST_FAIL_WRITE hook (src/util/testHooks.ts).
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { writeFault } from '../util/testHooks.js';

export { writeFault };

/** Errno codes that mean "this file system will not take the write". */
export const WRITE_FAILURE_CODES: readonly string[] = ['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EIO', 'EFBIG'];

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EFBIG: 'file too large',
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of its path is not a folder',
};

/** An error for a failed write of `path`: one line, the errno code kept, the cause attached. */
export function writeError(path: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  const reason = code ? `${REASONS[code] ?? (e as Error).message.split('\n')[0]} (${code})` : String((e as Error).message ?? e).split('\n')[0];
  const err = new Error(`cannot write ${path}: ${reason}`, { cause: e }) as NodeJS.ErrnoException;
  if (code) err.code = code;
  return err;
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFault(path);
    const fd = openSync(tmp, 'w');
    try {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw writeError(path, e);
  }
}

/** Flushes a folder's entry table, so that renames inside it survive a power cut. */
export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on folders; the rename is still atomic there.
  }
}
