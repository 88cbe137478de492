import { MAX_DURATION_MS, type Acks, type TopicSettings } from './config.js';
import { isObject, requireInteger, show } from './config-checks.js';
import { ConfigError } from './errors.js';
import { assertCodecAvailable, COMPRESSION_NAMES, type CompressionName } from './protocol/compression.js';
import { PARTITIONER_NAMES, type PartitionerFunction, type PartitionerName } from './runtime/partitioners.js';

/**
 * Topic settings checked and merged: at creation for `defaults` and `topics`, and again at
 * runtime for `setTopicConfig`. Apart from config-validation.ts because the runtime needs these
 * rules without the rest of the producer's options.
 */

/** Merges `partial` over `base`, validating each field; `where` prefixes error field names. */
export function resolveTopicSettings(
  where: string,
  base: Readonly<TopicSettings>,
  partial: Partial<TopicSettings>,
): TopicSettings {
  if (!isObject(partial)) throw new ConfigError(where, `must be an object (got ${show(partial)})`);
  const settings: TopicSettings = { ...base };
  for (const [key, value] of Object.entries(partial) as [keyof TopicSettings, unknown][]) {
    if (value === undefined) continue;
    const field = `${where}.${key}`;
    switch (key) {
      case 'acks':
        if (value !== 'all' && value !== -1 && value !== 0 && value !== 1) {
          throw new ConfigError(field, `must be 'all', -1, 0 or 1 (got ${show(value)})`);
        }
        settings.acks = value;
        break;
      case 'lingerMs':
        settings.lingerMs = requireInteger(field, value, 0, MAX_DURATION_MS);
        break;
      case 'batchBytes':
        settings.batchBytes = requireInteger(field, value, 1);
        break;
      case 'batchRecords':
        settings.batchRecords = requireInteger(field, value, 1);
        break;
      case 'maxInFlight':
        settings.maxInFlight = requireInteger(field, value, 1);
        break;
      case 'produceTimeoutMs':
        settings.produceTimeoutMs = requireInteger(field, value, 1, MAX_DURATION_MS);
        break;
      case 'compression':
        if (!COMPRESSION_NAMES.includes(value as CompressionName)) {
          throw new ConfigError(field, `must be one of ${COMPRESSION_NAMES.join(', ')} (got ${show(value)})`);
        }
        try {
          assertCodecAvailable(value as CompressionName);
        } catch (error) {
          throw new ConfigError(field, (error as Error).message);
        }
        settings.compression = value as CompressionName;
        break;
      case 'partitioner':
        if (typeof value === 'function') {
          settings.partitioner = value as PartitionerFunction;
        } else if (PARTITIONER_NAMES.includes(value as PartitionerName)) {
          settings.partitioner = value as PartitionerName;
        } else {
          throw new ConfigError(field, `must be a function or one of ${PARTITIONER_NAMES.join(', ')}`);
        }
        break;
      default:
        throw new ConfigError(field, 'is not a topic setting');
    }
  }
  return settings;
}

/** Most batches in flight per partition that the broker's idempotence state tracks. */
export const MAX_IDEMPOTENT_IN_FLIGHT = 5;

/**
 * Idempotence needs every in-sync replica's acknowledgement and at most 5 batches in flight per
 * partition. A conflicting setting is an error, not silently overridden.
 */
export function checkIdempotence(where: string, settings: TopicSettings, idempotent: boolean): void {
  if (!idempotent) return;
  if (settings.acks !== 'all' && settings.acks !== -1) {
    throw new ConfigError(
      `${where}.acks`,
      `must be 'all' when idempotent is true (set idempotent: false to use acks ${settings.acks})`,
    );
  }
  if (settings.maxInFlight > MAX_IDEMPOTENT_IN_FLIGHT) {
    throw new ConfigError(
      `${where}.maxInFlight`,
      `must be <= ${MAX_IDEMPOTENT_IN_FLIGHT} when idempotent is true (got ${settings.maxInFlight})`,
    );
  }
}

/** The acks value sent on the wire. */
export function wireAcks(acks: Acks): -1 | 0 | 1 {
  return acks === 'all' ? -1 : acks;
}
