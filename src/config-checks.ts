import { ConfigError } from './errors.js';

/**
 * The checks every option validator shares, and how a bad value is shown in its error. Apart
 * from config-validation.ts so that config-topic-settings.ts, which config-validation.ts
 * imports, can use them without importing it back.
 */

/** `value` as an integer in [min, max]; the message names the bound when there is one below 2^53. */
export function requireInteger(
  field: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(field, `must be ${integerRange(min, max)} (got ${show(value)})`);
  }
  return value;
}

function integerRange(min: number, max: number): string {
  return max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer >= ${min} and <= ${max}`;
}

export function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** A value as an error message shows it: JSON where that is faithful, String() otherwise. */
export function show(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol' || typeof value === 'function' || value === undefined) return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
