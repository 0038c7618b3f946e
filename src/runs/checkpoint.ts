/**
 * Checkpoints: one folder per saved epoch under `checkpoints/`, and `last` / `best` as
 * symbolic links to them, switched by an atomic rename. A checkpoint folder holds
 *
 *   model.json      tfjs weights manifest (format, weightsManifest: paths + specs)
 *   weights.bin     the model's parameters and buffers (float32, tfjs weight encoding)
 *   optimizer.json  + optimizer.bin: the optimizer's state, same encoding
 *   state.json      epoch, step, RNG state, best accuracy so far, anything else to resume
 *   checksums.json  sha256 of each file above, written last
 *
 * The folder is filled under a temporary name and renamed into place when complete, so a
 * crash leaves either a whole checkpoint or none. Loading verifies every checksum and names
 * the file that does not match.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  lstatSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { fsyncDir, writeFileAtomic } from './atomic.js';

export interface CheckpointData {
  weights: Map<string, tf.Tensor>;
  /** TNA's twin network, kept beside the SNN so that resume continues both (eval ignores it). */
  twin?: Map<string, tf.Tensor>;
  optimizer: Map<string, tf.Tensor>;
  state: Record<string, unknown>;
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

function encode(tensors: Map<string, tf.Tensor>): { bin: Uint8Array; specs: tf.io.WeightsManifestEntry[] } {
  const named = [...tensors].map(([name, tensor]) => ({ name, tensor }));
  const specs: tf.io.WeightsManifestEntry[] = named.map(({ name, tensor }) => ({
    name,
    shape: tensor.shape,
    dtype: 'float32',
  }));
  const parts = named.map(({ tensor }) => tensor.dataSync() as Float32Array);
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const bin = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    bin.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), off);
    off += p.byteLength;
  }
  return { bin, specs };
}

function decode(bin: Uint8Array, specs: tf.io.WeightsManifestEntry[], file: string): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  let off = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (off + n * 4 > bin.byteLength) throw new UserError(`${file}: shorter than its manifest says (${s.name})`);
    const vals = new Float32Array(n);
    new Uint8Array(vals.buffer).set(bin.subarray(off, off + n * 4));
    out.set(s.name, tf.tensor(vals, s.shape, 'float32'));
    off += n * 4;
  }
  return out;
}

/** Writes a checkpoint folder `checkpoints/<tag>` atomically and returns its path. */
export function writeCheckpoint(checkpointsDir: string, tag: string, data: CheckpointData): string {
  mkdirSync(checkpointsDir, { recursive: true });
  const final = join(checkpointsDir, tag);
  const tmp = join(checkpointsDir, `.tmp-${tag}-${randomBytes(4).toString('hex')}`);
  mkdirSync(tmp);
  try {
    const files: Record<string, Uint8Array> = {};
    const w = encode(data.weights);
    files['weights.bin'] = w.bin;
    files['model.json'] = Buffer.from(
      JSON.stringify(
        { format: 'snn-checkpoint', formatVersion: 1, weightsManifest: [{ paths: ['weights.bin'], weights: w.specs }] },
        null,
        1,
      ),
    );
    if (data.twin) {
      const t = encode(data.twin);
      files['twin.bin'] = t.bin;
      files['twin.json'] = Buffer.from(JSON.stringify({ weightsManifest: [{ paths: ['twin.bin'], weights: t.specs }] }, null, 1));
    }
    const o = encode(data.optimizer);
    files['optimizer.bin'] = o.bin;
    files['optimizer.json'] = Buffer.from(
      JSON.stringify({ weightsManifest: [{ paths: ['optimizer.bin'], weights: o.specs }] }, null, 1),
    );
    files['state.json'] = Buffer.from(JSON.stringify(data.state, null, 1));
    const sums: Record<string, string> = {};
    for (const [name, bytes] of Object.entries(files)) {
      writeFileAtomic(join(tmp, name), bytes);
      sums[name] = sha256(bytes);
    }
    writeFileAtomic(join(tmp, 'checksums.json'), JSON.stringify({ sha256: sums }, null, 1));
    fsyncDir(tmp);
    if (existsSync(final)) rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
    fsyncDir(checkpointsDir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return final;
}

/** Points `checkpoints/<link>` (last, best) at `target` (a sibling folder name), atomically. */
export function pointLink(checkpointsDir: string, link: string, target: string): void {
  const tmp = join(checkpointsDir, `.${link}-${randomBytes(4).toString('hex')}`);
  symlinkSync(target, tmp);
  renameSync(tmp, join(checkpointsDir, link));
  fsyncDir(checkpointsDir);
}

/** Removes checkpoint folders that neither `last` nor `best` points to, and stale temporaries. */
export function pruneCheckpoints(checkpointsDir: string): void {
  const keep = new Set<string>();
  for (const link of ['last', 'best']) {
    const p = join(checkpointsDir, link);
    try {
      if (lstatSync(p).isSymbolicLink()) keep.add(readlinkSync(p));
    } catch {
      // not there yet
    }
  }
  for (const name of readdirSync(checkpointsDir)) {
    if (name === 'last' || name === 'best' || keep.has(name)) continue;
    rmSync(join(checkpointsDir, name), { recursive: true, force: true });
  }
}

/** Checks every file of a checkpoint against checksums.json; throws a UserError naming the first bad one. */
export function verifyCheckpoint(dir: string): void {
  const sumsFile = join(dir, 'checksums.json');
  if (!existsSync(sumsFile)) throw new UserError(`${dir}: not a checkpoint (no checksums.json)`);
  let sums: Record<string, string>;
  try {
    sums = (JSON.parse(readFileSync(sumsFile, 'utf8')) as { sha256: Record<string, string> }).sha256;
  } catch {
    throw new UserError(`${sumsFile}: unreadable checksum file`);
  }
  for (const [name, expected] of Object.entries(sums)) {
    const p = join(dir, name);
    if (!existsSync(p)) throw new UserError(`${p}: missing from checkpoint`);
    if (sha256(readFileSync(p)) !== expected) throw new UserError(`${p}: checksum mismatch (file is corrupt or was altered)`);
  }
}

function readManifest(dir: string, json: string): Map<string, tf.Tensor> {
  const file = join(dir, json);
  const m = JSON.parse(readFileSync(file, 'utf8')) as { weightsManifest: tf.io.WeightsManifestConfig };
  const group = m.weightsManifest[0];
  const binFile = join(dir, group.paths[0]);
  return decode(readFileSync(binFile), group.weights, binFile);
}

/** Reads and verifies a checkpoint folder (a run's `checkpoints/last` or any checkpoint path). */
export function readCheckpoint(dir: string): CheckpointData {
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new UserError(`checkpoint not found: ${dir}`);
  verifyCheckpoint(abs);
  return {
    weights: readManifest(abs, 'model.json'),
    optimizer: existsSync(join(abs, 'optimizer.json')) ? readManifest(abs, 'optimizer.json') : new Map(),
    twin: existsSync(join(abs, 'twin.json')) ? readManifest(abs, 'twin.json') : undefined,
    state: JSON.parse(readFileSync(join(abs, 'state.json'), 'utf8')) as Record<string, unknown>,
  };
}
