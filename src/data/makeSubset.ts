/**
 * Makes the shipped Fashion-MNIST subset from a full copy (by default Debian's package
 * dataset-fashion-mnist): the first N training and first M test images with their labels,
 * written as gzip IDX files under the standard names. Deterministic: same input, same bytes
 * (gzip level 9, no timestamp).
 *
 *   npx tsc -p . && node dist/src/data/makeSubset.js \
 *     [--from /usr/share/datasets/fashion-mnist] [--out datasets/fashion-mnist-subset] [--train 10000] [--test 2000]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { encodeIdx, IDX_FILES, readIdx } from './idx.js';
import { findGzOrRaw } from './files.js';
import { UserError } from '../util/errors.js';

export interface SubsetReport {
  file: string;
  bytes: number;
}

async function writeIdxGz(dir: string, name: string, dims: number[], data: Uint8Array): Promise<SubsetReport> {
  const file = join(dir, `${name}.gz`);
  const gz = gzipSync(encodeIdx(dims, data), { level: 9 });
  await writeFile(file, gz);
  return { file, bytes: gz.length };
}

/** Per-class counts of a label array. */
export function classCounts(labels: Uint8Array, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const l of labels) counts[l]++;
  return counts;
}

/** Writes the first `nTrain` / `nTest` images and labels of `from` to `out`. */
export async function makeSubset(from: string, out: string, nTrain: number, nTest: number): Promise<SubsetReport[]> {
  await mkdir(out, { recursive: true });
  const reports: SubsetReport[] = [];
  const splits: [string, string, number][] = [
    [IDX_FILES.trainImages, IDX_FILES.trainLabels, nTrain],
    [IDX_FILES.testImages, IDX_FILES.testLabels, nTest],
  ];
  for (const [imagesName, labelsName, n] of splits) {
    const imagesFile = findGzOrRaw(from, imagesName);
    const labelsFile = findGzOrRaw(from, labelsName);
    if (imagesFile === null || labelsFile === null) throw new UserError(`${from} lacks ${imagesName} or ${labelsName}`);
    const images = await readIdx(imagesFile);
    const labels = await readIdx(labelsFile);
    const [count, h, w] = images.dims;
    if (n > count) throw new UserError(`${imagesFile} has ${count} images, fewer than ${n}`);
    reports.push(await writeIdxGz(out, imagesName, [n, h, w], images.data.subarray(0, n * h * w)));
    reports.push(await writeIdxGz(out, labelsName, [n], labels.data.subarray(0, n)));
    console.log(`${imagesName}: ${n} images, class counts ${classCounts(labels.data.subarray(0, n), 10).join(' ')}`);
  }
  return reports;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      from: { type: 'string', default: '/usr/share/datasets/fashion-mnist' },
      out: { type: 'string', default: 'datasets/fashion-mnist-subset' },
      train: { type: 'string', default: '10000' },
      test: { type: 'string', default: '2000' },
    },
  });
  const reports = await makeSubset(values.from, values.out, Number(values.train), Number(values.test));
  for (const r of reports) console.log(`${r.file}: ${r.bytes} bytes`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(e instanceof UserError ? 2 : 1);
  });
}
