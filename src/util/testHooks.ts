/**
 * Test hooks: environment variables that make a fault happen at an exact point, so that the
 * reliability tests (test/reliability*.test.ts) can kill a process in the middle of a
 * checkpoint write, fail a write as if the disk were full, or make a loss non-finite. They
 * are read on every use (so in-process tests can set and unset them) and do nothing when
 * unset. Never set them outside tests.
 *
 *   SNN_TEST_PAUSE_IN_CHECKPOINT=ms[@where]
 *                                     writeCheckpoint prints `snn-test: checkpoint <tag> <stage>`
 *                                     on stderr and sleeps `ms` after each file it writes into
 *                                     the temporary folder (stage `wrote <file>`), after
 *                                     renaming the folder into place (`renamed`) and after
 *                                     switching `prev` (`prev`), so a test can SIGKILL it there;
 *                                     with `@where`, only where `<tag> <stage>` contains it.
 *   SNN_TEST_PAUSE_AT_STEP=N[:ms]     the trainer prints `snn-test: step N` and sleeps `ms`
 *                                     (default 60000) when it computes global step N, before
 *                                     applying it (a mid-epoch point to SIGKILL at).
 *   SNN_TEST_NONFINITE_AT=E:B[,E:B..][=nan|inf]
 *                                     the loss of batch B of epoch E (1-based) reads as NaN
 *                                     (or +Infinity), as a diverged step would.
 *   SNN_TEST_FAIL_WRITE=pattern[:CODE][@N]
 *                                     crash-safe writes (and checkpoint folder and link
 *                                     creations) to a path containing `pattern` (where `*`
 *                                     matches anything) fail with errno CODE (default ENOSPC,
 *                                     "no space left on device"), from the N-th such write of
 *                                     the process on (default the first).
 */
import { writeSync } from 'node:fs';

function say(line: string): void {
  try {
    writeSync(2, `snn-test: ${line}\n`);
  } catch {
    // stderr closed: the pause still happens
  }
}

/** Blocks the thread (not just this task) for `ms` milliseconds. */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** SNN_TEST_PAUSE_IN_CHECKPOINT: announces a point of a checkpoint write and sleeps there. */
export function checkpointPause(tag: string, stage: string): void {
  const spec = process.env.SNN_TEST_PAUSE_IN_CHECKPOINT;
  if (!spec) return;
  const at = spec.indexOf('@');
  const ms = Number(at >= 0 ? spec.slice(0, at) : spec);
  if (!Number.isFinite(ms) || ms <= 0) return;
  if (at >= 0 && !`${tag} ${stage}`.includes(spec.slice(at + 1))) return;
  say(`checkpoint ${tag} ${stage}`);
  sleepSync(ms);
}

/**
 * The trainer's hook on each step's loss: SNN_TEST_PAUSE_AT_STEP pauses at a global step,
 * SNN_TEST_NONFINITE_AT replaces the loss of chosen batches. Returns the loss to use.
 */
export function stepHook(loss: number, at: { epoch: number; batch: number; step: number }): number {
  const pause = process.env.SNN_TEST_PAUSE_AT_STEP;
  if (pause) {
    const [step, ms] = pause.split(':').map(Number);
    if (step === at.step) {
      say(`step ${at.step} (epoch ${at.epoch}, batch ${at.batch})`);
      sleepSync(Number.isFinite(ms) && ms > 0 ? ms : 60_000);
    }
  }
  const nonFinite = process.env.SNN_TEST_NONFINITE_AT;
  if (nonFinite) {
    const [where, kind] = nonFinite.split('=');
    const hit = where.split(',').some((p) => p.trim() === `${at.epoch}:${at.batch}`);
    if (hit) return kind === 'inf' ? Number.POSITIVE_INFINITY : Number.NaN;
  }
  return loss;
}

const MESSAGES: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EIO: 'i/o error',
};

/** SNN_TEST_FAIL_WRITE: throws the errno error a failing write of `path` would. */
let matchingWrites = 0;
let countedSpec = '';
export function writeFault(path: string, syscall = 'write'): void {
  const spec = process.env.SNN_TEST_FAIL_WRITE;
  if (!spec) return;
  if (spec !== countedSpec) {
    countedSpec = spec;
    matchingWrites = 0;
  }
  const m = /^(.*?)(?::(E[A-Z]+))?(?:@(\d+))?$/.exec(spec);
  if (!m || !m[1]) return;
  const [, pattern, code = 'ENOSPC', from = '1'] = m;
  const re = new RegExp(pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*'));
  if (!re.test(path)) return;
  matchingWrites += 1;
  if (matchingWrites < Number(from)) return;
  const e = new Error(`${code}: ${MESSAGES[code] ?? 'simulated failure'}, ${syscall} '${path}'`) as NodeJS.ErrnoException;
  e.code = code;
  e.syscall = syscall;
  e.path = path;
  throw e;
}
