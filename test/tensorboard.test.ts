/**
 * TensorBoard event files, read as TensorBoard would: a TFRecord reader with its own CRC-32C
 * (bitwise, checked on the standard check value) verifies every length and data CRC, and the
 * records are decoded with TensorBoard's event.proto / summary.proto schemas (written in
 * test/fixtures/tensorboard from the upstream field numbers, not the writer's declarations).
 * Every scalar is checked against metrics.csv, the layer firing rates against log.jsonl, the
 * config text against config.yaml, the weight histograms against the last checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { parse } from 'yaml';
import { readCheckpoint } from '../src/runs/checkpoint.js';
import { fixture, runCli, tempDir } from './helpers.js';

/** CRC-32C, bit by bit (reflected polynomial 0x82F63B78). */
function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
const masked = (c: number): number => ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;

/** The records of a TFRecord file; throws on a bad CRC or a torn record. */
function readRecords(file: string): Buffer[] {
  const buf = readFileSync(file);
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    assert.ok(at + 12 <= buf.length, `${file}: torn header at ${at}`);
    const len = Number(buf.readBigUInt64LE(at));
    assert.equal(buf.readUInt32LE(at + 8), masked(crc32c(buf.subarray(at, at + 8))), `length CRC of the record at ${at}`);
    const data = buf.subarray(at + 12, at + 12 + len);
    assert.equal(data.length, len, `${file}: torn record at ${at}`);
    assert.equal(buf.readUInt32LE(at + 12 + len), masked(crc32c(data)), `data CRC of the record at ${at}`);
    out.push(data);
    at += 16 + len;
  }
  return out;
}

interface Value {
  tag: string;
  simpleValue?: number;
  histo?: { min: number; max: number; num: number; sum: number; bucketLimit: number[]; bucket: number[] };
  tensor?: { dtype: string; stringVal: Uint8Array[]; tensorShape?: { dim?: unknown[] } };
  metadata?: { pluginData?: { pluginName: string } };
}
interface Event {
  wallTime: number;
  step: number;
  fileVersion?: string;
  summary?: { value: Value[] };
}

const root = protobuf.loadSync([fixture('tensorboard/event.proto')]);
const EventType = root.lookupType('tensorboard.Event');
const decode = (b: Buffer): Event =>
  EventType.toObject(EventType.decode(b), { longs: Number, enums: String, defaults: false, arrays: true }) as unknown as Event;

// The tag each metrics.csv column is expected under (docs/tensorboard.md).
const TAGS: Record<string, string> = {
  epoch: 'epoch',
  lr: 'train/lr',
  train_loss: 'train/loss',
  train_acc: 'train/accuracy',
  test_loss: 'test/loss',
  test_acc: 'test/accuracy',
  firing_rate: 'firing_rate/mean',
  loss_ce: 'loss/ce',
  train_img_per_s: 'speed/train_img_per_s',
  epoch_seconds: 'speed/epoch_seconds',
};

test('CRC-32C of the test reader: the standard check value', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
});

test('a trained run folder has an event file whose scalars, text and histograms equal metrics.csv, config.yaml and the checkpoint', () => {
  const runs = tempDir('tb');
  const r = runCli(['train', '--config', fixture('synthetic.yaml'), '--set', 'train.epochs=3', '--set', 'train.evalEvery=2', '--runs-dir', runs, '-q']);
  assert.equal(r.code, 0, r.stderr);
  const dir = join(runs, readdirSync(runs)[0]);
  const files = readdirSync(dir).filter((f) => f.startsWith('events.out.tfevents.'));
  assert.equal(files.length, 1, `event files: ${files}`);
  const events = readRecords(join(dir, files[0])).map(decode);

  assert.equal(events[0].fileVersion, 'brain.Event:2');
  // The config as a text summary: the YAML inside equals the run's config.yaml.
  const cfgValue = events[1].summary!.value[0];
  assert.equal(cfgValue.tag, 'config');
  assert.equal(cfgValue.metadata?.pluginData?.pluginName, 'text');
  assert.equal(cfgValue.tensor?.dtype, 'DT_STRING');
  const text = Buffer.from(cfgValue.tensor!.stringVal[0]).toString('utf8');
  const yamlText = /^```yaml\n([\s\S]*)```$/.exec(text)?.[1];
  assert.ok(yamlText, text);
  assert.deepEqual(parse(yamlText), parse(readFileSync(join(dir, 'config.yaml'), 'utf8')));

  // One summary per metrics row, at its step, with every non-blank column.
  const lines = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
  const head = lines[0].split(',');
  const rows = lines.slice(1).map((l) => l.split(','));
  const epochs = events.slice(2);
  assert.equal(epochs.length, rows.length);
  const logged = readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { msg: string; firingRates?: Record<string, number> }).filter((l) => l.msg === 'epoch');
  let blanks = 0;
  rows.forEach((cells, i) => {
    const ev = epochs[i];
    assert.equal(ev.step, Number(cells[head.indexOf('step')]), `row ${i + 1}: step`);
    const scalars = new Map(ev.summary!.value.filter((v) => v.simpleValue !== undefined).map((v) => [v.tag, v.simpleValue!]));
    const expected = new Set<string>();
    head.forEach((h, j) => {
      if (h === 'step') return;
      const tag = TAGS[h];
      assert.ok(tag, `no expected tag for column ${h}`);
      if (cells[j] === '') {
        blanks++;
        assert.equal(scalars.has(tag), false, `row ${i + 1}: ${tag} written for a blank cell`);
        return;
      }
      expected.add(tag);
      const want = Number(cells[j]);
      const got = scalars.get(tag);
      assert.ok(got !== undefined, `row ${i + 1}: no ${tag}`);
      // metrics.csv keeps 6 significant digits; the event holds float32.
      assert.ok(Math.abs(got - want) <= 5e-6 * Math.abs(want) + 1e-12, `row ${i + 1}: ${tag} ${got} vs ${h} ${want}`);
    });
    const rates = logged[i].firingRates ?? {};
    for (const [k, v] of Object.entries(rates)) {
      expected.add(`firing_rate/${k}`);
      assert.equal(scalars.get(`firing_rate/${k}`), Math.fround(v), `row ${i + 1}: firing rate of ${k}`);
    }
    assert.deepEqual([...scalars.keys()].sort(), [...expected].sort(), `row ${i + 1}: the scalar tags`);
  });
  assert.ok(blanks > 0, 'evalEvery 2 leaves the first epoch without test columns');

  // Histograms of the last epoch: every parameter of the last checkpoint.
  const ck = readCheckpoint(join(dir, 'checkpoints', 'last'));
  const histos = epochs[epochs.length - 1].summary!.value.filter((v) => v.histo);
  assert.ok(histos.length > 0);
  for (const h of histos) {
    const name = h.tag.replace(/^weights\//, '');
    const t = ck.weights.get(name);
    assert.ok(t, `histogram of ${name}, which the checkpoint does not hold`);
    const w = Array.from(t.dataSync() as Float32Array);
    const { min, max, num, sum, bucketLimit, bucket } = h.histo!;
    assert.equal(num, w.length);
    assert.equal(min, Math.min(...w));
    assert.equal(max, Math.max(...w));
    assert.ok(Math.abs(sum - w.reduce((s, v) => s + v, 0)) < 1e-6 * w.length);
    assert.equal(bucketLimit[bucketLimit.length - 1], max);
    // Bucket i holds the values in (limit[i−1], limit[i]], the first from −∞.
    const counts = bucketLimit.map((lim, i) => w.filter((v) => v <= lim && (i === 0 || v > bucketLimit[i - 1])).length);
    assert.deepEqual(bucket, counts, `buckets of ${name}`);
  }

  // Resumed for a 4th epoch: a second file that opens with a SessionLog START at the step the
  // run continues from (TensorBoard drops what an earlier session wrote from there on).
  const more = runCli(['train', '--resume', dir, '--set', 'train.epochs=4', '--runs-dir', runs, '-q']);
  assert.equal(more.code, 0, more.stderr);
  const second = readdirSync(dir).filter((f) => f.startsWith('events.out.tfevents.') && f !== files[0]);
  assert.equal(second.length, 1);
  const ev2 = readRecords(join(dir, second[0])).map(decode) as (Event & { sessionLog?: { status: string } })[];
  const rows4 = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  assert.equal(rows4.length, 4);
  const step3 = Number(rows4[2][head.indexOf('step')]);
  assert.equal(ev2[0].fileVersion, 'brain.Event:2');
  assert.equal(ev2[1].step, step3);
  assert.equal(ev2[1].sessionLog?.status, 'START');
  assert.equal(ev2[2].summary?.value[0].tag, 'config');
  assert.equal(ev2.length, 4);
  assert.equal(ev2[3].step, Number(rows4[3][head.indexOf('step')]));
  const acc4 = ev2[3].summary!.value.find((v) => v.tag === 'test/accuracy')!.simpleValue!;
  assert.ok(Math.abs(acc4 - Number(rows4[3][head.indexOf('test_acc')])) < 5e-6);
});

test('train.tensorboard: false writes no event file', () => {
  const runs = tempDir('tb-off');
  const r = runCli(['train', '--config', fixture('synthetic.yaml'), '--set', 'train.epochs=1', '--set', 'data.synthetic.train=64', '--set', 'data.synthetic.test=16', '--set', 'train.tensorboard=false', '--runs-dir', runs, '-q']);
  assert.equal(r.code, 0, r.stderr);
  const dir = join(runs, readdirSync(runs)[0]);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('tfevents')), []);
});
