/** A warning for the user: one line on stderr, `snn: warning: …`, control characters escaped. */
import { oneLine } from './errors.js';

export function warn(message: string): void {
  process.stderr.write(`snn: warning: ${oneLine(message)}\n`);
}
