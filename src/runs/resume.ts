/**
 * The checkpoint a resume continues from (`readResumeCheckpoint`): `last`, else `prev`, else
 * `best`; the first that verifies is used; if it is not `last`, the damaged folders are renamed
 * `corrupt-<tag>`, the links are repaired and a one-line warning says what happened. If none
 * verifies, it refuses with a UserError naming each damaged file. A complete checkpoint no link
 * names yet (a kill between its rename and the switch of `last`) is adopted first; a run whose
 * links are all gone resumes from its newest checkpoint that verifies, with a warning.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import {
  LINKS,
  linkTarget,
  pointLink,
  pruneCheckpoints,
  readCheckpoint,
  switchLink,
  verifyCheckpoint,
  type CheckpointData,
} from './checkpoint.js';
import { readCheckpointJson, StateSchema } from './checkpointFiles.js';

export interface ResumePoint {
  data: CheckpointData;
  /** The checkpoint folder used. */
  dir: string;
  /** The link it was found by. */
  link: (typeof LINKS)[number];
  /** One line for the user when `last` was damaged and an earlier checkpoint is used. */
  warning: string | null;
  /** The tag of a complete checkpoint no link named yet, now `last` (see adoptUnlinkedCheckpoint). */
  adopted: string | null;
}

const TAG = /^epoch-\d{4}(-batch-\d{6})?$/;

function savedState(checkpointsDir: string, tag: string): { step: number; epoch: number; batch: number; bestEpoch: number } | null {
  try {
    const s = readCheckpointJson(join(checkpointsDir, tag, 'state.json'), StateSchema);
    return { step: s.step, epoch: s.epoch, batch: s.batch, bestEpoch: s.bestEpoch };
  } catch {
    return null;
  }
}

/** The state.json of the checkpoint a link names (schema-checked, not verified), or null. */
export function linkedState(checkpointsDir: string, link: string): { tag: string; state: Record<string, unknown> } | null {
  const tag = linkTarget(checkpointsDir, link);
  if (tag === null) return null;
  try {
    return { tag, state: readCheckpointJson(join(checkpointsDir, tag, 'state.json'), StateSchema) };
  } catch {
    return null;
  }
}

/** The newest checkpoint folder (by step) of `checkpointsDir` that verifies, or null. Read-only. */
export function newestVerifiedCheckpoint(checkpointsDir: string): string | null {
  let names: string[];
  try {
    names = readdirSync(checkpointsDir);
  } catch {
    return null;
  }
  const tagged = names
    .filter((n) => TAG.test(n))
    .map((tag) => ({ tag, s: savedState(checkpointsDir, tag) }))
    .filter((c): c is { tag: string; s: NonNullable<typeof c.s> } => c.s !== null)
    .sort((a, b) => b.s.step - a.s.step);
  for (const { tag } of tagged) {
    try {
      verifyCheckpoint(join(checkpointsDir, tag));
      return tag;
    } catch {
      // damaged: try an older one
    }
  }
  return null;
}

/**
 * A run killed after a checkpoint folder was renamed into place but before `last` was switched
 * to it leaves a complete checkpoint that no link names. If one verifies and is newer (by step)
 * than `last`, the links are moved onto it as the trainer would have moved them (`prev` to the
 * old `last`, `best` too if that epoch was the best), so the finished epoch is not trained again.
 * Returns its tag, or null. Not used when `last` cannot be read: that is the fallback's case.
 */
function adoptUnlinkedCheckpoint(checkpointsDir: string): string | null {
  if (!existsSync(checkpointsDir)) return null;
  const linked = new Set(LINKS.map((l) => linkTarget(checkpointsDir, l)));
  const last = linkTarget(checkpointsDir, 'last');
  const lastStep = last === null ? -1 : savedState(checkpointsDir, last)?.step;
  if (lastStep === undefined) return null;
  const newer = readdirSync(checkpointsDir)
    .filter((n) => TAG.test(n) && !linked.has(n))
    .map((tag) => ({ tag, s: savedState(checkpointsDir, tag) }))
    .filter((c): c is { tag: string; s: NonNullable<typeof c.s> } => c.s !== null && c.s.step > lastStep)
    .sort((a, b) => b.s.step - a.s.step);
  for (const { tag, s } of newer) {
    try {
      verifyCheckpoint(join(checkpointsDir, tag));
    } catch {
      continue; // a damaged leftover: pruning removes it later
    }
    pointLink(checkpointsDir, 'last', tag);
    if (s.batch === 0 && s.bestEpoch === s.epoch) switchLink(checkpointsDir, 'best', tag);
    pruneCheckpoints(checkpointsDir);
    return tag;
  }
  return null;
}

/**
 * The checkpoint to resume a run from: `last` if it verifies, else `prev`, else `best` (with
 * the damaged folders renamed `corrupt-<tag>`, the links repaired, and a warning). Undefined
 * when the run has no checkpoint yet; a UserError when it has some but none is good. Call it
 * only while holding the run's lock: it changes the links.
 */
export function readResumeCheckpoint(checkpointsDir: string): ResumePoint | undefined {
  const hadLinks = LINKS.some((l) => linkTarget(checkpointsDir, l) !== null);
  const adopted = adoptUnlinkedCheckpoint(checkpointsDir);
  const found = LINKS.map((link) => ({ link, target: linkTarget(checkpointsDir, link) }));
  if (found.every((f) => f.target === null)) return undefined;
  if (adopted && !hadLinks) {
    // The links were deleted but checkpoint folders are there: resuming from the newest is right, and said.
    const data = readCheckpoint(join(checkpointsDir, adopted));
    const warning = `${checkpointsDir} has checkpoint folders but no last/prev/best links; resuming from the newest that verifies, ${adopted} (links restored)`;
    return { data, dir: join(checkpointsDir, adopted), link: 'last', warning, adopted };
  }
  const problems: string[] = [];
  const bad = new Set<string>();
  const tried = new Set<string>();
  for (const { link, target } of found) {
    if (target === null) {
      if (link === 'last') problems.push('checkpoints/last: missing');
      continue;
    }
    if (tried.has(target)) continue;
    const dir = join(checkpointsDir, target);
    let data: CheckpointData;
    try {
      data = readCheckpoint(dir);
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0];
      tried.add(target);
      bad.add(target);
      problems.push(`checkpoints/${link} (${target}): ${msg}`);
      continue;
    }
    if (problems.length === 0) return { data, dir, link, warning: null, adopted };
    // Repair: set the damaged folders aside, point last at the good one, drop links to bad ones.
    const moved: string[] = [];
    for (const t of bad) {
      const from = join(checkpointsDir, t);
      if (!existsSync(from) || t.includes('/')) continue; // only sibling folders are ours to move
      let to = `corrupt-${t}`;
      if (existsSync(join(checkpointsDir, to))) to = `${to}-${randomBytes(3).toString('hex')}`;
      renameSync(from, join(checkpointsDir, to));
      moved.push(`checkpoints/${to}`);
    }
    switchLink(checkpointsDir, 'last', target);
    for (const l of ['prev', 'best'] as const) {
      const t = linkTarget(checkpointsDir, l);
      if (t !== null && bad.has(t)) rmSync(join(checkpointsDir, l), { force: true });
    }
    const aside = moved.length > 0 ? `; the damaged folder${moved.length > 1 ? 's are' : ' is'} kept as ${moved.join(', ')}` : '';
    return { data, dir, link, warning: `${problems.join('; ')}; resuming from checkpoints/${link} (${target})${aside}`, adopted };
  }
  throw new UserError(
    `${checkpointsDir}: no good checkpoint to resume from: ${problems.join('; ')}; remove the checkpoints folder to train the run from the start`,
  );
}
