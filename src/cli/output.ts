// Where the command line writes: stdout only for what a caller may read (addresses, help,
// version), stderr for everything else, so that `ekaf dev-cluster | …` gets clean lines.
import type { Logger } from '../config.js';
import { dedupWarnings, type DedupOptions } from './warning-dedup.js';

export const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

export const err = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/**
 * A logger printing `level` and above to stderr. A warning that repeats is printed once, then as
 * a count at most every 10 s, and once more when it stops (warning-dedup.ts); `flush()` prints
 * the counts held back (before exiting).
 */
export function stderrLogger(level: 'warn' | 'info', dedup: DedupOptions = {}): Logger & { flush(): void } {
  const print =
    (name: string) =>
    (message: string, fields?: object): void => {
      err(`ekaf ${name}: ${message}${fields === undefined ? '' : ` ${JSON.stringify(fields, withErrors)}`}`);
    };
  const quiet = (): void => undefined;
  return dedupWarnings(
    {
      debug: quiet,
      info: level === 'info' ? print('info') : quiet,
      warn: print('warn'),
      error: print('error'),
    },
    dedup,
  );
}

/**
 * JSON.stringify's replacer for log fields: an Error has no enumerable own properties, so it
 * printed as `{}`; it prints as its name, code, message, stack and cause.
 */
export function withErrors(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const { code } = value as { code?: unknown };
  return {
    name: value.name,
    ...(code === undefined ? {} : { code }),
    message: value.message,
    stack: value.stack,
    ...(value.cause === undefined ? {} : { cause: value.cause }),
  };
}
