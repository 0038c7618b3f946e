/**
 * Reading a file the user (or a damaged folder) points at, bounded: it must be a regular file
 * (not a FIFO, a device such as /dev/zero, or a folder) and at most `maxBytes` long, checked
 * with stat before it is opened, so a bad path can neither hang the process nor fill its
 * memory. `confined` also refuses a symbolic link, for files inside a folder snn wrote (a
 * checkpoint, an export), where a link could lead anywhere on the disk.
 */
import { closeSync, fstatSync, lstatSync, openSync, readSync, statSync, constants, type Stats } from 'node:fs';
import { UserError } from './errors.js';

export interface BoundedReadOptions {
  /** What the file is, for messages: "config file", "checkpoint file". */
  what: string;
  maxBytes: number;
  /** Refuse a symbolic link (files inside a folder snn wrote). */
  confined?: boolean;
}

const MiB = 1024 * 1024;

/** "3.0 MiB" / "512 bytes". */
export const sizeText = (n: number): string => (n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : `${n} bytes`);

function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  if (s.isSocket()) return 'a socket';
  if (s.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** Stats of `file` as a regular file of at most `maxBytes`, or a UserError naming what is wrong. */
export function checkRegularFile(file: string, o: BoundedReadOptions): Stats {
  let s: Stats;
  try {
    s = o.confined ? lstatSync(file) : statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${o.what} not found: ${file}`);
    if (code === 'ENAMETOOLONG') throw new UserError(`${o.what} ${file.slice(0, 80)}…: the path is too long`);
    if (code === 'ELOOP') throw new UserError(`${o.what} ${file}: a loop of symbolic links`);
    throw new UserError(`cannot read ${o.what} ${file}: ${code ?? (e as Error).message}`);
  }
  if (o.confined && s.isSymbolicLink()) throw new UserError(`${file}: is a symbolic link; a ${o.what} must be a file of its own folder`);
  if (!s.isFile()) throw new UserError(`${o.what} ${file} is ${kindOf(s)}, not a regular file`);
  if (s.size > o.maxBytes) throw new UserError(`${o.what} ${file} is ${sizeText(s.size)}, more than the ${sizeText(o.maxBytes)} snn reads`);
  return s;
}

/** The bytes of a regular file of at most `maxBytes` (see checkRegularFile). */
export function readBounded(file: string, o: BoundedReadOptions): Buffer {
  checkRegularFile(file, o);
  let fd: number;
  try {
    // O_NOFOLLOW for confined files: the file cannot be swapped for a link between the check and the open.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | (o.confined ? constants.O_NOFOLLOW : 0));
  } catch (e) {
    throw new UserError(`cannot read ${o.what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new UserError(`${o.what} ${file} is not a regular file`);
    // One byte more than allowed, to see a file that grew past the limit since stat.
    const buf = Buffer.alloc(Math.min(o.maxBytes + 1, fstatSync(fd).size + 1));
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n === buf.length) break;
    }
    if (n > o.maxBytes) throw new UserError(`${o.what} ${file} is more than the ${sizeText(o.maxBytes)} snn reads`);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
