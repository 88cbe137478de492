// Reading a command's options: the command line first, then an environment variable, then the
// default. Each value keeps where it came from (`--port` or `EKAF_PORT`), so that a usage error
// names what the user actually wrote.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolveOptions } from '../config-validation.js';
import { ConfigError } from '../errors.js';
import { UsageError } from './exit-codes.js';

/** The parsed command line, option name to value, as node:util's parseArgs returns it. */
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** An option's value and where it came from, so that errors name the right thing. */
export interface Setting {
  value: string;
  source: string;
}

/** The command line of `ekaf <command>`, with -h/--help added; parse errors are usage errors. */
export function parseCommandLine(
  command: string,
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return { values, positionals };
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const name = /'([^']+)'/.exec(message)?.[1] ?? message;
      throw new UsageError(`unknown option ${name} for "ekaf ${command}"`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      // "Option '--port <value>' argument missing" or "Option '-h, --help' does not take an argument"
      throw new UsageError(message.replace(/^Option '([^']+)'/, 'option $1:'));
    }
    throw error;
  }
}

/** The option's value, else the environment variable's (empty means unset), else undefined. */
export function setting(values: Values, name: string, envName?: string): Setting | undefined {
  const value = values[name];
  if (typeof value === 'string') return { value, source: `--${name}` };
  if (envName !== undefined) {
    const fromEnv = process.env[envName]?.trim();
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: envName };
  }
  return undefined;
}

/** A decimal integer in [min, max]: counts, ports, byte sizes and durations in ms. */
export function integer(s: Setting | undefined, min: number, max: number): number | undefined {
  if (s === undefined) return undefined;
  const n = /^\d+$/.test(s.value) ? Number(s.value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`${s.source} must be an integer ${range} (got ${JSON.stringify(s.value)})`);
  }
  return n;
}

/** Validates a broker list the way createProducer will, naming the option or variable. */
export function brokers(s: Setting): string {
  try {
    resolveOptions({ brokers: s.value });
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new UsageError(`${s.source}: ${error.message.replace(/^brokers:?\s*/, '')}`);
    }
    throw error;
  }
  return s.value;
}

export function noPositionals(command: string, positionals: string[]): void {
  if (positionals.length > 0) {
    throw new UsageError(`"ekaf ${command}" takes no arguments (got ${JSON.stringify(positionals[0])})`);
  }
}

/**
 * A comma-separated list of names (`a,b, c`), each checked by `valid` (which says what is
 * wrong, or null); empty items are a usage error, not skipped.
 */
export function nameList(
  s: Setting | undefined,
  valid: (name: string) => string | null,
): string[] | undefined {
  if (s === undefined) return undefined;
  const names = s.value.split(',').map((name) => name.trim());
  for (const name of names) {
    const problem = name === '' ? 'an empty name' : valid(name);
    if (problem !== null) throw new UsageError(`${s.source}: ${problem} in ${JSON.stringify(s.value)}`);
  }
  return names;
}
