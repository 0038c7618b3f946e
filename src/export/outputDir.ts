/**
 * Export folders appear whole or not at all: files are written into a temporary sibling folder,
 * which is renamed into place at the end. An existing folder is refused unless `force`, and is
 * then replaced only after the new one is complete.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';

/** Refuses an existing output folder (without --force) before any work is done. */
export function checkOutputDir(out: string, force: boolean): void {
  if (existsSync(out) && !force) throw new UserError(`${out}: already exists (add --force to replace it)`);
}

/** Runs `fill(tmp)` on a fresh temporary folder beside `out`, then moves it to `out`. */
export async function writeOutputDir<T>(out: string, force: boolean, fill: (tmp: string) => Promise<T> | T): Promise<T> {
  const target = resolve(out);
  checkOutputDir(target, force);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(target)}.tmp-${randomBytes(4).toString('hex')}`);
  mkdirSync(tmp);
  try {
    const result = await fill(tmp);
    if (existsSync(target)) {
      const old = join(parent, `.${basename(target)}.old-${randomBytes(4).toString('hex')}`);
      renameSync(target, old);
      renameSync(tmp, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, target);
    }
    return result;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
