/**
 * Per-image predictions: `snn eval --predictions` for a checkpoint (TensorFlow.js) and for an
 * export (the engine, a second implementation), checked against each other and against the
 * figures `snn eval --json` prints (accuracy, and the loss recomputed from the CSV logits);
 * `snn runs compare A.csv B.csv` against a comparison counted by hand; bad files refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { comparePredictions, float32Text, readPredictions } from '../src/runs/predictions.js';
import type { PerImage } from '../src/train/evaluate.js';
import { fixture, runCli, tempDir } from './helpers.js';

const work = tempDir('pred');

/** The CSV parsed by splitting lines (no quoting is ever needed in these files). */
function rowsOf(file: string): { head: string[]; rows: number[][] } {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  return { head: lines[0].split(','), rows: lines.slice(1).map((l) => l.split(',').map(Number)) };
}

test('float32Text: the shortest text that reads back as the same float32', () => {
  for (const v of [0, 1, -1, 0.1, 1 / 3, 3.4028234663852886e38, 1e-45, -7.2666492, 123456.789]) {
    const s = float32Text(v);
    assert.equal(Math.fround(Number(s)), Math.fround(v), `${v} → ${s}`);
    assert.ok(s.replace(/^-|\.|e.*$/g, '').replace(/^0+/, '').length <= 9, s);
  }
  assert.equal(float32Text(0.1), '0.1');
  assert.equal(float32Text(Math.fround(1 / 3)), '0.33333334');
});

test('comparePredictions: agreement, confusion matrix and per-class figures counted by hand', () => {
  const mk = (pred: number[]): PerImage => ({
    labels: Int32Array.from([0, 0, 1, 1, 2, 2]),
    predictions: Int32Array.from(pred),
    logits: new Float32Array(18).map((_, i) => (i % 3 === pred[Math.floor(i / 3)] ? 1 : 0)),
    classes: 3,
    spikes: Float64Array.from([1, 2, 3, 4, 5, 6]),
  });
  const c = comparePredictions(mk([0, 1, 1, 1, 2, 0]), mk([0, 0, 1, 2, 2, 0]));
  assert.equal(c.same, 4);
  assert.equal(c.agreement, 4 / 6);
  assert.deepEqual(c.confusion, [
    [2, 0, 0],
    [1, 1, 1],
    [0, 0, 1],
  ]);
  assert.equal(c.accuracyA, 4 / 6); // images 0, 2, 3, 4
  assert.equal(c.accuracyB, 4 / 6); // images 0, 1, 2, 4
  assert.equal(c.onlyA, 1); // image 3
  assert.equal(c.onlyB, 1); // image 1
  assert.deepEqual(c.perClass.map((p) => [p.images, p.accuracyA, p.accuracyB, p.agreement]), [
    [2, 0.5, 1, 0.5],
    [2, 1, 0.5, 0.5],
    [2, 0.5, 0.5, 1],
  ]);
  assert.equal(c.maxLogitDifference, 1);
  const other = mk([0, 0, 0, 0, 0, 0]);
  other.labels[5] = 1;
  assert.throws(() => comparePredictions(mk([0, 1, 1, 1, 2, 0]), other), /image 5: label 2 in A, 1 in B/);
});

test('readPredictions refuses what snn eval --predictions would not write', () => {
  const bad: [string, RegExp][] = [
    ['index,label,prediction,spikes\n', /header/],
    ['index,label,prediction,logit_0,logit_1,spikes\n0,0,1,0.5,1.5,3\n2,0,1,0.5,1.5,3\n', /row 3: index/],
    ['index,label,prediction,logit_0,logit_1,spikes\n0,0,2,0.5,1.5,3\n', /row 2: prediction '2' is not an integer in \[0, 2\)/],
    ['index,label,prediction,logit_0,logit_1,spikes\n0,0,1,abc,1.5,3\n', /row 2: logit_0 'abc' is not a finite number/],
    ['index,label,prediction,logit_0,logit_1,spikes\n0,0,1,0.5\n', /not CSV/],
  ];
  bad.forEach(([text, re], i) => {
    const f = join(work, `bad${i}.csv`);
    writeFileSync(f, text);
    assert.throws(() => readPredictions(f), (e: Error) => re.test(e.message) && e.message.startsWith(f), text);
  });
});

test('snn eval --predictions for a checkpoint and for its export; snn runs compare prints their agreement', () => {
  const runs = join(work, 'runs');
  const t = runCli(['train', '--config', fixture('synthetic.yaml'), '--set', 'train.epochs=2', '--runs-dir', runs, '-q']);
  assert.equal(t.code, 0, t.stderr);
  const run = join(runs, readdirSync(runs)[0]);
  const p = join(work, 'p.csv');
  const e = runCli(['eval', run, '--predictions', p, '--json']);
  assert.equal(e.code, 0, e.stderr);
  const ev = JSON.parse(e.stdout) as { count: number; accuracy: number; loss: number };
  const { head, rows } = rowsOf(p);
  assert.deepEqual(head, ['index', 'label', 'prediction', 'logit_0', 'logit_1', 'logit_2', 'logit_3', 'spikes']);
  assert.equal(rows.length, ev.count);
  let correct = 0;
  let loss = 0;
  rows.forEach((r, i) => {
    const [index, label, pred, ...rest] = r;
    const logits = rest.slice(0, 4);
    assert.equal(index, i);
    assert.equal(pred, logits.indexOf(Math.max(...logits)), `row ${i}: prediction is the argmax of the logits`);
    if (pred === label) correct++;
    const m = Math.max(...logits);
    loss += Math.log(logits.reduce((s, z) => s + Math.exp(z - m), 0)) + m - logits[label];
  });
  assert.equal(correct / rows.length, ev.accuracy);
  assert.ok(Math.abs(loss / rows.length - ev.loss) < 1e-4, `cross-entropy from the CSV ${loss / rows.length} vs ${ev.loss}`);

  const x = runCli(['export', run]);
  assert.equal(x.code, 0, x.stderr);
  const q = join(work, 'q.csv');
  const ee = runCli(['eval', '--exported', join(run, 'export-snn'), '--predictions', q]);
  assert.equal(ee.code, 0, ee.stderr);
  const b = rowsOf(q);
  assert.equal(b.rows.length, rows.length);
  // The engine is another implementation: labels equal, predictions and spike counts (nearly) so.
  let same = 0;
  let spikesA = 0;
  let spikesB = 0;
  rows.forEach((r, i) => {
    assert.equal(b.rows[i][1], r[1], `row ${i}: label`);
    if (b.rows[i][2] === r[2]) same++;
    spikesA += r[7];
    spikesB += b.rows[i][7];
  });
  assert.ok(spikesA > 0);
  assert.ok(Math.abs(spikesA - spikesB) <= 0.01 * spikesA, `spikes: tfjs ${spikesA}, engine ${spikesB}`);
  assert.ok(same >= 0.95 * rows.length, `${same} of ${rows.length} equal predictions`);

  const c = runCli(['runs', 'compare', p, q]);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, new RegExp(`^agreement +${((100 * same) / rows.length).toFixed(2)}% \\(${same} of ${rows.length} predictions equal`, 'm'));
  const bad = runCli(['runs', 'compare', p, run]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /give two prediction files/);
  const nowhere = runCli(['eval', run, '--predictions', join(work, 'no', 'such', 'p.csv')]);
  assert.equal(nowhere.code, 2);
  assert.match(nowhere.stderr, /--predictions .*: folder .* does not exist/);
});
