/**
 * TensorBoard event files in the run folder (`events.out.tfevents.<time>.<host>.<pid>`, one per
 * training session; `tensorboard --logdir runs` shows every run), so the curves of metrics.csv
 * can be read with the tool most researchers already use. Per epoch, at the global step of
 * its metrics row:
 *
 * - every numeric metrics.csv column as a scalar (`train/loss`, `test/accuracy`, `train/lr`,
 *   `firing_rate/mean`, `speed/train_img_per_s`, ...; see `scalarTag`), the value metrics.csv
 *   holds, as float32;
 * - the firing rate of every spiking layer (`firing_rate/<layer>`), when the epoch was evaluated;
 * - a histogram of every trained parameter (`weights/<name>`, 30 equal buckets from min to max);
 *
 * and once per session the resolved config as a text summary (`config`, YAML in Markdown); a
 * resumed session starts with a SessionLog START at its step, so TensorBoard discards points of
 * epochs the resume repeats.
 * Messages follow TensorBoard's event.proto / summary.proto (only the fields written are
 * declared here) and are encoded with protobufjs; records use TFRecord framing (tfrecord.ts).
 * `train.tensorboard: false` writes none.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import type * as tf from '@tensorflow/tfjs';
import { stringify } from 'yaml';
import type { MetricsRow } from './metrics.js';
import { writeError } from './atomic.js';
import { tfRecord } from './tfrecord.js';

const packed = { packed: true };
const root = protobuf.Root.fromJSON({
  nested: {
    tensorboard: {
      nested: {
        Event: {
          fields: {
            wall_time: { type: 'double', id: 1 },
            step: { type: 'int64', id: 2 },
            file_version: { type: 'string', id: 3 },
            summary: { type: 'Summary', id: 5 },
            session_log: { type: 'SessionLog', id: 7 },
          },
        },
        // status is the SessionStatus enum (START = 1).
        SessionLog: { fields: { status: { type: 'int32', id: 1 } } },
        Summary: {
          fields: { value: { rule: 'repeated', type: 'Value', id: 1 } },
          nested: {
            Value: {
              fields: {
                tag: { type: 'string', id: 1 },
                simple_value: { type: 'float', id: 2 },
                histo: { type: 'HistogramProto', id: 5 },
                tensor: { type: 'TensorProto', id: 8 },
                metadata: { type: 'SummaryMetadata', id: 9 },
              },
            },
          },
        },
        SummaryMetadata: {
          fields: { plugin_data: { type: 'PluginData', id: 1 } },
          nested: { PluginData: { fields: { plugin_name: { type: 'string', id: 1 }, content: { type: 'bytes', id: 2 } } } },
        },
        HistogramProto: {
          fields: {
            min: { type: 'double', id: 1 },
            max: { type: 'double', id: 2 },
            num: { type: 'double', id: 3 },
            sum: { type: 'double', id: 4 },
            sum_squares: { type: 'double', id: 5 },
            bucket_limit: { rule: 'repeated', type: 'double', id: 6, options: packed },
            bucket: { rule: 'repeated', type: 'double', id: 7, options: packed },
          },
        },
        // dtype is the DataType enum (DT_STRING = 7), varint-encoded like an int32.
        TensorProto: {
          fields: {
            dtype: { type: 'int32', id: 1 },
            tensor_shape: { type: 'TensorShapeProto', id: 2 },
            string_val: { rule: 'repeated', type: 'bytes', id: 8 },
          },
        },
        TensorShapeProto: { fields: {} },
      },
    },
  },
});
const EventType = root.lookupType('tensorboard.Event');
const DT_STRING = 7;
const SESSION_START = 1;
export const HISTOGRAM_BUCKETS = 30;

/** The TensorBoard tag of a metrics.csv column (null: not a curve). */
export function scalarTag(column: string): string | null {
  const fixed: Record<string, string> = {
    epoch: 'epoch',
    lr: 'train/lr',
    train_loss: 'train/loss',
    train_acc: 'train/accuracy',
    test_loss: 'test/loss',
    test_acc: 'test/accuracy',
    firing_rate: 'firing_rate/mean',
    twin_train_acc: 'twin/train_accuracy',
    twin_test_acc: 'twin/test_accuracy',
    skipped_steps: 'train/skipped_steps',
    train_img_per_s: 'speed/train_img_per_s',
    epoch_seconds: 'speed/epoch_seconds',
  };
  if (column === 'step') return null; // the x axis
  return fixed[column] ?? (column.startsWith('loss_') ? `loss/${column.slice(5)}` : `metrics/${column}`);
}

interface SummaryValue {
  tag: string;
  simple_value?: number;
  histo?: Record<string, number | number[]>;
  tensor?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

/** A histogram of `v`: HISTOGRAM_BUCKETS equal buckets, bucket i holds (limit[i−1], limit[i]]. */
export function histogram(v: ArrayLike<number>): Record<string, number | number[]> {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < v.length; i++) {
    min = Math.min(min, v[i]);
    max = Math.max(max, v[i]);
    sum += v[i];
    sq += v[i] * v[i];
  }
  const B = HISTOGRAM_BUCKETS;
  const width = (max - min) / B;
  const limits = Array.from({ length: B }, (_, k) => (k === B - 1 ? max : min + (k + 1) * width));
  const counts = new Array<number>(B).fill(0);
  for (let i = 0; i < v.length; i++) {
    let k = width > 0 ? Math.ceil((v[i] - min) / width) - 1 : 0;
    k = Math.min(B - 1, Math.max(0, k));
    // Rounding can put a value one bucket off its (limit[k−1], limit[k]] interval; move it.
    while (k > 0 && v[i] <= limits[k - 1]) k--;
    while (k < B - 1 && v[i] > limits[k]) k++;
    counts[k]++;
  }
  return { min, max, num: v.length, sum, sum_squares: sq, bucket_limit: limits, bucket: counts };
}

export interface EventLog {
  /** One epoch: its metrics row, the layer firing rates (null if not evaluated), the parameters. */
  epoch(row: MetricsRow, firingRates: Record<string, number> | null, params: ReadonlyMap<string, tf.Tensor>): void;
  close(): void;
}

const disabled: EventLog = { epoch: () => {}, close: () => {} };

/**
 * Starts this session's event file in `dir` with the resolved config as text at `step`
 * (0, or the step a resumed run continues from). A no-op log when `enabled` is false.
 */
export function openEventLog(dir: string, config: object, step: number, enabled: boolean): EventLog {
  if (!enabled) return disabled;
  const file = join(dir, `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${hostname()}.${process.pid}.snn`);
  let fd: number | null = null;
  const write = (event: Record<string, unknown>): void => {
    const msg = EventType.encode(EventType.fromObject({ wall_time: Date.now() / 1000, ...event })).finish();
    try {
      fd ??= openSync(file, 'a');
      writeSync(fd, tfRecord(msg));
    } catch (e) {
      throw writeError(file, e);
    }
  };
  const summary = (s: number, value: SummaryValue[]): void => write({ step: s, summary: { value } });
  write({ step, file_version: 'brain.Event:2' });
  // A resumed run: TensorBoard drops the points an earlier session wrote at this step or later
  // (epochs whose checkpoint was lost), as it does for TensorFlow's restarts.
  if (step > 0) write({ step, session_log: { status: SESSION_START } });
  const text = `\`\`\`yaml\n${stringify(config)}\`\`\``;
  summary(step, [
    {
      tag: 'config',
      metadata: { plugin_data: { plugin_name: 'text' } },
      tensor: { dtype: DT_STRING, tensor_shape: {}, string_val: [Buffer.from(text, 'utf8')] },
    },
  ]);
  return {
    epoch(row, firingRates, params) {
      const s = Number(row.step);
      const values: SummaryValue[] = [];
      for (const [k, v] of Object.entries(row)) {
        const tag = scalarTag(k);
        if (tag !== null && typeof v === 'number' && Number.isFinite(v)) values.push({ tag, simple_value: v });
      }
      for (const [k, v] of Object.entries(firingRates ?? {})) values.push({ tag: `firing_rate/${k}`, simple_value: v });
      for (const [k, t] of params) values.push({ tag: `weights/${k}`, histo: histogram(t.dataSync() as Float32Array) });
      summary(s, values);
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
