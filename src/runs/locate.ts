/** Finding the checkpoint a command should read: a run's best or last, or a checkpoint folder. */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../util/errors.js';
import { findRun, runPaths, type RunPaths } from './runFolder.js';

/** Resolves a run or a checkpoint folder to both. */
export function locateCheckpoint(target: string, runsDir: string, which: 'best' | 'last'): { paths: RunPaths; checkpoint: string } {
  if (existsSync(join(target, 'checksums.json'))) {
    const real = realpathSync(target);
    const ckDir = dirname(real);
    if (basename(ckDir) !== 'checkpoints') throw new UserError(`${target}: a checkpoint must sit in a run's checkpoints/ folder`);
    return { paths: runPaths(dirname(ckDir)), checkpoint: real };
  }
  const paths = findRun(target, runsDir);
  let ck = join(paths.checkpoints, which);
  if (!existsSync(ck) && which === 'best') ck = join(paths.checkpoints, 'last');
  if (!existsSync(ck) || !statSync(ck).isDirectory()) throw new UserError(`${paths.dir}: has no checkpoint yet`);
  return { paths, checkpoint: realpathSync(ck) };
}

