import type Long from 'long';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

// Parts the transaction APIs share: AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit.

/** The producer a transactional request speaks for. */
export interface TxnProducer {
  transactionalId: string;
  producerId: Long | number;
  producerEpoch: number;
}

/** A topic's per-partition error codes. */
export interface TopicPartitionErrors {
  name: string;
  partitions: { partition: number; errorCode: number }[];
}

/** Transactional id, producer id and epoch: how AddPartitionsToTxn, AddOffsetsToTxn and EndTxn start. */
export function writeTxnProducer(writer: Writer, flexible: boolean, producer: TxnProducer): Writer {
  return writer
    .flexString(flexible, producer.transactionalId)
    .int64(producer.producerId)
    .int16(producer.producerEpoch);
}

/** The answer of AddPartitionsToTxn (v0–v3) and TxnOffsetCommit: no top-level error code. */
export interface TopicPartitionErrorsResponse {
  throttleTimeMs: number;
  /** An error code for each partition of the request. */
  topics: TopicPartitionErrors[];
}

/** A throttle time, then topics each with an array of (partition, error code). */
export function readTopicPartitionErrorsResponse(
  reader: Reader,
  flexible: boolean,
): TopicPartitionErrorsResponse {
  const throttleTimeMs = reader.int32();
  const topics = reader.flexArray(flexible, (r) => {
    const name = r.flexString(flexible);
    const partitions = r.flexArray(flexible, (p) => {
      const partition = { partition: p.int32(), errorCode: p.int16() };
      p.flexTaggedFields(flexible);
      return partition;
    });
    r.flexTaggedFields(flexible);
    return { name, partitions };
  });
  reader.flexTaggedFields(flexible);
  return { throttleTimeMs, topics };
}
