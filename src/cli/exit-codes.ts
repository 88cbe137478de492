// What ekaf's exit codes mean, and the error that ends a command with code 2. Scripts branch on
// them, so they are named once here rather than written as numbers in each command.

/** Exit codes: 0 done, 1 failed (records not delivered, cluster or gateway failure), 2 usage. */
export const OK = 0;
export const FAILED = 1;
export const USAGE = 2;

/** A mistake in how ekaf was called: exit code 2, with a pointer to --help. */
export class UsageError extends Error {}
