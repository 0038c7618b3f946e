/**
 * Errors the user can fix (bad config, missing file, corrupt data). The CLI prints the message
 * on one line and exits with code 2; any other error exits with code 1.
 */
export class UserError extends Error {
  override readonly name = 'UserError';

  /** Control characters in the message (from a key or a file name) are escaped, so it stays one line. */
  constructor(message: string, options?: ErrorOptions) {
    super(oneLine(message), options);
  }
}

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `s` with control and line-separator characters written as escapes. */
export function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
