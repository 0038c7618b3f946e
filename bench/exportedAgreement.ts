/**
 * Agreement of the fast runtime with the reference runtime on a trained export's whole test
 * split: equal predictions, and logits compared bit for bit (the fast kernels reproduce the
 * reference's float arithmetic, so the bound is 0; the largest difference is reported anyway).
 *
 *   node dist/bench/exportedAgreement.js --export tiny=DIR [--export resnet20=DIR ...] [--out bench/results]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigSchema } from '../src/config/schema.js';
import { loadDataset } from '../src/data/registry.js';
import { evaluateRuntime, type EngineEvalResult } from '../src/export/runtime/evaluate.js';
import { createRunner, type RuntimeChoice } from '../src/export/runtime/runner.js';
import { readSnnExport } from '../src/export/snnFormat.js';
import { packageRoot } from '../src/util/paths.js';
import { flag } from './flags.js';
import { gitCommit, stamp } from './report.js';

interface Row {
  model: string;
  export: string;
  images: number;
  fast: string;
  samePredictions: number;
  logitsBitIdentical: number;
  maxAbsLogitDifference: number;
  accuracy: { reference: number; fast: number };
  imagesPerSecond: { reference: number; fast: number };
}

async function run(dir: string, runtime: RuntimeChoice, batch: number): Promise<{ r: EngineEvalResult; description: string }> {
  const { model, manifest } = readSnnExport(dir);
  const cfg = ConfigSchema.parse(manifest.source?.config);
  const data = await loadDataset(cfg.data, cfg.seed);
  const runner = await createRunner(model, { runtime, batch, threads: 1 });
  try {
    const r = await evaluateRuntime(runner, data.test, manifest.input.mean, manifest.input.std, model.numClasses);
    return { r, description: runner.description };
  } finally {
    await runner.close();
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const pairs = process.argv.flatMap((a, i) => (a === '--export' ? [process.argv[i + 1].split('=')] : []));
  for (const [name, dir] of pairs) {
    const ref = await run(dir, 'reference', 1);
    const fast = await run(dir, 'auto', 32);
    const n = ref.r.count;
    let same = 0;
    for (let i = 0; i < n; i++) if (ref.r.predictions[i] === fast.r.predictions[i]) same++;
    const a = new Uint32Array(ref.r.logits.buffer);
    const b = new Uint32Array(fast.r.logits.buffer);
    let identical = 0;
    let worst = 0;
    for (let i = 0; i < a.length; i++) {
      if (a[i] === b[i]) identical++;
      worst = Math.max(worst, Math.abs(ref.r.logits[i] - fast.r.logits[i]));
    }
    rows.push({
      model: name,
      export: dir,
      images: n,
      fast: fast.description,
      samePredictions: same,
      logitsBitIdentical: identical / a.length,
      maxAbsLogitDifference: worst,
      accuracy: { reference: ref.r.accuracy, fast: fast.r.accuracy },
      imagesPerSecond: { reference: ref.r.imagesPerSecond, fast: fast.r.imagesPerSecond },
    });
    process.stderr.write(`${name}: ${same}/${n} predictions equal, logits bit-identical ${(100 * identical / a.length).toFixed(2)}%\n`);
  }
  const outDir = flag('out', join(packageRoot(), 'bench', 'results'));
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `exported-agreement-${stamp(new Date())}`);
  const command = `node dist/bench/exportedAgreement.js ${process.argv.slice(2).join(' ')}`;
  writeFileSync(`${base}.json`, `${JSON.stringify({ createdAt: new Date().toISOString(), command, commit: gitCommit(packageRoot()), rows }, null, 2)}\n`);
  const md = [
    '# Fast runtime vs reference runtime: agreement on the test split',
    '',
    `\`${command}\``,
    '',
    '| model | images | fast runtime | equal predictions | logits bit-identical | max abs logit difference | accuracy (reference / fast) | img/s (reference, batch 1 / fast, batch 32) |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.model} | ${r.images} | ${r.fast} | ${r.samePredictions} of ${r.images} (${((100 * r.samePredictions) / r.images).toFixed(2)}%) | ${(100 * r.logitsBitIdentical).toFixed(2)}% | ${r.maxAbsLogitDifference} | ${(100 * r.accuracy.reference).toFixed(2)}% / ${(100 * r.accuracy.fast).toFixed(2)}% | ${r.imagesPerSecond.reference.toFixed(0)} / ${r.imagesPerSecond.fast.toFixed(0)} |`),
    '',
  ];
  writeFileSync(`${base}.md`, md.join('\n'));
  process.stderr.write(`wrote ${base}.json and .md\n`);
}

await main();
