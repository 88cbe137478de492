/** How values are written on the page: numbers, times, sizes, errors. */
import type { ActorSnapshot } from '../../../runtime/runtime.js';

/** A counter or setting; `—` for nothing. */
export function fmt(value: unknown): string {
  if (value === null || value === '') return '—';
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? value.toLocaleString('en-US') : String(value);
    case 'string':
      return value;
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      return JSON.stringify(value);
    default:
      return '—';
  }
}

/** A time (ms since the epoch) as an age: `12 s ago`. */
export function ago(ms: unknown): string {
  if (typeof ms !== 'number' || ms <= 0) return 'never';
  const seconds = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  return new Date(ms).toLocaleTimeString();
}

/** A duration in ms: `850 ms`, `12.4 s`, `3 min 5 s`; `—` for none. */
export function duration(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

export function mib(bytes: unknown): string {
  return typeof bytes === 'number' ? `${(bytes / 1048576).toFixed(1)} MiB` : '—';
}

export function errorText(lastError: ActorSnapshot['lastError'] | undefined): string {
  if (lastError === null || lastError === undefined) return '';
  return (lastError.code ? `${lastError.code}: ` : '') + lastError.message;
}

/** Any detail on one line: objects as `key value · key value`. */
export function describe(value: unknown): string {
  if (typeof value !== 'object' || value === null) return fmt(value);
  const entries = Object.entries(value);
  if (entries.length === 0) return '—';
  return entries
    .map(
      ([key, inner]) =>
        `${key} ${typeof inner === 'object' && inner !== null ? JSON.stringify(inner) : fmt(inner)}`,
    )
    .join(' · ');
}
