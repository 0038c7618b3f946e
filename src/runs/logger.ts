/**
 * The run's structured log: pino JSON lines in `log.jsonl`, written synchronously so that the
 * lines before a crash are on disk.
 */
import { pino, type Logger } from 'pino';

export function runLogger(file: string): Logger {
  return pino(
    { base: null, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: file, sync: true, append: true, mkdir: true }),
  );
}

/** A logger that drops everything (for library calls outside a run). */
export const nullLogger: Logger = pino({ enabled: false });
