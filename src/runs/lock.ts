/**
 * The lock of a run folder: `<run>/.lock` (JSON: pid, host, start time, a random nonce), held
 * by the process that trains the run, from the moment its folder is claimed (or its resume
 * starts) until it ends. `--resume` refuses a run whose lock names a live process; a lock left
 * by a process that died (SIGKILL, power cut) is stale and taken over. A lock from another host
 * cannot be checked and counts as live.
 *
 * Acquisition is atomic: a fresh lock is a hard link of a complete file (exclusive: it fails if
 * a lock exists); a stale one is replaced under a marker only one taker can create (takeOver).
 * test/reliabilityLock.test.ts races processes for one stale lock many times over.
 */
import { createHash, randomBytes } from 'node:crypto';
import { linkSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { UserError } from '../util/errors.js';
import { sleepSync } from '../util/testHooks.js';
import { writeError, writeFault } from './atomic.js';
import { removeCheckpointTemporaries } from './checkpointFiles.js';

export const LOCK_FILE = '.lock';

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

/** The lock file's bytes, or null if there is none. */
function lockText(dir: string): string | null {
  try {
    return readFileSync(join(dir, LOCK_FILE), 'utf8');
  } catch {
    return null;
  }
}

function parseLock(text: string | null): LockInfo | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid !== 'number' || typeof v.host !== 'string') return null;
    return { pid: v.pid, host: v.host, started: String(v.started ?? '') };
  } catch {
    return null;
  }
}

const readLock = (dir: string): LockInfo | null => parseLock(lockText(dir));

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const mine = (l: LockInfo): boolean => l.pid === process.pid && l.host === hostname();
const live = (l: LockInfo): boolean => l.host !== hostname() || processAlive(l.pid); // another host's process cannot be checked

/** Locks this process holds: released when it exits, whatever path it exits by. */
const held = new Set<string>();
let exitHook = false;

/** The lock of a run folder if a live process other than this one holds it. */
export function lockHolder(dir: string): LockInfo | null {
  const l = readLock(dir);
  if (!l || mine(l)) return null;
  return live(l) ? l : null;
}

function inUse(dir: string, l: LockInfo): UserError {
  return new UserError(
    `${dir}: in use by snn train (pid ${l.pid} on ${l.host}, since ${l.started}); wait for it to end, or delete ${join(dir, LOCK_FILE)} if that process is gone`,
  );
}

const TAKEOVER = '.lock-takeover-';

/**
 * Replaces the stale lock whose bytes are `stale` by this process's (`mine`, a complete file):
 * true if it did. Takers of one stale lock first create a marker named after its bytes with
 * O_EXCL, so only one of them goes on; it checks the lock still holds those bytes and renames
 * its own over it. The lock file never disappears on the way, so a plain acquisition (link,
 * which needs no lock file) cannot slip in, and no taker can move a lock that is not stale.
 */
function takeOver(dir: string, stale: string, mineFile: string): boolean {
  const marker = join(dir, `${TAKEOVER}${createHash('sha256').update(stale).digest('hex').slice(0, 20)}`);
  try {
    writeFileSync(marker, `${process.pid}\n`, { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError(marker, e);
    let owner = 0;
    let age = 0;
    try {
      owner = Number(readFileSync(marker, 'utf8'));
      age = Date.now() - statSync(marker).mtimeMs;
    } catch {
      return false; // its taker finished meanwhile
    }
    if (Number.isInteger(owner) && owner > 0 && !processAlive(owner) && age > 5000) {
      throw new UserError(`${dir}: a takeover of its stale lock was interrupted; delete ${marker} and ${join(dir, LOCK_FILE)} if no snn train runs it`);
    }
    return false; // another process is taking it over: look again
  }
  try {
    if (lockText(dir) !== stale) return false; // taken over (or released) meanwhile
    renameSync(mineFile, join(dir, LOCK_FILE));
    return true;
  } catch (e) {
    throw writeError(join(dir, LOCK_FILE), e);
  } finally {
    rmSync(marker, { force: true });
  }
}

/**
 * Takes the lock of a run folder: a UserError if a live process holds it; a stale lock (its
 * process is gone) is taken over (see takeOver), and the temporary files a killed writer left
 * are removed. Re-entrant within one process.
 */
export function lockRun(dir: string): void {
  const file = join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  // The random part makes every lock's bytes unique, which takeOver relies on.
  const tmp = join(dir, `.lock-${randomBytes(8).toString('hex')}`);
  try {
    writeFault(tmp);
    writeFileSync(tmp, `${JSON.stringify({ ...info, nonce: basename(tmp).slice(6) })}\n`, { flag: 'wx' });
  } catch (e) {
    rmSync(tmp, { force: true });
    throw writeError(file, e);
  }
  try {
    let taken = false;
    for (let attempt = 0; attempt < 200 && !taken; attempt++) {
      try {
        linkSync(tmp, file); // atomic and exclusive: fails if a lock exists
        taken = true;
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError(file, e);
      }
      const text = lockText(dir);
      if (text === null) continue; // released meanwhile: try again
      const cur = parseLock(text);
      if (cur && mine(cur)) taken = true;
      else if (cur && live(cur)) throw inUse(dir, cur);
      else if (takeOver(dir, text, tmp)) taken = true;
      else sleepSync(2); // someone else is taking it over; its lock appears in a moment
    }
    if (!taken) throw new Error(`${file}: could not take the run's lock`);
  } finally {
    rmSync(tmp, { force: true });
  }
  held.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const d of held) unlockRun(d);
    });
  }
  removeLeftovers(dir);
}

/** Temporary files of killed writers: atomic-write temporaries, old-style stale locks, dead takeover markers. */
function removeLeftovers(dir: string): void {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (/^\..+\.[0-9a-f]{8}\.tmp$/.test(n) || /^\.lock-stale-/.test(n)) rmSync(p, { force: true });
    else if (n.startsWith(TAKEOVER) || /^\.lock-[0-9a-f]{16}$/.test(n)) {
      try {
        if (Date.now() - statSync(p).mtimeMs > 60_000) rmSync(p, { force: true }); // a live taker needs microseconds
      } catch {
        // removed by its owner meanwhile
      }
    }
  }
  removeCheckpointTemporaries(join(dir, 'checkpoints'));
}

/** Releases this process's lock of a run folder (a lock held by another process is left alone). */
export function unlockRun(dir: string): void {
  held.delete(dir);
  try {
    const l = readLock(dir);
    if (l && mine(l)) rmSync(join(dir, LOCK_FILE), { force: true });
  } catch {
    // the folder is gone, or unwritable: nothing to release
  }
}

