// What ekaf's exit codes mean, and the error that ends a command with code 2. Scripts branch on
// them, so they are named once here rather than written as numbers in each command.

/** Exit codes: 0 done, 1 failed (records not delivered, cluster or gateway failure), 2 usage. */
export const OK = 0;
export const FAILED = 1;
export const USAGE = 2;

/**
 * Marks a UsageError. The installed command runs each command from a bundle of its own
 * (dist/bin/<command>.cjs), each with its own copy of this class, so `instanceof` in the
 * dispatcher would not recognise a command's usage errors: the registry-wide symbol does.
 */
const USAGE_ERROR = Symbol.for('ekaf.cli.usage-error');

/** A mistake in how ekaf was called: exit code 2, with a pointer to --help. */
export class UsageError extends Error {
  readonly [USAGE_ERROR] = true;

  /** True for a UsageError of any copy of this module. */
  static is(error: unknown): error is UsageError {
    return typeof error === 'object' && error !== null && USAGE_ERROR in error;
  }
}
