/**
 * A disk cache of integrated frames: decoding thousands of event files takes minutes, reading
 * one file of frames takes seconds. One file per parameter set, named by a hash of everything
 * that changes its content (frame parameters, decoding version, and the event files' names and
 * sizes), so that a changed parameter or data folder never reads stale frames.
 *
 * File layout: the 8 bytes `SNNFRM01`, a uint32 LE length L, L bytes of JSON (CacheHeader),
 * then count * T * H * W * 2 uint16 LE counts, sample after sample. It is written to a
 * temporary name and renamed, so a crash leaves no partial cache under the real name.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { UserError } from '../util/errors.js';

const MAGIC = 'SNNFRM01';

export interface CacheHeader {
  key: string;
  count: number;
  timesteps: number;
  height: number;
  width: number;
  channels: number;
  /** The parameters the key was made from, for people reading the file. */
  params: Record<string, unknown>;
  /** Relative file name of each sample, in cache order. */
  files: string[];
  labels: number[];
}

export interface CacheFile {
  path: string;
  header: CacheHeader;
  /** Byte offset of the first count. */
  dataOffset: number;
  /** Values per sample. */
  sampleSize: number;
}

/** A short stable hash of a JSON value (keys in the order given). */
export function cacheKey(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

const LITTLE = endianness() === 'LE';

function swap16(a: Uint16Array): void {
  for (let i = 0; i < a.length; i++) a[i] = ((a[i] & 0xff) << 8) | (a[i] >>> 8);
}

/**
 * Writes a cache by asking `sample(i, out)` for each sample's counts in turn (so memory holds
 * one sample, not the data set). `onProgress(done, total)` is called after each sample.
 */
export async function writeFrameCache(
  path: string,
  header: CacheHeader,
  sample: (i: number, out: Uint16Array) => Promise<void>,
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(12);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  const sampleSize = header.timesteps * header.height * header.width * header.channels;
  const buf = new Uint16Array(sampleSize);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, head);
    writeSync(fd, json);
    for (let i = 0; i < header.count; i++) {
      await sample(i, buf);
      if (!LITTLE) swap16(buf);
      writeSync(fd, new Uint8Array(buf.buffer, 0, buf.byteLength));
      onProgress?.(i + 1, header.count);
    }
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The cache's header, or null if the file is missing, of another format, or the wrong size. */
export function openFrameCache(path: string): CacheFile | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const head = Buffer.alloc(12);
    if (readSync(fd, head, 0, 12, 0) !== 12 || head.toString('latin1', 0, 8) !== MAGIC) return null;
    const len = head.readUInt32LE(8);
    const json = Buffer.alloc(len);
    if (readSync(fd, json, 0, len, 12) !== len) return null;
    const header = JSON.parse(json.toString('utf8')) as CacheHeader;
    const sampleSize = header.timesteps * header.height * header.width * header.channels;
    const dataOffset = 12 + len;
    if (fstatSync(fd).size !== dataOffset + header.count * sampleSize * 2) return null;
    return { path, header, dataOffset, sampleSize };
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads the samples `indices` (cache order) into one new array, in that order. The array lives
 * on a SharedArrayBuffer so a prefetch worker can read it without a copy.
 */
export function readCachedSamples(cache: CacheFile, indices: ArrayLike<number>): Uint16Array {
  const n = indices.length;
  let out: Uint16Array;
  try {
    out = new Uint16Array(new SharedArrayBuffer(n * cache.sampleSize * 2));
  } catch {
    const gb = (n * cache.sampleSize * 2) / 2 ** 30;
    throw new UserError(`${n} samples of frames need ${gb.toFixed(1)} GiB of memory, more than this process can allocate; lower data.dvs.size or data.dvs.frames`);
  }
  const bytes = new Uint8Array(out.buffer);
  const sampleBytes = cache.sampleSize * 2;
  const fd = openSync(cache.path, 'r');
  try {
    for (let i = 0; i < n; i++) {
      const at = cache.dataOffset + indices[i] * sampleBytes;
      const got = readSync(fd, bytes, i * sampleBytes, sampleBytes, at);
      if (got !== sampleBytes) throw new UserError(`${cache.path} is truncated (sample ${indices[i]}); delete it to rebuild`);
    }
  } finally {
    closeSync(fd);
  }
  if (!LITTLE) swap16(out);
  return out;
}
