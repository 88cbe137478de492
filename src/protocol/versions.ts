import { UnsupportedVersionError } from '../errors.js';
import { ApiKey, type Api } from './api.js';
import type { ApiVersionRange } from './apis/api-versions.js';

/**
 * The one table of API versions ekaf speaks. For each API the version used with a broker is
 * min(our max, the broker's max), provided the ranges overlap.
 *
 * Produce starts at v3: it is the first version that carries RecordBatch v2, the only record
 * format ekaf writes, and Kafka 4 removed v0–v2; it stops at v12, as v13 names topics by id.
 * Metadata starts at v1 because v0 cannot tell "no topics" from "all topics".
 */
export const SUPPORTED_VERSIONS: Readonly<Record<ApiKey, { readonly min: number; readonly max: number }>> = {
  [ApiKey.Produce]: { min: 3, max: 12 },
  [ApiKey.Metadata]: { min: 1, max: 12 },
  [ApiKey.ApiVersions]: { min: 0, max: 3 },
  // InitProducerId v6 (KIP-939, two-phase commit) is unstable in Kafka 4.4: not claimed.
  [ApiKey.InitProducerId]: { min: 0, max: 5 },
  // From v1, like the Java client: v0 cannot name a transactional id (it has no key type).
  [ApiKey.FindCoordinator]: { min: 1, max: 6 },
  // Transactions. AddPartitionsToTxn v4+ is broker-to-broker; TxnOffsetCommit v6 names topics by id.
  [ApiKey.AddPartitionsToTxn]: { min: 0, max: 3 },
  [ApiKey.AddOffsetsToTxn]: { min: 0, max: 4 },
  [ApiKey.EndTxn]: { min: 0, max: 5 },
  [ApiKey.TxnOffsetCommit]: { min: 0, max: 5 },
  // SASL: v1 hands the exchange to SaslAuthenticate (Kafka 1.0+); after v0 it goes as raw tokens.
  [ApiKey.SaslHandshake]: { min: 0, max: 1 },
  [ApiKey.SaslAuthenticate]: { min: 0, max: 2 },
};

/**
 * The highest versions a transactional producer may use while the cluster's `transaction.version`
 * feature is below 2 (transactions v1). The versions above them mean transactions v2 (KIP-890
 * part 2): Produce v12 adds its partitions to the transaction, TxnOffsetCommit v5 its group,
 * EndTxn v5 bumps the epoch. The Java client caps them the same way
 * (`LAST_STABLE_VERSION_BEFORE_TRANSACTION_V2` in ProduceRequest, TxnOffsetCommitRequest and
 * EndTxnRequest); a producer without a transactional id is not capped.
 */
export const TRANSACTION_V1_MAX_VERSIONS: Readonly<Partial<Record<ApiKey, number>>> = {
  [ApiKey.Produce]: 11,
  [ApiKey.EndTxn]: 4,
  [ApiKey.TxnOffsetCommit]: 4,
};

/** Picks the version to use for `api` given the broker's advertised ranges. */
export function pickVersion(api: Api<unknown, unknown>, brokerRanges: readonly ApiVersionRange[]): number {
  const ours = SUPPORTED_VERSIONS[api.key];
  const theirs = brokerRanges.find((range) => range.apiKey === api.key);
  if (theirs === undefined) throw new UnsupportedVersionError(api.name, ours, undefined);
  const version = Math.min(ours.max, theirs.maxVersion);
  if (version < ours.min || version < theirs.minVersion) {
    throw new UnsupportedVersionError(api.name, ours, { min: theirs.minVersion, max: theirs.maxVersion });
  }
  return version;
}
