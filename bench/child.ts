/**
 * Runs one benchmark child process (a Node case or the PyTorch reference) and watches its
 * memory from outside: the kernel's high-water mark (VmHWM in /proc/PID/status) is polled, so
 * that a child which dies — a wasm `Aborted()` when its heap reaches 4 GB, an out-of-memory
 * kill — still leaves a peak RSS to report (a lower bound: the last poll before it died).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Largest VmHWM seen while polling (MB); null where /proc is not available. */
  polledPeakRssMB: number | null;
  wallSeconds: number;
  /** Spawn error (the executable is missing, ...). */
  spawnError: string | null;
}

const POLL_MS = 200;

function vmHwmMB(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null; // gone, or not Linux
  }
}

export interface ChildOptions {
  env?: NodeJS.ProcessEnv;
  /** Forward the child's stderr to ours as it comes (progress lines, engine warnings). */
  echoStderr?: boolean;
  /** Prefix of each echoed stderr line. */
  echoPrefix?: string;
}

export function runChild(cmd: string, args: readonly string[], opts: ChildOptions = {}): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    let peak: number | null = null;
    const poll = (): void => {
      if (child.pid === undefined) return;
      const v = vmHwmMB(child.pid);
      if (v !== null) peak = Math.max(peak ?? 0, v);
    };
    const timer = setInterval(poll, POLL_MS);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (opts.echoStderr) {
        const prefix = opts.echoPrefix ?? '';
        process.stderr.write(prefix ? d.replace(/^(?=.)/gm, prefix) : d);
      }
    });
    let done = false;
    const finish = (o: Omit<ChildOutcome, 'stdout' | 'stderr' | 'polledPeakRssMB' | 'wallSeconds'>): void => {
      if (done) return;
      done = true;
      clearInterval(timer);
      resolve({ ...o, stdout, stderr, polledPeakRssMB: peak, wallSeconds: (performance.now() - t0) / 1000 });
    };
    child.on('error', (e) => finish({ code: null, signal: null, spawnError: e.message }));
    // 'exit' fires before the pipes drain; 'close' after both. Poll once more on exit: the
    // process is a zombie until reaped, and its status may still be readable.
    child.on('exit', poll);
    child.on('close', (code, signal) => finish({ code, signal, spawnError: null }));
  });
}

/** The last non-empty stderr line: the engine's own reason when a child fails. */
export function lastLine(text: string): string {
  return text.trim().split('\n').filter((l) => l.trim() !== '').pop()?.trim() ?? '';
}

/** "exit code 1: <last stderr line>" / "killed by SIGKILL" for a failed child. */
export function failureReason(o: ChildOutcome): string {
  if (o.spawnError !== null) return o.spawnError;
  const why = o.signal ? `killed by ${o.signal}` : `exit code ${o.code}`;
  const last = lastLine(o.stderr);
  return last ? `${why}: ${last}` : why;
}
