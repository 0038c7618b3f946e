/**
 * A fixed-size pool of workers over a list, and one `snn train` child process. The sweep's
 * concurrency is nothing more than this: N promises each taking the next item when free.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';

/** Runs `work` on every item with at most `jobs` at a time; stops taking items once `stopped()`. */
export async function runPool<T>(items: readonly T[], jobs: number, work: (item: T) => Promise<void>, stopped: () => boolean = () => false): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !stopped()) {
      const item = items[next++];
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last non-empty stderr line: the one-line reason of a failed `snn train`. */
  lastError: string;
  seconds: number;
}

export interface Child {
  pid: number;
  done: Promise<ChildResult>;
  signal(sig: NodeJS.Signals): void;
}

/**
 * Starts a child with stdout captured and stderr appended to `logFile` (one log per run, kept
 * across attempts). Detached children have their own process group, so a Ctrl-C at the
 * terminal reaches only the sweep, which passes it on once; `snn train` treats a second
 * signal as "abort without checkpoint", so it must not get two.
 */
export function startChild(
  cmd: string,
  args: readonly string[],
  o: { cwd: string; logFile: string; detached: boolean; env?: NodeJS.ProcessEnv },
): Child {
  const log = openSync(o.logFile, 'a');
  writeSync(log, `\n# ${new Date().toISOString()} ${[cmd, ...args].join(' ')}\n`);
  const t0 = performance.now();
  const child = spawn(cmd, args, { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: o.detached });
  let stdout = '';
  let lastError = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    writeSync(log, s);
    const lines = s.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    if (lines.length > 0) lastError = lines[lines.length - 1];
  });
  const done = new Promise<ChildResult>((resolveDone) => {
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null, err?: Error): void => {
      if (settled) return;
      settled = true;
      if (err) lastError = err.message;
      try {
        writeSync(log, `# exit ${signal ?? code}\n`);
      } finally {
        closeSync(log);
      }
      resolveDone({ code, signal, stdout, lastError, seconds: (performance.now() - t0) / 1000 });
    };
    child.on('error', (e) => finish(null, null, e));
    child.on('close', (code, signal) => finish(code, signal));
  });
  return {
    pid: child.pid ?? -1,
    done,
    signal: (sig) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    },
  };
}
