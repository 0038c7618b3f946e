/**
 * Tests that need something CI installs (snn's native addon, Slurm, Chromium): outside CI they
 * skip with the reason; in CI (CI=true, or SNN_CI=1 as .ci/run sets) a missing requirement is a
 * failing test, so CI cannot be green with the default fast path untested.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

export const inCi = (): boolean => process.env['CI'] === 'true' || process.env['SNN_CI'] === '1';

/**
 * The `skip` option for tests needing `what`: false when it is available (`missing` null), else
 * the reason; in CI a missing requirement also adds one failing test naming it.
 */
export function requirement(what: string, missing: string | null): string | false {
  if (missing === null) return false;
  const reason = `${what} unavailable: ${missing}`;
  if (inCi()) {
    test(`${what} is installed (required in CI)`, () => {
      assert.fail(`${reason} — CI installs it; see .ci/run`);
    });
  }
  return reason;
}
