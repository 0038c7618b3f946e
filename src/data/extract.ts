/**
 * Unpacking downloaded archives with maintained libraries (node-tar, yauzl), which refuse
 * entries that would land outside the target folder. Callers unpack into an empty staging
 * folder and move the result into place afterwards (fetch.ts), so a failure here never leaves
 * a half-unpacked data set where the loaders look.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { x as untar } from 'tar';
import yauzl from 'yauzl';

/** Unpacks a .tar.gz into `dir` (which must exist); rejects on a corrupt or truncated archive. */
export async function extractTarGz(file: string, dir: string): Promise<void> {
  await untar({ file, cwd: dir, strict: true });
}

/** Unpacks a .zip into `dir` (which must exist). */
export async function extractZip(file: string, dir: string): Promise<void> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true, strictFileNames: true });
  const root = resolve(dir);
  try {
    for await (const entry of zip.eachEntry()) {
      const target = resolve(root, entry.fileName);
      // yauzl already rejects absolute and '..' names; this keeps the promise even if it changes.
      if (target !== root && !target.startsWith(root + sep)) throw new Error(`zip entry ${entry.fileName} points outside the folder`);
      if (entry.fileName.endsWith('/')) {
        mkdirSync(target, { recursive: true });
        continue;
      }
      mkdirSync(dirname(target), { recursive: true });
      const stream = await zip.openReadStreamPromise(entry);
      await pipeline(stream, createWriteStream(target));
    }
  } finally {
    zip.close();
  }
}
