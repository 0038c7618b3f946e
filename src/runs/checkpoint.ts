/**
 * Checkpoints: one folder per saved epoch under `checkpoints/`, and `last` / `best` as
 * symbolic links to them, switched by an atomic rename. A checkpoint folder holds
 *
 *   model.json      tfjs weights manifest (format, weightsManifest: paths + specs)
 *   weights.bin     the model's parameters and buffers (float32, tfjs weight encoding)
 *   optimizer.json  + optimizer.bin: the optimizer's state, same encoding
 *   state.json      epoch, step, RNG state, best accuracy so far, anything else to resume
 *   checksums.json  sha256 and size of each file above, written last
 *
 * The folder is filled under a temporary name and renamed into place when complete, so a
 * crash leaves either a whole checkpoint or none. Loading verifies every checksum and names
 * the file that does not match (or is truncated, or missing).
 *
 * Links: `last` is the newest checkpoint, `prev` the one `last` pointed to before it (kept
 * so that a damaged `last` still leaves a good checkpoint to resume from), `best` the one
 * with the best test accuracy. When `last` moves, `prev` is switched first, so at every
 * instant both name complete checkpoints. Pruning keeps the folders of these three links
 * (and `corrupt-*` folders set aside by a resume) and removes everything else.
 *
 * A run killed between a folder's rename and the switch of `last` leaves a complete checkpoint
 * no link names; resuming first moves the links onto it (if it verifies and is newer than
 * `last`), so the epoch it holds is not trained again.
 *
 * Resuming (src/runs/resume.ts) tries `last`, then `prev`, then `best`.
 *
 * A write that fails (disk full, unwritable folder) removes the partial folder, leaves the
 * links as they were, and throws one line that says which checkpoint is still intact.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  lstatSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { checkRegularFile, readBounded } from '../util/boundedRead.js';
import {
  checkShapes,
  FileName,
  MAX_BIN_BYTES,
  MAX_JSON_BYTES,
  readCheckpointBin,
  readCheckpointJson,
  StateSchema,
  WeightsJsonSchema,
} from './checkpointFiles.js';
import { checkpointPause } from '../util/testHooks.js';
import { fsyncDir, WRITE_FAILURE_CODES, writeError, writeFault, writeFileAtomic } from './atomic.js';

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

/** Where a link of `checkpoints/` points (a sibling folder name), or null if it is not a link. */
export function linkTarget(checkpointsDir: string, link: string): string | null {
  try {
    const p = join(checkpointsDir, link);
    if (!lstatSync(p).isSymbolicLink()) return null;
    const t = readlinkSync(p);
    return FileName.safeParse(t).success ? t : null; // only sibling folders: a link out of checkpoints/ is not ours
  } catch {
    return null;
  }
}

/** A clause naming the checkpoint a failed run keeps: `checkpoints/last (epoch-0002) is intact`. */
export function lastCheckpointNote(checkpointsDir: string): string {
  const last = linkTarget(checkpointsDir, 'last');
  return last ? `the previous checkpoint, checkpoints/last (${last}), is intact` : 'no checkpoint had been written yet';
}

/**
 * For an error from a failed write (ENOSPC, EACCES, ...): the same error with a note on which
 * checkpoint is intact, unless it already has one. Other errors are returned as they are.
 */
export function annotateWriteFailure(e: unknown, checkpointsDir: string): unknown {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (!(e instanceof Error) || !code || !WRITE_FAILURE_CODES.includes(code) || /checkpoint/.test(e.message)) return e;
  const err = new Error(`${e.message}; ${lastCheckpointNote(checkpointsDir)}`, { cause: e }) as NodeJS.ErrnoException;
  err.code = code;
  return err;
}

/** Writes a checkpoint folder `checkpoints/<tag>` atomically and returns its path. */
export function writeCheckpoint(checkpointsDir: string, tag: string, data: CheckpointData): string {
  const final = join(checkpointsDir, tag);
  const tmp = join(checkpointsDir, `.tmp-${tag}-${randomBytes(4).toString('hex')}`);
  try {
    try {
      writeFault(tmp, 'mkdir');
      mkdirSync(checkpointsDir, { recursive: true });
      mkdirSync(tmp);
    } catch (e) {
      throw writeError(tmp, e);
    }
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
    const bytes: Record<string, number> = {};
    for (const [name, content] of Object.entries(files)) {
      writeFileAtomic(join(tmp, name), content);
      sums[name] = sha256(content);
      bytes[name] = content.byteLength;
      checkpointPause(tag, `wrote ${name}`);
    }
    writeFileAtomic(join(tmp, 'checksums.json'), JSON.stringify({ sha256: sums, bytes }, null, 1));
    checkpointPause(tag, 'wrote checksums.json');
    fsyncDir(tmp);
    try {
      writeFault(final, 'rename');
      // A folder of the same name is a leftover nothing links to (written just before a crash,
      // before `last` was switched): move it aside, then put the new one in its place.
      const old = existsSync(final) ? join(checkpointsDir, `.old-${tag}-${randomBytes(4).toString('hex')}`) : null;
      if (old) renameSync(final, old);
      renameSync(tmp, final);
      if (old) rmSync(old, { recursive: true, force: true });
    } catch (e) {
      throw writeError(final, e);
    }
    fsyncDir(checkpointsDir);
    checkpointPause(tag, 'renamed');
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    const err = new Error(`could not write checkpoint ${tag}: ${(e as Error).message}; ${lastCheckpointNote(checkpointsDir)}`, {
      cause: e,
    }) as NodeJS.ErrnoException;
    if (code) err.code = code;
    throw err;
  }
  return final;
}

/** Points `checkpoints/<link>` at `target` (a sibling folder name) by an atomic rename; no `prev` bookkeeping. */
export function switchLink(checkpointsDir: string, link: string, target: string): void {
  const tmp = join(checkpointsDir, `.${link}-${randomBytes(4).toString('hex')}`);
  try {
    writeFault(join(checkpointsDir, link), 'symlink');
    symlinkSync(target, tmp);
    renameSync(tmp, join(checkpointsDir, link));
  } catch (e) {
    rmSync(tmp, { force: true });
    const err = new Error(
      `could not point checkpoints/${link} at ${target}: ${writeError(join(checkpointsDir, link), e).message}; ${lastCheckpointNote(checkpointsDir)}`,
      { cause: e },
    ) as NodeJS.ErrnoException;
    const code = (e as NodeJS.ErrnoException).code;
    if (code) err.code = code;
    throw err;
  }
  fsyncDir(checkpointsDir);
}

/**
 * Points `checkpoints/<link>` (last, best) at `target` (a sibling folder name), atomically.
 * Moving `last` first points `prev` at the checkpoint `last` held, so the one before is kept.
 */
export function pointLink(checkpointsDir: string, link: string, target: string): void {
  if (link === 'last') {
    const current = linkTarget(checkpointsDir, 'last');
    if (current !== null && current !== target && existsSync(join(checkpointsDir, current))) {
      switchLink(checkpointsDir, 'prev', current);
      checkpointPause(target, 'prev');
    }
  }
  switchLink(checkpointsDir, link, target);
}

export const LINKS = ['last', 'prev', 'best'] as const;

/** Removes checkpoint folders that no link (last, prev, best) points to, and stale temporaries. */
export function pruneCheckpoints(checkpointsDir: string): void {
  const keep = new Set<string>();
  for (const link of LINKS) {
    const t = linkTarget(checkpointsDir, link);
    if (t !== null) keep.add(t);
  }
  for (const name of readdirSync(checkpointsDir)) {
    if ((LINKS as readonly string[]).includes(name) || keep.has(name) || name.startsWith('corrupt-')) continue;
    rmSync(join(checkpointsDir, name), { recursive: true, force: true });
  }
}

/** Files every checkpoint has; checksums.json must cover them. */
const REQUIRED = ['model.json', 'weights.bin', 'state.json'];

/**
 * Checks every file of a checkpoint against checksums.json (size, then sha256); throws a
 * UserError of one line naming the first bad file and what is wrong with it.
 */
export function verifyCheckpoint(dir: string): void {
  const sumsFile = join(dir, 'checksums.json');
  if (!present(sumsFile)) throw new UserError(`${sumsFile}: missing, so the checkpoint cannot be verified`);
  let sums: Record<string, unknown>;
  let sizes: Record<string, unknown> = {};
  const text = readBounded(sumsFile, { what: 'checkpoint file', maxBytes: MAX_JSON_BYTES, confined: true }).toString('utf8');
  try {
    const parsed = JSON.parse(text) as { sha256?: unknown; bytes?: unknown };
    if (typeof parsed.sha256 !== 'object' || parsed.sha256 === null) throw new Error('no sha256 table');
    sums = parsed.sha256 as Record<string, unknown>;
    if (typeof parsed.bytes === 'object' && parsed.bytes !== null) sizes = parsed.bytes as Record<string, unknown>;
  } catch {
    throw new UserError(`${sumsFile}: unreadable checksum file (truncated or altered)`);
  }
  for (const name of REQUIRED) {
    if (typeof sums[name] !== 'string') throw new UserError(`${sumsFile}: has no checksum for ${name} (altered?)`);
  }
  for (const [name, expected] of Object.entries(sums)) {
    if (!FileName.safeParse(name).success) throw new UserError(`${sumsFile}: bad file name ${JSON.stringify(name.slice(0, 100))}`);
    const p = join(dir, name);
    if (!present(p)) throw new UserError(`${p}: missing from checkpoint`);
    const size = sizes[name];
    const actual = checkRegularFile(p, { what: 'checkpoint file', maxBytes: MAX_BIN_BYTES, confined: true }).size;
    if (typeof size === 'number' && actual !== size) {
      throw new UserError(
        actual < size ? `${p}: truncated (${actual} of ${size} bytes)` : `${p}: longer than written (${actual} bytes, expected ${size})`,
      );
    }
    if (sha256(readCheckpointBin(p)) !== expected) throw new UserError(`${p}: checksum mismatch (file is corrupt or was altered)`);
  }
}

/** True if `p` exists (a dangling symbolic link counts: it is refused later, by name). */
function present(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function readManifest(dir: string, json: string): Map<string, tf.Tensor> {
  const file = join(dir, json);
  const m = readCheckpointJson(file, WeightsJsonSchema);
  const group = m.weightsManifest[0];
  const binFile = join(dir, group.paths[0]);
  const bin = readCheckpointBin(binFile);
  checkShapes(m, bin.byteLength, file);
  return decode(bin, group.weights as tf.io.WeightsManifestEntry[], binFile);
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
    state: readCheckpointJson(join(abs, 'state.json'), StateSchema) as Record<string, unknown>,
  };
}
