// Where the command line writes: stdout only for what a caller may read (addresses, help,
// version), stderr for everything else, so that `ekaf dev-cluster | …` gets clean lines.
import type { Logger } from '../config.js';

export const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

export const err = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** A logger printing `level` and above to stderr. */
export function stderrLogger(level: 'warn' | 'info'): Logger {
  const print =
    (name: string) =>
    (message: string, fields?: object): void => {
      err(`ekaf ${name}: ${message}${fields === undefined ? '' : ` ${JSON.stringify(fields)}`}`);
    };
  const quiet = (): void => undefined;
  return {
    debug: quiet,
    info: level === 'info' ? print('info') : quiet,
    warn: print('warn'),
    error: print('error'),
  };
}
