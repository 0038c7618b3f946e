/** Versions and provenance recorded in every run's meta.json. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './paths.js';
import * as tf from '@tensorflow/tfjs';

export function snnVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function gitCommit(): string | null {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'ignore'] });
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: packageRoot(),
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.toString().trim() + (dirty.toString().trim() ? '-dirty' : '');
  } catch {
    return null;
  }
}

export function versions(): Record<string, string> {
  return { snn: snnVersion(), tfjs: tf.version.tfjs, node: process.version };
}
