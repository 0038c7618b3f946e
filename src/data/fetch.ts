/**
 * `snn data fetch`: download a data set's files, check them against the published checksums,
 * unpack them, and mark the folder as complete.
 *
 * Folder states under the root:
 *   .downloads/<file>.part   an interrupted download, resumed by the next call
 *   .downloads/<file>        a complete download, checked again before use
 *   .staging-<pid>/          unpacking in progress; removed on failure and at the next call
 *   .snn-fetch.json          the marker, written last: what was fetched, from where, checksums
 * Unpacked entries are moved from staging into the root one top-level entry at a time, each a
 * rename, so an entry is either wholly there or absent; and nothing counts as fetched until the
 * marker exists. A second call finds the data (and marker) and does nothing.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import type { FileDatasetName } from './catalog.js';
import { downloadFile, NetworkError, type DownloadProgress } from './download.js';
import { extractTarGz, extractZip } from './extract.js';
import type { DatasetSource } from './sources.js';
import type { Located } from './types.js';

export const MARKER = '.snn-fetch.json';
const DOWNLOADS = '.downloads';

export interface FetchedFile {
  name: string;
  url: string;
  md5: string;
  bytes: number;
}

export interface Marker {
  dataset: FileDatasetName;
  fetchedAt: string;
  files: FetchedFile[];
  /** Top-level entries the archives unpacked to. */
  entries: string[];
}

export interface FetchOptions {
  /** The folder to fill (created if needed). */
  root: string;
  /** Where the data set's files are found once unpacked (the registry's locate). */
  locate: (root: string) => Located;
  progress?: DownloadProgress;
  /** One-line notes for the user (stderr). */
  log?: (line: string) => void;
  keepArchives?: boolean;
  retries?: number;
}

export interface FetchResult {
  dataset: FileDatasetName;
  root: string;
  /** The folder the loaders will read. */
  dir: string;
  status: 'fetched' | 'present';
  marker: Marker | null;
}

/** md5 of a file, streamed. */
export async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function readMarker(root: string): Marker | null {
  try {
    return JSON.parse(readFileSync(join(root, MARKER), 'utf8')) as Marker;
  } catch {
    return null;
  }
}

/** The one-line instructions for getting the files without `snn data fetch`. */
export function byHand(source: DatasetSource, root: string): string {
  const names = source.files.map((f) => f.name).join(', ');
  const what =
    source.unpack === 'keep'
      ? `put ${names} into ${root}`
      : `download ${names} and unpack ${source.files.length > 1 ? 'them' : 'it'} into ${root}`;
  return `${what} (from ${source.homepage}), then check with: snn data info ${source.name} --root ${root}`;
}

function removeStaleStaging(root: string): void {
  for (const n of readdirSync(root)) if (n.startsWith('.staging-')) rmSync(join(root, n), { recursive: true, force: true });
}

async function unpack(source: DatasetSource, files: string[], staging: string): Promise<void> {
  for (const file of files) {
    if (source.unpack === 'tar.gz') await extractTarGz(file, staging);
    else if (source.unpack === 'zip') await extractZip(file, staging);
  }
}

/** Downloads, verifies and unpacks `source` into `opts.root`; a no-op if the data is there. */
export async function fetchSource(source: DatasetSource, opts: FetchOptions): Promise<FetchResult> {
  const root = resolve(opts.root);
  const log = opts.log ?? (() => undefined);
  const found = opts.locate(root);
  const existing = readMarker(root);
  if (found.ok) return { dataset: source.name, root, dir: found.dir, status: 'present', marker: existing };

  try {
    mkdirSync(join(root, DOWNLOADS), { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create ${root}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  removeStaleStaging(root);

  // 1. Every file downloaded and verified before anything is unpacked.
  const fetched: FetchedFile[] = [];
  const paths: string[] = [];
  for (const f of source.files) {
    const dest = join(root, DOWNLOADS, f.name);
    let url = '(earlier download)';
    if (existsSync(dest) && (await md5File(dest)) !== f.md5) rmSync(dest);
    if (!existsSync(dest)) {
      try {
        url = await downloadFile(f.urls, dest, f.name, { progress: opts.progress, retries: opts.retries });
      } catch (e) {
        if (e instanceof NetworkError) {
          throw new UserError(`cannot reach the server for ${source.name} (${e.message.replace(/^cannot download /, '')}); offline? To install by hand, ${byHand(source, root)}`);
        }
        throw e;
      }
      const md5 = await md5File(dest);
      if (md5 !== f.md5) {
        rmSync(dest, { force: true });
        throw new UserError(`${f.name} from ${url} failed its checksum (md5 ${md5}, published ${f.md5}); deleted it, nothing was unpacked`);
      }
      log(`${f.name}: md5 ok`);
    }
    paths.push(dest);
    fetched.push({ name: f.name, url, md5: f.md5, bytes: statSync(dest).size });
  }

  // 2. Unpack into staging, then move each top-level entry into place.
  const staging = join(root, `.staging-${process.pid}`);
  mkdirSync(staging);
  try {
    if (source.unpack === 'keep') {
      for (const p of paths) renameSync(p, join(staging, basename(p)));
    } else {
      try {
        await unpack(source, paths, staging);
      } catch (e) {
        throw new UserError(`cannot unpack ${source.name} (${(e as Error).message.split('\n')[0]}); nothing was moved into ${root}`);
      }
    }
    const entries = readdirSync(staging);
    for (const n of entries) {
      rmSync(join(root, n), { recursive: true, force: true });
      renameSync(join(staging, n), join(root, n));
    }
    const located = opts.locate(root);
    if (!located.ok) throw new UserError(`${source.name}: the downloaded files unpacked without ${located.missing.join(', ')}`);
    const marker: Marker = { dataset: source.name, fetchedAt: new Date().toISOString(), files: fetched, entries };
    const tmp = join(root, `${MARKER}.tmp`);
    writeFileSync(tmp, `${JSON.stringify(marker, null, 2)}\n`);
    renameSync(tmp, join(root, MARKER));
    if (!opts.keepArchives) rmSync(join(root, DOWNLOADS), { recursive: true, force: true });
    return { dataset: source.name, root, dir: located.dir, status: 'fetched', marker };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
