import type Long from 'long';
import { EncodeError } from '../../errors.js';
import { ApiKey, isFlexible, type Api } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import {
  readTopicPartitionErrorsResponse,
  type TopicPartitionErrorsResponse,
  type TxnProducer,
} from './txn-common.js';

/**
 * TxnOffsetCommit (key 28), v0–v5; flexible from v3. Commits a consumer group's offsets as part
 * of a transaction, sent to the group coordinator. v2 adds each partition's committed leader
 * epoch; v3 (KIP-447) the consumer's group metadata, so that the coordinator fences a zombie.
 * v5 is v4 with transactions v2 (KIP-890): it also adds the offsets to the transaction, which
 * AddOffsetsToTxn does otherwise; the Java client sends v4 at most when the cluster's
 * transaction.version is below 2 (`TRANSACTION_V1_MAX_VERSIONS`). v6 names topics by id
 * (KIP-1319) and is not supported.
 */
export interface TxnOffsetCommitRequest extends TxnProducer {
  groupId: string;
  /** v3+: the consumer's generation id (classic protocol) or member epoch; -1 when unknown. */
  generationId: number;
  /** v3+: the consumer's member id; '' when unknown. */
  memberId: string;
  /** v3+: the consumer's group.instance.id; null for a dynamic member. */
  groupInstanceId: string | null;
  topics: TxnOffsetCommitTopic[];
}

export interface TxnOffsetCommitTopic {
  name: string;
  partitions: TxnOffsetCommitPartition[];
}

export interface TxnOffsetCommitPartition {
  partition: number;
  committedOffset: Long | number;
  /** v2+: the leader epoch of the last record consumed, or -1; dropped before v2. */
  committedLeaderEpoch: number;
  committedMetadata: string | null;
}

export type TxnOffsetCommitResponse = TopicPartitionErrorsResponse;

const FIRST_TOPIC_ID_VERSION = 6;

export const TxnOffsetCommit: Api<TxnOffsetCommitRequest, TxnOffsetCommitResponse> = {
  key: ApiKey.TxnOffsetCommit,
  name: 'TxnOffsetCommit',
  flexibleFrom: 3,

  encodeRequest(writer: Writer, version: number, request: TxnOffsetCommitRequest): void {
    if (version >= FIRST_TOPIC_ID_VERSION) {
      throw new EncodeError(`TxnOffsetCommit v${version} names topics by id, which ekaf does not send`);
    }
    const flexible = isFlexible(TxnOffsetCommit, version);
    writer
      .flexString(flexible, request.transactionalId)
      .flexString(flexible, request.groupId)
      .int64(request.producerId)
      .int16(request.producerEpoch);
    if (version >= 3) {
      writer
        .int32(request.generationId)
        .flexString(flexible, request.memberId)
        .flexNullableString(flexible, request.groupInstanceId);
    } else if (request.generationId !== -1 || request.memberId !== '' || request.groupInstanceId !== null) {
      // Like the Java client: without the group metadata the coordinator cannot fence a zombie.
      throw new EncodeError(`TxnOffsetCommit v${version} cannot carry the group metadata (v3+)`);
    }
    writer
      .flexArray(flexible, request.topics, (w, topic) => {
        w.flexString(flexible, topic.name)
          .flexArray(flexible, topic.partitions, (pw, partition) => {
            pw.int32(partition.partition).int64(partition.committedOffset);
            if (version >= 2) pw.int32(partition.committedLeaderEpoch);
            pw.flexNullableString(flexible, partition.committedMetadata).flexTaggedFields(flexible);
          })
          .flexTaggedFields(flexible);
      })
      .flexTaggedFields(flexible);
  },

  decodeResponse(reader: Reader, version: number): TxnOffsetCommitResponse {
    return readTopicPartitionErrorsResponse(reader, isFlexible(TxnOffsetCommit, version));
  },
};
