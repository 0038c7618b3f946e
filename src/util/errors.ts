/**
 * Errors the user can fix (bad config, missing file, corrupt data). The CLI prints the message
 * on one line and exits with code 2; any other error exits with code 1.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
