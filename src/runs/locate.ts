/**
 * Finding the checkpoint a command should read: a run's best or last, or a checkpoint folder.
 * Where the one asked for is not there, a fallback is used and said in one warning line: a
 * missing or dangling `best` falls back to `last`; a run whose links are gone but whose
 * checkpoint folders are there uses the newest folder that verifies.
 *
 * The checkpoint found is verified (checksums, schemas) and the run's config.yaml checked to be
 * the one it was trained with (src/runs/runConfig.ts), so that every command that rebuilds a
 * model from a run (eval, export, a KD teacher) refuses an edited or damaged config.yaml.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../util/errors.js';
import { warn } from '../util/warn.js';
import { linkTarget, verifyCheckpoint } from './checkpoint.js';
import { newestVerifiedCheckpoint } from './resume.js';
import { readCheckpointJson, StateSchema } from './checkpointFiles.js';
import { checkConfigAgainst } from './runConfig.js';
import { findRun, runPaths, type RunPaths } from './runFolder.js';

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** Resolves a run or a checkpoint folder to both, the checkpoint verified and the config checked against it. */
export function locateCheckpoint(target: string, runsDir: string, which: 'best' | 'last'): { paths: RunPaths; checkpoint: string } {
  const found = findCheckpoint(target, runsDir, which);
  verifyCheckpoint(found.checkpoint);
  checkConfigAgainst(found.paths, found.checkpoint, readCheckpointJson(join(found.checkpoint, 'state.json'), StateSchema));
  return found;
}

function findCheckpoint(target: string, runsDir: string, which: 'best' | 'last'): { paths: RunPaths; checkpoint: string } {
  if (existsSync(join(target, 'checksums.json'))) {
    const real = realpathSync(target);
    const ckDir = dirname(real);
    if (basename(ckDir) !== 'checkpoints') throw new UserError(`${target}: a checkpoint must sit in a run's checkpoints/ folder`);
    return { paths: runPaths(dirname(ckDir)), checkpoint: real };
  }
  const paths = findRun(target, runsDir);
  const ckDir = paths.checkpoints;
  const usable = (link: string): string | null => {
    const t = linkTarget(ckDir, link);
    return t !== null && isDir(join(ckDir, t)) ? t : null;
  };
  let tag = usable(which);
  if (tag === null && which === 'best') {
    const dangling = linkTarget(ckDir, 'best');
    tag = usable('last');
    if (tag !== null) {
      warn(
        dangling !== null
          ? `checkpoints/best points to ${dangling}, which is missing; using checkpoints/last (${tag})`
          : `${paths.dir} has no best checkpoint (no evaluation yet); using checkpoints/last (${tag})`,
      );
    }
  }
  if (tag === null) {
    const newest = newestVerifiedCheckpoint(ckDir);
    if (newest === null) throw new UserError(`${paths.dir}: has no checkpoint yet`);
    warn(`${ckDir} has no usable ${which === 'best' ? 'best or last' : 'last'} link; using the newest checkpoint that verifies, ${newest}`);
    tag = newest;
  }
  return { paths, checkpoint: realpathSync(join(ckDir, tag)) };
}
