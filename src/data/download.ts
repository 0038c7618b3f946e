/**
 * HTTP downloads that survive interruptions: bytes go to `<dest>.part`, a later attempt asks
 * for the rest with a Range header (and starts over if the server ignores it), and the file
 * gets its real name only once the server has sent all of it.
 */
import { createWriteStream, renameSync, statSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { UserError } from '../util/errors.js';

export interface DownloadProgress {
  /** A file starts (or resumes at `received` bytes); `total` when the server says. */
  start(name: string, url: string, received: number, total: number | null): void;
  update(received: number): void;
  stop(): void;
}

export interface DownloadOptions {
  progress?: DownloadProgress;
  /** Resumptions after a broken transfer, within this call. */
  retries?: number;
  /** Milliseconds without a byte (or without response headers) before giving up on a try. */
  idleTimeout?: number;
}

/** Raised when no URL could even be connected to: the machine is offline, or the hosts are gone. */
export class NetworkError extends UserError {}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

function errorCode(e: unknown): string {
  let cur: unknown = e;
  for (let depth = 0; depth < 4 && cur && typeof cur === 'object'; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return e instanceof Error ? e.message : String(e);
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

type Attempt = { done: true } | { done: false; reason: string; connected: boolean };

/** One request: appends to (or restarts) the part file; `done` when the file is complete. */
async function attempt(url: string, name: string, part: string, o: DownloadOptions): Promise<Attempt> {
  const have = sizeOf(part);
  const ctrl = new AbortController();
  const idle = o.idleTimeout ?? 60_000;
  let timer = setTimeout(() => ctrl.abort(), idle);
  const poke = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => ctrl.abort(), idle);
  };
  let res: Response;
  try {
    res = await fetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, signal: ctrl.signal, redirect: 'follow' });
  } catch (e) {
    clearTimeout(timer);
    const code = ctrl.signal.aborted ? 'no response' : errorCode(e);
    return { done: false, reason: code, connected: false };
  }
  try {
    if (res.status === 416 && have > 0) return { done: true }; // nothing left to send: the part is whole
    let append = false;
    let offset = 0;
    if (res.status === 206 && have > 0) {
      const m = /bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
      if (m && Number(m[1]) === have) {
        append = true;
        offset = have;
      }
    }
    if (res.status !== 200 && !append) {
      if (res.status === 206) {
        // A range we did not ask for: start again from the beginning.
        await res.body?.cancel();
        rmSync(part, { force: true });
        return { done: false, reason: 'unexpected partial content', connected: true };
      }
      await res.body?.cancel();
      return { done: false, reason: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, connected: true };
    }
    const length = Number(res.headers.get('content-length') ?? NaN);
    const total = Number.isFinite(length) ? offset + length : null;
    o.progress?.start(name, url, offset, total);
    const out = createWriteStream(part, { flags: append ? 'a' : 'w' });
    let received = offset;
    try {
      if (res.body) {
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          poke();
          received += value.byteLength;
          if (!out.write(value)) await once(out, 'drain');
          o.progress?.update(received);
        }
      }
    } catch (e) {
      return { done: false, reason: ctrl.signal.aborted ? 'stalled' : errorCode(e), connected: true };
    } finally {
      out.end();
      await once(out, 'close');
      o.progress?.stop();
    }
    if (total !== null && received < total) return { done: false, reason: `connection closed after ${received} of ${total} bytes`, connected: true };
    return { done: true };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Downloads the first URL that works to `dest`, resuming from `<dest>.part` if an earlier call
 * left one. Throws NetworkError if no URL could be connected to, UserError otherwise.
 */
export async function downloadFile(urls: readonly string[], dest: string, name: string, o: DownloadOptions = {}): Promise<string> {
  const part = `${dest}.part`;
  const failures: string[] = [];
  let anyConnected = false;
  for (const url of urls) {
    let tries = 0;
    let progressBefore = sizeOf(part);
    for (;;) {
      const r = await attempt(url, name, part, o);
      if (r.done) {
        renameSync(part, dest);
        return url;
      }
      anyConnected ||= r.connected;
      const now = sizeOf(part);
      // Retry a broken transfer that made progress (resuming); give up on this URL otherwise.
      if (!r.connected || now <= progressBefore || tries >= (o.retries ?? 3)) {
        failures.push(`${url}: ${r.reason}`);
        break;
      }
      tries++;
      progressBefore = now;
    }
  }
  const kept = sizeOf(part) > 0 ? `; ${sizeOf(part)} bytes kept in ${part}, run again to resume` : '';
  const msg = `cannot download ${name} (${failures.join('; ')})${kept}`;
  throw anyConnected ? new UserError(msg) : new NetworkError(msg);
}
