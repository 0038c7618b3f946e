/**
 * `snn data info`: where a data set is, which of its files are there, and how far they can be
 * verified. The levels, strongest first:
 * - `md5 ok`: the file as found matches the published checksum (the gzip IDX files);
 * - `content ok`: its decompressed content matches the original's md5 (a repacked gzip, or an
 *   unpacked IDX file);
 * - `fetched`: the folder carries the marker of `snn data fetch`, which checked the archive
 *   against its published checksum before unpacking it;
 * - `size ok`: the size is what the format implies (CIFAR records); there is no published
 *   checksum for unpacked files.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { FileDatasetName } from './catalog.js';
import { CIFAR_LAYOUTS } from './cifar.js';
import { CIFAR10_DVS_CLASSES } from './cifar10Dvs.js';
import { openFrameCache } from './frameCache.js';
import { findGzOrRaw, isDir, readMaybeGzip } from './files.js';
import { IDX_FILES } from './idx.js';
import { md5File, readMarker, type Marker } from './fetch.js';
import { defaultDirs, expectedFiles, locateDataset } from './registry.js';
import { packageRoot } from '../util/paths.js';
import { SOURCES } from './sources.js';

export type FileCheck = 'md5 ok' | 'content ok' | 'md5 differs' | 'size ok' | 'size wrong' | 'present';

export interface InfoReport {
  dataset: FileDatasetName;
  found: boolean;
  /** The folder the loaders read, when found. */
  dir: string | null;
  /** Folders looked in, in order. */
  looked: string[];
  /** What is missing in the first folder that exists, when not found. */
  missing: string[];
  files: { path: string; bytes: number; check: FileCheck }[];
  marker: Marker | null;
  /**
   * verified: no check failed and an md5, the fetch marker or the sizes vouch for the files;
   * differs: a checksum or size is not the published one; unchecked: nothing to check against.
   */
  verdict: 'verified' | 'differs' | 'unchecked';
  notes: string[];
}

function rootDirs(root: string): string[] {
  return isAbsolute(root) ? [root] : [...new Set([resolve(root), resolve(packageRoot(), root)])];
}

async function checkIdx(name: FileDatasetName, dir: string): Promise<InfoReport['files']> {
  const published = new Map(SOURCES[name].files.map((f) => [f.name, f]));
  const out: InfoReport['files'] = [];
  for (const base of Object.values(IDX_FILES)) {
    const path = findGzOrRaw(dir, base);
    if (path === null) continue;
    const bytes = statSync(path).size;
    const ref = published.get(`${base}.gz`);
    let check: FileCheck = 'present';
    if (ref && path.endsWith('.gz') && (await md5File(path)) === ref.md5) check = 'md5 ok';
    else if (ref?.rawMd5) {
      const { bytes: content } = await readMaybeGzip(path);
      check = createHash('md5').update(content).digest('hex') === ref.rawMd5 ? 'content ok' : 'md5 differs';
    }
    out.push({ path, bytes, check });
  }
  return out;
}

function checkCifar(variant: 'cifar10' | 'cifar100', dir: string): InfoReport['files'] {
  const layout = CIFAR_LAYOUTS[variant];
  const record = layout.labelBytes + 3072;
  return [...layout.train, ...layout.test].map((n) => {
    const path = join(dir, n);
    const bytes = statSync(path).size;
    // Every binary batch holds 10,000 records, CIFAR-100's train.bin 50,000.
    const records = n === 'train.bin' ? 50000 : 10000;
    return { path, bytes, check: bytes === records * record ? 'size ok' : 'size wrong' };
  });
}

function checkDvs(dir: string, notes: string[]): InfoReport['files'] {
  const out: InfoReport['files'] = [];
  for (const c of CIFAR10_DVS_CLASSES) {
    const folder = join(dir, c);
    const names = readdirSync(folder).filter((n) => n.toLowerCase().endsWith('.aedat'));
    const bytes = names.reduce((s, n) => s + statSync(join(folder, n)).size, 0);
    out.push({ path: `${folder} (${names.length} .aedat files)`, bytes, check: 'present' });
  }
  const cacheDir = join(dir, '.snn-frames');
  if (isDir(cacheDir)) {
    for (const n of readdirSync(cacheDir).filter((f) => f.endsWith('.frames')).sort()) {
      const c = openFrameCache(join(cacheDir, n));
      notes.push(c ? `frame cache ${n}: ${c.header.count} samples, T=${c.header.timesteps}, ${c.header.height}x${c.header.width}, split by ${String(c.header.params.splitBy)}` : `frame cache ${n}: unreadable (will be rebuilt)`);
    }
  }
  return out;
}

export async function datasetInfo(name: FileDatasetName, root: string | null): Promise<InfoReport> {
  const looked = root === null ? defaultDirs(name) : rootDirs(root);
  const report: InfoReport = { dataset: name, found: false, dir: null, looked, missing: [], files: [], marker: null, verdict: 'unchecked', notes: [] };
  let firstExisting: string | null = null;
  for (const candidate of looked) {
    if (!isDir(candidate)) continue;
    firstExisting ??= candidate;
    const loc = locateDataset(name, candidate);
    if (!loc.ok) continue;
    report.found = true;
    report.dir = loc.dir;
    report.marker = readMarker(candidate);
    break;
  }
  if (!report.found || report.dir === null) {
    report.missing = firstExisting ? (locateDataset(name, firstExisting) as { missing: string[] }).missing : expectedFiles(name);
    if (firstExisting && existsSync(join(firstExisting, '.downloads'))) report.notes.push(`an unfinished download is in ${join(firstExisting, '.downloads')}; snn data fetch ${name} resumes it`);
    return report;
  }
  const dir = report.dir;
  if (name === 'mnist' || name === 'fashion-mnist') report.files = await checkIdx(name, dir);
  else if (name === 'cifar10' || name === 'cifar100') report.files = checkCifar(name, dir);
  else report.files = checkDvs(dir, report.notes);
  const failed = report.files.some((f) => f.check === 'md5 differs' || f.check === 'size wrong');
  const vouched = report.marker !== null || report.files.some((f) => f.check === 'md5 ok' || f.check === 'content ok' || f.check === 'size ok');
  report.verdict = failed ? 'differs' : vouched ? 'verified' : 'unchecked';
  if (report.files.some((f) => f.check === 'md5 differs')) report.notes.push('a file differs from the published one (a subset, or another version of the data set)');
  return report;
}
