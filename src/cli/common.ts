/** Shared pieces of the command files: exit codes and flag parsing helpers. */
import { UserError } from '../util/errors.js';

export const EXIT = { ok: 0, failure: 1, badInput: 2, sigint: 130, sigterm: 143 } as const;

/** Commander accumulator for repeatable flags. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function parseChoice<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new UserError(`${flag}: '${value}' is not one of ${choices.join(', ')}`);
  }
  return value as T;
}

export function parsePositiveInt(flag: string, value: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UserError(`${flag}: expected a positive integer, got '${value}'`);
  if (n > max) throw new UserError(`${flag}: ${value} is more than ${max}`);
  return n;
}
