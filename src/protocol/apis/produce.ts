import type Long from 'long';
import { ApiKey, isFlexible, type Api } from '../api.js';
import { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

/**
 * Produce (key 0), v3–v12; flexible from v9. v3 is the first version that carries RecordBatch v2,
 * the only record format ekaf writes (Kafka 4 removed v0–v2). v11 and v12 are v10 on the wire:
 * v11 may answer TRANSACTION_ABORTABLE, and v12 tells the broker that the client speaks
 * transactions v2 (KIP-890 part 2), where a transactional Produce adds its partitions to the
 * transaction itself; a transactional producer below transaction.version 2 sends v11 at most
 * (`TRANSACTION_V1_MAX_VERSIONS`). v13 names topics by id (KIP-516) and is not supported.
 */
export interface ProduceRequest {
  transactionalId: string | null;
  /** -1 (all in-sync replicas), 0 (no response at all) or 1 (leader only). */
  acks: -1 | 0 | 1;
  timeoutMs: number;
  topics: ProduceTopicData[];
}

export interface ProduceTopicData {
  name: string;
  partitions: { partition: number; records: Uint8Array | null }[];
}

export interface ProduceRecordError {
  /** Index of the offending record within its batch. */
  batchIndex: number;
  message: string | null;
}

export interface ProducePartitionResponse {
  partition: number;
  errorCode: number;
  baseOffset: Long;
  /** -1 unless the topic uses LogAppendTime. */
  logAppendTimeMs: Long;
  /** v5+ */
  logStartOffset: Long | null;
  /** v8+: the records that made the broker drop the whole batch. */
  recordErrors: ProduceRecordError[];
  errorMessage: string | null;
  /** v10+ (KIP-951): where the partition's leadership went, with NOT_LEADER_OR_FOLLOWER. */
  currentLeader: { leaderId: number; leaderEpoch: number } | null;
}

export interface ProduceResponse {
  topics: { name: string; partitions: ProducePartitionResponse[] }[];
  throttleTimeMs: number;
  /** v10+: endpoints of the leaders named in `currentLeader`. */
  nodeEndpoints: { nodeId: number; host: string; port: number; rack: string | null }[];
}

const TAG_CURRENT_LEADER = 0;
const TAG_NODE_ENDPOINTS = 0;

export const Produce: Api<ProduceRequest, ProduceResponse> = {
  key: ApiKey.Produce,
  name: 'Produce',
  flexibleFrom: 9,

  encodeRequest(writer: Writer, version: number, request: ProduceRequest): void {
    const flexible = isFlexible(Produce, version);
    writer
      .flexNullableString(flexible, request.transactionalId)
      .int16(request.acks)
      .int32(request.timeoutMs)
      .flexArray(flexible, request.topics, (w, topic) => {
        w.flexString(flexible, topic.name).flexArray(flexible, topic.partitions, (pw, partition) => {
          pw.int32(partition.partition)
            .flexNullableBytesShared(flexible, partition.records)
            .flexTaggedFields(flexible);
        });
        w.flexTaggedFields(flexible);
      })
      .flexTaggedFields(flexible);
  },

  decodeResponse(reader: Reader, version: number): ProduceResponse {
    const flexible = isFlexible(Produce, version);
    const topics = reader.flexArray(flexible, (r) => {
      const name = r.flexString(flexible);
      const partitions = r.flexArray(flexible, (p): ProducePartitionResponse => {
        const partition = p.int32();
        const errorCode = p.int16();
        const baseOffset = p.int64();
        const logAppendTimeMs = p.int64(); // v2+, and we never go below v3
        const logStartOffset = version >= 5 ? p.int64() : null;
        const recordErrors =
          version >= 8
            ? p.flexArray(flexible, (e): ProduceRecordError => {
                const recordError = { batchIndex: e.int32(), message: e.flexNullableString(flexible) };
                e.flexTaggedFields(flexible);
                return recordError;
              })
            : [];
        const errorMessage = version >= 8 ? p.flexNullableString(flexible) : null;
        const tagged = p.flexTaggedFields(flexible);
        const leaderBytes = tagged?.get(TAG_CURRENT_LEADER);
        let currentLeader = null;
        if (leaderBytes !== undefined) {
          const l = new Reader(leaderBytes);
          currentLeader = { leaderId: l.int32(), leaderEpoch: l.int32() };
        }
        return {
          partition,
          errorCode,
          baseOffset,
          logAppendTimeMs,
          logStartOffset,
          recordErrors,
          errorMessage,
          currentLeader,
        };
      });
      r.flexTaggedFields(flexible);
      return { name, partitions };
    });
    const throttleTimeMs = reader.int32();
    const tagged = reader.flexTaggedFields(flexible);
    const endpointBytes = tagged?.get(TAG_NODE_ENDPOINTS);
    let nodeEndpoints: ProduceResponse['nodeEndpoints'] = [];
    if (endpointBytes !== undefined) {
      nodeEndpoints = new Reader(endpointBytes).compactArray((e) => {
        const endpoint = {
          nodeId: e.int32(),
          host: e.compactString(),
          port: e.int32(),
          rack: e.compactNullableString(),
        };
        e.taggedFields();
        return endpoint;
      });
    }
    return { topics, throttleTimeMs, nodeEndpoints };
  },
};
