// `ekaf serve`'s durable spool options. Their values are checked by the producer's own
// validation, so that the command line and createProducer cannot disagree on what is valid;
// only the names in its errors are turned back into option names.
import type { SpoolOption } from '../config.js';
import { resolveOptions } from '../config-validation.js';
import { ConfigError } from '../errors.js';
import { UsageError } from './exit-codes.js';
import { integer, setting, type Values } from './settings.js';

/** --spool-dir, --spool-mode, --spool-max-bytes, --spool-fsync (EKAF_SPOOL_*). */
export function spoolSetting(values: Values): { spool?: SpoolOption } {
  const dir = setting(values, 'spool-dir', 'EKAF_SPOOL_DIR')?.value;
  const mode = setting(values, 'spool-mode', 'EKAF_SPOOL_MODE')?.value;
  const fsync = setting(values, 'spool-fsync', 'EKAF_SPOOL_FSYNC')?.value;
  const maxBytes = integer(
    setting(values, 'spool-max-bytes', 'EKAF_SPOOL_MAX_BYTES'),
    1,
    Number.MAX_SAFE_INTEGER,
  );
  if (dir === undefined) {
    if (mode !== undefined || fsync !== undefined || maxBytes !== undefined) {
      throw new UsageError('--spool-mode, --spool-fsync and --spool-max-bytes need --spool-dir');
    }
    return {};
  }
  const spool: SpoolOption = {
    dir,
    ...(mode === undefined ? {} : { mode: mode as SpoolOption['mode'] }),
    ...(fsync === undefined ? {} : { fsync: fsync as SpoolOption['fsync'] }),
    ...(maxBytes === undefined ? {} : { maxBytes }),
  };
  try {
    resolveOptions({ brokers: 'localhost:9092', spool });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // "spool.maxBytes: must be …" → "--spool-max-bytes: must be …"
    const flag = `--${error.field.replace('spool.', 'spool-').replace('maxBytes', 'max-bytes')}`;
    throw new UsageError(`${flag}: ${error.message.slice(error.field.length + 2)}`);
  }
  return { spool };
}
