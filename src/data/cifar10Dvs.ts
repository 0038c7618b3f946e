/**
 * CIFAR10-DVS (Li et al., Frontiers in Neuroscience 2017): 10,000 recordings (1,000 per CIFAR-10
 * class) of CIFAR-10 images moving on a monitor, taken with a 128x128 DVS128 sensor, published on
 * figshare as one zip per class, each unpacking to `<class>/cifar10_<class>_<n>.aedat` in AEDAT 2.0
 * (see aedat.ts for the bit layout).
 *
 * Orientation: as SpikingJelly (`CIFAR10DVS.load_origin_data`) we take x = 127 - y_raw,
 * y = 127 - x_raw and polarity p = 1 - p_raw, which turns the recordings upright; frame channel p
 * thus holds the events whose stored polarity bit was 1 - p, the same channel order as
 * SpikingJelly's frames, so that models and numbers carry over.
 *
 * Loading: files → frames (frames.ts) → one cache file per parameter set (frameCache.ts) → the
 * train and test splits (split.ts) read from the cache into memory.
 */
import { accessSync, constants, existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DataConfig, DvsConfig } from '../config/schema.js';
import { UserError } from '../util/errors.js';
import { decodeAedat, type Events } from './aedat.js';
import { cacheKey, openFrameCache, readCachedSamples, writeFrameCache, type CacheFile } from './frameCache.js';
import { integrateInto, type FrameSpec } from './frames.js';
import { splitSamples, sortSamples, type Sample } from './split.js';
import type { EventDatasetSplits, EventFrameSet, Located, SplitRecord } from './types.js';

export const CIFAR10_DVS_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
export const DVS_SENSOR = 128;
/** Bumped whenever decoding or integration changes, so old caches are not read. */
const FRAMES_VERSION = 1;

/** The folders the files may sit in: root itself, or SpikingJelly's extract/ below it. */
function candidates(root: string): string[] {
  return [root, join(root, 'extract')];
}

function aedatFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.toLowerCase().endsWith('.aedat'));
  } catch {
    return [];
  }
}

/** The folder with one sub-folder of .aedat files per class, or the class folders it lacks. */
export function locateCifar10Dvs(root: string): Located {
  let best: string[] | null = null;
  for (const dir of candidates(root)) {
    const missing = CIFAR10_DVS_CLASSES.filter((c) => aedatFiles(join(dir, c)).length === 0);
    if (missing.length === 0) return { ok: true, dir };
    if (best === null || missing.length < best.length) best = missing;
  }
  return { ok: false, missing: (best ?? CIFAR10_DVS_CLASSES).map((c) => `${c}/*.aedat`) };
}

export const CIFAR10_DVS_EXPECTED = CIFAR10_DVS_CLASSES.map((c) => `${c}/cifar10_${c}_<n>.aedat`);

/** Every sample under a located folder, in canonical order (label, number, name). */
export function listCifar10Dvs(dir: string): Sample[] {
  const out: Sample[] = [];
  CIFAR10_DVS_CLASSES.forEach((c, label) => {
    aedatFiles(join(dir, c)).forEach((name, pos) => {
      const m = /_(\d+)\.aedat$/i.exec(name);
      out.push({ file: `${c}/${name}`, label, index: m ? Number(m[1]) : pos });
    });
  });
  return sortSamples(out);
}

/** SpikingJelly's orientation of CIFAR10-DVS, in place (see the file comment). */
export function orientCifar10Dvs(ev: Events): Events {
  const max = DVS_SENSOR - 1;
  for (let i = 0; i < ev.count; i++) {
    const x = ev.x[i];
    ev.x[i] = max - ev.y[i];
    ev.y[i] = max - x;
    ev.p[i] = 1 - ev.p[i];
  }
  return ev;
}

/** Decoded, oriented events of one file; coordinates are checked against the sensor. */
export async function readCifar10DvsEvents(file: string): Promise<Events> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const ev = decodeAedat(bytes, file);
  for (let i = 0; i < ev.count; i++) {
    if (ev.x[i] >= DVS_SENSOR || ev.y[i] >= DVS_SENSOR) {
      throw new UserError(`${file}: event ${i} at (${ev.x[i]}, ${ev.y[i]}) lies outside the ${DVS_SENSOR}x${DVS_SENSOR} sensor`);
    }
  }
  return orientCifar10Dvs(ev);
}

export function frameSpec(dvs: DvsConfig): FrameSpec {
  if (!Number.isInteger(dvs.frames) || dvs.frames < 1) throw new UserError(`data.dvs.frames: must be a positive integer, got ${dvs.frames}`);
  if (!Number.isInteger(dvs.size) || dvs.size < 1 || dvs.size > DVS_SENSOR) {
    throw new UserError(`data.dvs.size: must be an integer from 1 to ${DVS_SENSOR}, got ${dvs.size}`);
  }
  return { frames: dvs.frames, splitBy: dvs.splitBy, sensorHeight: DVS_SENSOR, sensorWidth: DVS_SENSOR, height: dvs.size, width: dvs.size };
}

function writable(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** data.dvs.cache, else <data folder>/.snn-frames, else the user's cache folder. */
export function cacheDir(dataDir: string, dvs: DvsConfig): string {
  if (dvs.cache !== null) {
    if (!writable(dvs.cache)) throw new UserError(`data.dvs.cache: cannot write to folder ${dvs.cache}`);
    return dvs.cache;
  }
  const local = join(dataDir, '.snn-frames');
  if (writable(local)) return local;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const user = join(base, 'snn', 'cifar10-dvs');
  if (!writable(user)) throw new UserError(`no writable folder for the frame cache (tried ${local} and ${user}); set data.dvs.cache`);
  return user;
}

export interface PrepareOptions {
  onProgress?: (done: number, total: number) => void;
  /** Told when the cache is built rather than read. */
  onBuild?: (path: string, count: number) => void;
}

/**
 * The frame cache for a data folder and frame parameters: read if present and intact, built
 * otherwise. Returns the cache and the samples in cache order.
 */
export async function prepareCifar10Dvs(dir: string, dvs: DvsConfig, opts: PrepareOptions = {}): Promise<{ cache: CacheFile; samples: Sample[] }> {
  const spec = frameSpec(dvs);
  const samples = listCifar10Dvs(dir);
  if (samples.length === 0) throw new UserError(`${dir} holds no CIFAR10-DVS .aedat files`);
  const sizes = samples.map((s) => statSync(join(dir, s.file)).size);
  const params = {
    dataset: 'cifar10-dvs',
    version: FRAMES_VERSION,
    frames: spec.frames,
    splitBy: spec.splitBy,
    size: spec.height,
    orientation: 'spikingjelly',
  };
  const key = cacheKey({ ...params, files: samples.map((s, i) => [s.file, sizes[i]]) });
  const path = join(cacheDir(dir, dvs), `cifar10-dvs-T${spec.frames}-${spec.splitBy}-${spec.height}px-${key}.frames`);
  let cache = openFrameCache(path);
  if (cache === null || cache.header.key !== key) {
    opts.onBuild?.(path, samples.length);
    const header = {
      key,
      count: samples.length,
      timesteps: spec.frames,
      height: spec.height,
      width: spec.width,
      channels: 2,
      params,
      files: samples.map((s) => s.file),
      labels: samples.map((s) => s.label),
    };
    // Read ahead a few files while the current one is decoded.
    const ahead = new Map<number, Promise<Events>>();
    const start = (i: number): void => {
      if (i >= samples.length || ahead.has(i)) return;
      const p = readCifar10DvsEvents(join(dir, samples[i].file));
      // Marked as handled now: it is awaited in turn, and a failure must not surface earlier.
      p.catch(() => undefined);
      ahead.set(i, p);
    };
    for (let i = 0; i < 4; i++) start(i);
    await writeFrameCache(
      path,
      header,
      async (i, out) => {
        start(i + 4);
        const ev = await (ahead.get(i) as Promise<Events>);
        ahead.delete(i);
        integrateInto(ev, spec, out);
      },
      opts.onProgress,
    );
    cache = openFrameCache(path);
    if (cache === null) throw new Error(`frame cache ${path} unreadable right after writing it`);
  }
  return { cache, samples };
}

function frameSet(cache: CacheFile, indices: number[], labels: number[]): EventFrameSet {
  const { timesteps, height, width, channels } = cache.header;
  return {
    frames: readCachedSamples(cache, indices),
    labels: Uint8Array.from(indices, (i) => labels[i]),
    count: indices.length,
    timesteps,
    height,
    width,
    channels,
    numClasses: CIFAR10_DVS_CLASSES.length,
  };
}

/**
 * The split of `samples` that `dvs` asks for, written next to the cache as `split-<hash>.json`
 * (both name lists), so that a run can point at it and another machine compare hashes.
 */
export async function cifar10DvsSplit(samples: Sample[], dvs: DvsConfig, dir: string): Promise<{ train: Sample[]; test: Sample[]; record: SplitRecord }> {
  const split = splitSamples(samples, CIFAR10_DVS_CLASSES.length, dvs.testSplit, dvs.splitSeed);
  const seed = dvs.testSplit === 'seeded' ? dvs.splitSeed : null;
  const file = join(dir, `split-${split.hash.slice(0, 16)}.json`);
  if (!existsSync(file)) {
    const json = { dataset: 'cifar10-dvs', mode: dvs.testSplit, seed, hash: split.hash, train: split.train.map((s) => s.file), test: split.test.map((s) => s.file) };
    const tmp = `${file}.tmp-${process.pid}`;
    await writeFile(tmp, `${JSON.stringify(json)}\n`);
    renameSync(tmp, file);
  }
  return { train: split.train, test: split.test, record: { mode: dvs.testSplit, seed, train: split.train.length, test: split.test.length, hash: split.hash, file } };
}

/** Both splits of CIFAR10-DVS from a located folder, frames in memory, with the split's record. */
export async function loadCifar10Dvs(dir: string, cfg: DataConfig, opts: PrepareOptions = {}): Promise<EventDatasetSplits> {
  const { cache, samples } = await prepareCifar10Dvs(dir, cfg.dvs, opts);
  const split = await cifar10DvsSplit(samples, cfg.dvs, dirname(cache.path));
  const position = new Map(cache.header.files.map((f, i) => [f, i]));
  const indicesOf = (list: Sample[], limit: number | null): number[] =>
    list.slice(0, limit ?? list.length).map((s) => position.get(s.file) as number);
  return {
    name: 'cifar10-dvs',
    train: frameSet(cache, indicesOf(split.train, cfg.trainLimit), cache.header.labels),
    test: frameSet(cache, indicesOf(split.test, cfg.testLimit), cache.header.labels),
    classNames: [...CIFAR10_DVS_CLASSES],
    source: dir,
    cache: cache.path,
    split: split.record,
  };
}
