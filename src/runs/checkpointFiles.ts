/**
 * What a checkpoint folder may hold, as schemas with bounds, and how its files are read: only
 * plain file names of the folder itself (no `..`, no absolute path, no symbolic link out of it),
 * each a regular file of bounded size. A checkpoint whose checksums were recomputed after an
 * edit passes verification, so these checks are what stands between a hostile or damaged
 * folder and the process: shapes are non-negative integers whose sizes add up to the exact
 * byte count of the binary file, and state.json's counters are integers in range.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { formatIssue } from '../config/load.js';
import { readBounded } from '../util/boundedRead.js';
import { UserError } from '../util/errors.js';

const MiB = 1024 * 1024;
/** A binary file of a checkpoint (weights, optimizer state): 2 GiB, far above resnet19's ~150 MB. */
export const MAX_BIN_BYTES = 2048 * MiB;
/** model.json, optimizer.json, twin.json, checksums.json, state.json. */
export const MAX_JSON_BYTES = 64 * MiB;

/** A file name inside the checkpoint folder: no path separator, not hidden, no `..`. */
export const FileName = z
  .string()
  .max(100)
  .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, 'must be a plain file name of the checkpoint folder');

const Dim = z.number().int().min(0).max(2 ** 31 - 1);

export const WeightsJsonSchema = z.looseObject({
  weightsManifest: z
    .array(
      z.looseObject({
        paths: z.array(FileName).length(1),
        weights: z
          .array(z.looseObject({ name: z.string().min(1).max(1000), shape: z.array(Dim).max(8), dtype: z.literal('float32') }))
          .max(100_000),
      }),
    )
    .length(1),
});
export type WeightsJson = z.infer<typeof WeightsJsonSchema>;

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** An RNG state word: 32 bits, stored signed or unsigned. */
const word = z.number().int().min(-(2 ** 31)).max(0xffffffff);

/** state.json: the trainer's TrainState, plus the run config's name and checksum. */
export const StateSchema = z
  .looseObject({
    epoch: z.number().int().min(0).max(1_000_000),
    step: count,
    rng: z.tuple([word, word, word, word]),
    batch: z.number().int().min(0).max(100_000_000),
    partial: z.looseObject({
      lossSum: z.number(),
      correct: z.number().min(0),
      seen: count,
      terms: z.record(z.string(), z.number()).optional(),
      twinCorrect: z.number().min(0).optional(),
    }),
    bestAccuracy: z.number().min(-1).max(1),
    bestEpoch: z.number().int().min(-1).max(1_000_000),
    seconds: z.number().min(0),
    skipped: count.optional(),
    config: z.string().max(1000).optional(),
    configSha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex').optional(),
  })
  .refine((s) => s.bestEpoch <= s.epoch, { message: 'bestEpoch is after epoch', path: ['bestEpoch'] })
  .refine((s) => s.partial.correct <= s.partial.seen, { message: 'more correct than seen', path: ['partial', 'correct'] });
export type CheckpointState = z.infer<typeof StateSchema>;

export const ChecksumsSchema = z.looseObject({
  sha256: z.record(FileName, z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex')),
  bytes: z.record(FileName, z.number().int().min(0).max(MAX_BIN_BYTES)).optional(),
});

/** Parses a JSON file of a checkpoint against its schema; one line naming the file and key on failure. */
export function readCheckpointJson<T>(file: string, schema: z.ZodType<T>): T {
  const text = readBounded(file, { what: 'checkpoint file', maxBytes: MAX_JSON_BYTES, confined: true }).toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: unreadable (${(e as Error).message.split('\n')[0]})`);
  }
  const r = schema.safeParse(v);
  if (!r.success) throw new UserError(formatIssue(r.error.issues[0], file));
  return r.data;
}

/** The bytes of a binary file of a checkpoint (a plain file of the folder, bounded). */
export const readCheckpointBin = (file: string): Buffer => readBounded(file, { what: 'checkpoint file', maxBytes: MAX_BIN_BYTES, confined: true });

/** Checks that the shapes of a weights manifest need exactly `bytes` bytes of float32. */
export function checkShapes(w: WeightsJson, bytes: number, file: string): void {
  let total = 0;
  for (const s of w.weightsManifest[0].weights) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (n * 4 > MAX_BIN_BYTES) throw new UserError(`${file}: ${s.name} has shape [${s.shape}], ${n} values, more than a checkpoint file holds`);
    total += n * 4;
  }
  if (total !== bytes) {
    throw new UserError(`${file}: its shapes need ${total} bytes but ${w.weightsManifest[0].paths[0]} has ${bytes}`);
  }
}

/**
 * Removes what killed checkpoint writes leave in `checkpoints/`: `.tmp-<tag>-*` folders being
 * filled, `.old-<tag>-*` folders being replaced, `.<link>-*` links being switched. Call it
 * only while holding the run's lock.
 */
export function removeCheckpointTemporaries(checkpointsDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(checkpointsDir);
  } catch {
    return [];
  }
  const gone = names.filter((n) => /^\.(tmp|old)-/.test(n) || /^\.(last|prev|best)-[0-9a-f]{8}$/.test(n));
  for (const n of gone) rmSync(join(checkpointsDir, n), { recursive: true, force: true });
  return gone;
}
