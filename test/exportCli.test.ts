/**
 * `snn export` and `snn eval --exported` end to end on synthetic data: a ternary run exported
 * to the packed format agrees with `snn eval` of its checkpoint, NIR opens with h5wasm, and bad
 * input (float model without --post-training, existing output folder, missing or corrupt
 * checkpoint, a layer NIR cannot express, a corrupt export) is one line, exit 2, nothing left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readNir } from '../src/export/nir.js';
import { fixture, runCli, snapshot, tempDir } from './helpers.js';

const runs = tempDir('export');
const train = (...sets: string[]): string => {
  const r = runCli(['train', '--config', fixture('synthetic.yaml'), '--runs-dir', runs, '--json', '--quiet', ...sets.flatMap((s) => ['--set', s])]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { run: string }).run;
};
const oneLine = (stderr: string, re: RegExp): void => {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0], re);
};
/** No export folder and no temporary sibling left in a run folder. */
const noExportLeft = (run: string): void => {
  assert.deepEqual(readdirSync(run).filter((n) => n.includes('export')), []);
};

interface ExportJson {
  out: string;
  ternary: boolean;
  postTraining: boolean;
  sizes: { packedBytes: number; float32Bytes: number; ternaryLayers: { count: number; ratio: number; packedBytes: number; float32Bytes: number } };
  layers: { id: string; precision: string }[];
}
interface ExportedEvalJson {
  accuracy: number;
  count: number;
  imagesPerSecond: number;
  firingRates: Record<string, number>;
  postTraining: boolean;
  compare: { agreement: number; tfjsAccuracy: number; accuracyDeltaPoints: number; checkpointChanged: boolean } | null;
}

test('ternary run → snn export: 2-bit packed, engine agrees with snn eval; NIR opens with h5wasm', async () => {
  const run = train('name=tern', 'quant.bits=2', 'train.epochs=3');
  const e = runCli(['export', run, '--ternary', '--json']);
  assert.equal(e.code, 0, e.stderr);
  const ex = JSON.parse(e.stdout) as ExportJson;
  assert.equal(ex.out, join(realpathSync(run), 'export-snn'));
  assert.ok(existsSync(join(ex.out, 'manifest.json')) && existsSync(join(ex.out, 'model.bin')));
  assert.ok(ex.sizes.ternaryLayers.count >= 6, JSON.stringify(ex.sizes));
  // Codes at 2 bits + a float32 scale and bias per channel: near 16× on the ternary layers.
  assert.ok(ex.sizes.ternaryLayers.ratio > 10, JSON.stringify(ex.sizes.ternaryLayers));
  assert.ok(ex.sizes.packedBytes < ex.sizes.float32Bytes);
  assert.deepEqual(
    ex.layers.filter((l) => l.precision === 'float32').map((l) => l.id),
    ['stem', 'head'],
  );
  const manifest = JSON.parse(readFileSync(join(ex.out, 'manifest.json'), 'utf8')) as { nodes: { op: string; precision?: string; scale?: unknown }[]; source: { config: unknown; checkpoint: string } };
  assert.ok(manifest.nodes.some((n) => n.op === 'add'), 'residual join recorded');
  assert.ok(manifest.nodes.filter((n) => n.precision === 'ternary').every((n) => n.scale));
  assert.ok(manifest.source.config && manifest.source.checkpoint);

  const ev = runCli(['eval', run, '--json']);
  assert.equal(ev.code, 0, ev.stderr);
  const ref = JSON.parse(ev.stdout) as { accuracy: number; count: number; firingRates: Record<string, number> };
  const x = runCli(['eval', '--exported', ex.out, '--compare', '--json']);
  assert.equal(x.code, 0, x.stderr);
  const got = JSON.parse(x.stdout) as ExportedEvalJson;
  assert.equal(got.count, ref.count);
  assert.ok(got.compare && got.compare.agreement >= 0.999, JSON.stringify(got.compare));
  assert.ok(Math.abs(got.accuracy - ref.accuracy) <= 0.001, `engine ${got.accuracy} vs snn eval ${ref.accuracy}`);
  assert.ok(Math.abs(got.compare.tfjsAccuracy - ref.accuracy) < 1e-9);
  assert.equal(got.compare.checkpointChanged, false);
  assert.ok(got.imagesPerSecond > 0 && Object.keys(got.firingRates).length >= 5);
  assert.deepEqual(Object.keys(got.firingRates), Object.keys(ref.firingRates));
  for (const [k, v] of Object.entries(ref.firingRates)) assert.ok(Math.abs(got.firingRates[k] - v) < 1e-3, `${k}: engine ${got.firingRates[k]}, tfjs ${v}`);
  const text = runCli(['eval', '--exported', ex.out]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /accuracy\s+\d+\.\d\d%/);
  assert.match(text.stdout, /speed\s+\d+ img\/s/);

  // The fast runtime (default), the wasm pool and the reference runtime: the same numbers, exactly.
  const runtimes = [['--runtime', 'reference', '--batch', '1'], ['--runtime', 'wasm', '--batch', '7', '--threads', '2'], ['--batch', '5']].map((flags) => {
    const r = runCli(['eval', '--exported', ex.out, '--json', ...flags]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as ExportedEvalJson & { loss: number; batch: number; runtime: string; latencyMs: { p50: number }; weightBytes: number | null };
  });
  const [refRt, wasmRt, autoRt] = runtimes;
  assert.match(refRt.runtime, /reference/);
  assert.match(wasmRt.runtime, /wasm .*2 worker threads/);
  assert.equal(refRt.weightBytes, null);
  for (const r of [wasmRt, autoRt]) {
    assert.equal(r.accuracy, refRt.accuracy);
    assert.equal(r.loss, refRt.loss);
    assert.deepEqual(r.firingRates, refRt.firingRates);
    assert.ok(r.weightBytes !== null && r.weightBytes > 0 && r.weightBytes < ex.sizes.float32Bytes, String(r.weightBytes));
  }
  assert.deepEqual(runtimes.map((r) => r.batch), [1, 7, 5]);
  assert.ok(runtimes.every((r) => r.latencyMs.p50 > 0 && r.imagesPerSecond > 0));
  for (const [flags, re] of [
    [['--runtime', 'gpu'], /--runtime/],
    [['--batch', '0'], /--batch/],
    [['--threads', 'x'], /--threads/],
  ] as const) {
    const r = runCli(['eval', '--exported', ex.out, ...flags]);
    assert.equal(r.code, 2, r.stderr);
    oneLine(r.stderr, re);
  }
  const misplaced = runCli(['eval', run, '--threads', '2']);
  assert.equal(misplaced.code, 2);
  oneLine(misplaced.stderr, /--threads: goes with --exported DIR/);

  // The folder exists now: refused without --force, replaced with it.
  const before = snapshot(ex.out);
  const again = runCli(['export', run, '--ternary']);
  assert.equal(again.code, 2);
  oneLine(again.stderr, /export-snn: already exists \(add --force to replace it\)/);
  assert.deepEqual(snapshot(ex.out), before);
  const forced = runCli(['export', run, '--ternary', '--force', '--json']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(readdirSync(run).filter((n) => n.includes('export')).sort(), ['export-snn']);

  const nirOut = join(runs, 'tern-nir');
  const n = runCli(['export', run, '--ternary', '--format', 'nir', '--out', nirOut]);
  assert.equal(n.code, 0, n.stderr);
  const g = await readNir(join(nirOut, 'model.nir'));
  assert.equal(g.version, '1.0.6');
  const types = [...g.nodes.values()].map((v) => v.type);
  for (const t of ['Input', 'Conv2d', 'LIF', 'Flatten', 'Affine', 'Output']) assert.ok(types.includes(t), t);
  assert.ok(g.edges.length >= g.nodes.size - 1);
  const x2 = runCli(['eval', '--exported', nirOut]);
  assert.equal(x2.code, 2);
  oneLine(x2.stderr, /a NIR export; snn eval --exported runs the snn format/);

  // A corrupt export is refused by the engine, naming the file.
  const bin = join(ex.out, 'model.bin');
  const bytes = readFileSync(bin);
  bytes[bytes.length >> 1] ^= 0x55;
  writeFileSync(bin, bytes);
  const bad = runCli(['eval', '--exported', ex.out]);
  assert.equal(bad.code, 2);
  oneLine(bad.stderr, /model\.bin: checksum mismatch/);
});

test('float run: --ternary refused without --post-training; with it, ternarised after training and said so', () => {
  const run = train('name=float', 'train.epochs=1');
  const r = runCli(['export', run, '--ternary']);
  assert.equal(r.code, 2);
  oneLine(r.stderr, /--ternary: .* was trained with quant\.bits 32, not ternary \(2\).*--post-training/);
  noExportLeft(run);
  const p = runCli(['export', run, '--ternary', '--post-training', '--json']);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stderr, /post-training ternarisation/);
  const ex = JSON.parse(p.stdout) as ExportJson;
  assert.equal(ex.postTraining, true);
  assert.ok(ex.sizes.ternaryLayers.count >= 6);
  const manifest = JSON.parse(readFileSync(join(ex.out, 'manifest.json'), 'utf8')) as { postTraining: boolean; notes: string[] };
  assert.equal(manifest.postTraining, true);
  assert.match(manifest.notes.join(' '), /ternarised with TWN after training/);
  const x = runCli(['eval', '--exported', ex.out, '--compare', '--json']);
  assert.equal(x.code, 0, x.stderr);
  const got = JSON.parse(x.stdout) as ExportedEvalJson;
  assert.equal(got.postTraining, true);
  // Compared against the same post-training ternarisation run in TensorFlow.js.
  assert.ok(got.compare && got.compare.agreement >= 0.99, JSON.stringify(got.compare));
  // A float model exports as float32 without --ternary.
  const f = runCli(['export', run, '--out', join(runs, 'float-f32'), '--json']);
  assert.equal(f.code, 0, f.stderr);
  assert.equal((JSON.parse(f.stdout) as ExportJson).sizes.ternaryLayers.count, 0);
});

test('bad input: missing run, corrupt checkpoint, a layer NIR cannot express: one line, exit 2, nothing written', () => {
  const missing = runCli(['export', join(runs, 'no-such-run'), '--ternary', '--runs-dir', runs]);
  assert.equal(missing.code, 2);
  oneLine(missing.stderr, /no-such-run/);

  const run = train('name=iand', 'quant.bits=2', 'train.epochs=1', 'model.connection=sew-iand');
  const nir = runCli(['export', run, '--ternary', '--format', 'nir']);
  assert.equal(nir.code, 2);
  oneLine(nir.stderr, /--format nir: .*IAND join/);
  noExportLeft(run);
  // The packed format and its engine handle IAND joins.
  const snn = runCli(['export', run, '--ternary', '--out', join(runs, 'iand-snn')]);
  assert.equal(snn.code, 0, snn.stderr);

  const copy = join(runs, 'corrupt-run');
  cpSync(run, copy, { recursive: true, verbatimSymlinks: true });
  const ck = join(copy, 'checkpoints', 'best');
  const w = join(realpathSync(ck), 'weights.bin');
  const bytes = readFileSync(w);
  bytes[7] ^= 0xff;
  writeFileSync(w, bytes);
  const before = snapshot(dirname(ck));
  const r = runCli(['export', copy, '--ternary']);
  assert.equal(r.code, 2);
  oneLine(r.stderr, /weights\.bin: checksum mismatch/);
  noExportLeft(copy);
  assert.deepEqual(snapshot(dirname(ck)), before);

  const unknownFormat = runCli(['export', run, '--format', 'onnx']);
  assert.equal(unknownFormat.code, 2);
  oneLine(unknownFormat.stderr, /--format: 'onnx' is not one of snn, nir/);
});
