/**
 * `snn data fetch|info|prepare NAME`: get a data set, say what is there, and (for CIFAR10-DVS)
 * build the frame cache ahead of training. Progress goes to stderr; `--json` prints the result
 * on stdout.
 */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { dirname } from 'node:path';
import { applySet, readConfigFile, validateConfig } from '../config/load.js';
import type { FileDatasetName } from '../data/catalog.js';
import { cifar10DvsSplit, prepareCifar10Dvs } from '../data/cifar10Dvs.js';
import type { DownloadProgress } from '../data/download.js';
import { fetchSource } from '../data/fetch.js';
import { datasetInfo, type InfoReport } from '../data/info.js';
import { folderInfo } from '../data/folderInfo.js';
import { DataSchema } from '../config/schema.js';
import { defaultDirs, findDatasetDir, locateDataset } from '../data/registry.js';
import { SOURCES, withMirror } from '../data/sources.js';
import { UserError } from '../util/errors.js';
import { collect, EXIT } from './common.js';

const NAMES = Object.keys(SOURCES) as FileDatasetName[];

function datasetName(value: string): FileDatasetName {
  if (!(NAMES as string[]).includes(value)) throw new UserError(`unknown data set '${value}' (one of ${NAMES.join(', ')})`);
  return value as FileDatasetName;
}

const mb = (n: number): string => (n / 2 ** 20).toFixed(1);

/** A bar per file on a terminal; a line per file otherwise. */
function downloadProgress(quiet: boolean): DownloadProgress {
  const tty = process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | null = null;
  let current = { name: '', received: 0, from: 0 };
  return {
    start(name, url, received, total) {
      current = { name, received, from: received };
      if (quiet) return;
      const resumed = received > 0 ? ` (resuming at ${mb(received)} MB)` : '';
      if (!tty || total === null) {
        process.stderr.write(`downloading ${name} from ${url}${resumed}\n`);
        return;
      }
      bar = new cliProgress.SingleBar(
        { format: `${name} |{bar}| {percentage}% {got}/{all} MB ETA {eta_formatted}`, stream: process.stderr, hideCursor: true, clearOnComplete: true, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, received, { got: mb(received), all: mb(total) });
    },
    update(received) {
      current.received = received;
      bar?.update(received, { got: mb(received) });
    },
    stop() {
      bar?.stop();
      bar = null;
      if (!quiet) process.stderr.write(`${current.name}: ${mb(current.received - current.from)} MB received\n`);
    },
  };
}

interface FetchFlags {
  root?: string;
  mirror?: string;
  keepArchives?: boolean;
  quiet?: boolean;
  json?: boolean;
}

interface InfoFlags {
  root?: string;
  json?: boolean;
  check?: boolean;
}

/** `snn data info imagefolder`: a folder the user names rather than a known download. */
async function imageFolderInfo(f: InfoFlags): Promise<void> {
  if (f.root === undefined) throw new UserError('snn data info imagefolder: --root DIR is required (the folder holding train/ and val/)');
  const limits = DataSchema.parse({}).imagefolder;
  const r = await folderInfo(f.root, limits, f.check === true);
  if (f.json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const names = r.classNames.length > 5 ? `${r.classNames.slice(0, 5).join(', ')}, ...` : r.classNames.join(', ');
  const checked = r.decoded === null ? 'images not decoded (--check decodes them all)' : `all ${r.decoded} images decode`;
  process.stdout.write(`imagefolder: ${r.root}: ${r.classes} classes (${names}); train ${r.train} images, val ${r.val}; ${checked}\n`);
}

interface PrepareFlags {
  config?: string;
  set: string[];
  root?: string;
  frames?: string;
  splitBy?: string;
  size?: string;
  cache?: string;
  quiet?: boolean;
  json?: boolean;
}

function printInfo(r: InfoReport): void {
  const out: string[] = [];
  if (!r.found) {
    out.push(`${r.dataset}: not found (looked in ${r.looked.join(', ')})`);
    if (r.missing.length > 0) out.push(`  missing: ${r.missing.join(', ')}`);
    out.push(`  get it with: snn data fetch ${r.dataset}`);
  } else {
    const how = r.marker ? `fetched ${r.marker.fetchedAt}, archive md5 checked` : 'not fetched by snn';
    const verdict = { verified: 'verifies', differs: 'does NOT match the published files', unchecked: 'no published checksum for these files' }[r.verdict];
    out.push(`${r.dataset}: ${r.dir} (${how}; ${verdict})`);
    for (const f of r.files) out.push(`  ${f.check.padEnd(11)} ${f.path} (${mb(f.bytes)} MB)`);
  }
  for (const n of r.notes) out.push(`  note: ${n}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

export function dataCommand(program: Command): void {
  const data = program.command('data').description('download data sets, check them, and build the CIFAR10-DVS frame cache');

  data
    .command('fetch')
    .argument('<name>', NAMES.join(' | '))
    .description('download a data set from its official location, verify its published checksum and unpack it')
    .option('--root <dir>', 'folder to put it in (default: ./datasets/<name>)')
    .option('--mirror <url>', 'fetch <url>/<file name> instead of the official URLs (also: SNN_DATA_MIRROR)')
    .option('--keep-archives', 'keep the downloaded archives in <root>/.downloads')
    .option('-q, --quiet', 'no progress output')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (nameArg: string, f: FetchFlags) => {
      const name = datasetName(nameArg);
      if (f.root === undefined) {
        // Already somewhere the loaders look (a system package, the project's datasets/): done.
        const dir = defaultDirs(name).map((d) => locateDataset(name, d)).find((l) => l.ok);
        if (dir?.ok) {
          if (f.json) process.stdout.write(`${JSON.stringify({ dataset: name, dir: dir.dir, status: 'present', marker: null }, null, 2)}\n`);
          else if (!f.quiet) process.stderr.write(`${name}: already present in ${dir.dir} (snn data info ${name} checks it)\n`);
          return;
        }
      }
      const root = f.root ?? `datasets/${name}`;
      const source = withMirror(SOURCES[name], f.mirror ?? process.env.SNN_DATA_MIRROR ?? null);
      const result = await fetchSource(source, {
        root,
        locate: (dir) => locateDataset(name, dir),
        progress: downloadProgress(f.quiet === true || f.json === true),
        log: (line) => {
          if (!f.quiet && !f.json) process.stderr.write(`${line}\n`);
        },
        keepArchives: f.keepArchives === true,
      });
      if (f.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else if (!f.quiet) {
        const what = result.status === 'present' ? 'already present' : 'fetched, checksums verified,';
        process.stderr.write(`${name}: ${what} in ${result.dir}\n`);
      }
    });

  data
    .command('info')
    .argument('<name>', `${NAMES.join(' | ')} | imagefolder`)
    .description('say whether a data set is present, where, and whether its files verify (exit 1 if missing or a checksum differs)')
    .option('--root <dir>', 'look only in this folder')
    .option('--json', 'print the report as JSON on stdout')
    .option('--check', 'imagefolder: decode every image (finds non-images and truncated files; exit 2 on the first)')
    .action(async (nameArg: string, f: InfoFlags) => {
      if (nameArg === 'imagefolder') return imageFolderInfo(f);
      const report = await datasetInfo(datasetName(nameArg), f.root ?? null);
      if (f.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else printInfo(report);
      if (!report.found || report.verdict === 'differs') process.exitCode = EXIT.failure;
    });

  data
    .command('prepare')
    .argument('<name>', 'cifar10-dvs')
    .description('integrate CIFAR10-DVS events into frames and write the frame cache and the train/test split')
    .option('-c, --config <file>', "take the data section of this config (flags override it)")
    .option('-s, --set <key=value>', 'override a config value (repeatable), e.g. data.dvs.size=64', collect, [])
    .option('--root <dir>', 'the folder with the class folders of .aedat files')
    .option('--frames <T>', 'frames per sample (data.dvs.frames)')
    .option('--split-by <mode>', 'number | time (data.dvs.splitBy)')
    .option('--size <px>', 'frame side in pixels, 1-128 (data.dvs.size)')
    .option('--cache <dir>', 'frame cache folder (data.dvs.cache)')
    .option('-q, --quiet', 'no progress output')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (nameArg: string, f: PrepareFlags) => {
      const name = datasetName(nameArg);
      if (name !== 'cifar10-dvs') throw new UserError(`snn data prepare: only cifar10-dvs needs preparing, not ${name}`);
      const source = f.config ?? 'snn data prepare';
      const tree = f.config ? readConfigFile(f.config) : {};
      const sets = [...f.set, 'data.dataset=cifar10-dvs'];
      if (f.root !== undefined) sets.push(`data.root=${f.root}`);
      if (f.frames !== undefined) sets.push(`data.dvs.frames=${f.frames}`);
      if (f.splitBy !== undefined) sets.push(`data.dvs.splitBy=${f.splitBy}`);
      if (f.size !== undefined) sets.push(`data.dvs.size=${f.size}`);
      if (f.cache !== undefined) sets.push(`data.dvs.cache=${f.cache}`);
      for (const s of sets) applySet(tree, s);
      const cfg = validateConfig(tree, source);
      const dir = findDatasetDir(name, cfg.data.root);
      const quiet = f.quiet === true || f.json === true;
      const tty = process.stderr.isTTY === true;
      let bar: cliProgress.SingleBar | null = null;
      let lastLine = 0;
      const { cache, samples } = await prepareCifar10Dvs(dir, cfg.data.dvs, {
        onBuild: (path, count) => {
          if (quiet) return;
          process.stderr.write(`building ${path} from ${count} event files\n`);
          if (tty) {
            bar = new cliProgress.SingleBar({ format: 'frames |{bar}| {value}/{total} files ETA {eta_formatted}', stream: process.stderr, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
            bar.start(count, 0);
          }
        },
        onProgress: (done, total) => {
          if (quiet) return;
          if (bar) bar.update(done);
          else if (done === total || Date.now() - lastLine > 10_000) {
            lastLine = Date.now();
            process.stderr.write(`frames: ${done}/${total} files\n`);
          }
          if (done === total) (bar as cliProgress.SingleBar | null)?.stop();
        },
      });
      const split = await cifar10DvsSplit(samples, cfg.data.dvs, dirname(cache.path));
      const result = {
        dataset: name,
        source: dir,
        cache: cache.path,
        samples: cache.header.count,
        frames: cache.header.timesteps,
        height: cache.header.height,
        width: cache.header.width,
        splitBy: cfg.data.dvs.splitBy,
        split: split.record,
      };
      if (f.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else if (!f.quiet) {
        process.stderr.write(
          `cifar10-dvs: ${result.samples} samples of ${result.frames}x${result.height}x${result.width}x2 in ${cache.path}; ` +
            `split ${split.record.mode} ${split.record.train}/${split.record.test}, sha256 ${split.record.hash.slice(0, 16)} (${split.record.file})\n`,
        );
      }
    });

  for (const c of data.commands) c.exitOverride();
  data.exitOverride();
}
