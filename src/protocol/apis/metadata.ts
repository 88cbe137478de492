import { ApiKey, isFlexible, type Api } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

/** Metadata (key 3), v1–v12; flexible from v9. */
export interface MetadataRequest {
  /** Topic names to describe; `null` asks for every topic. */
  topics: string[] | null;
  /** v4+: let the broker auto-create requested topics if it is configured to. */
  allowAutoTopicCreation: boolean;
}

export interface BrokerMetadata {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionMetadata {
  errorCode: number;
  partition: number;
  /** -1 when the partition has no leader (election in progress, all replicas down). */
  leaderId: number;
  /** v7+; -1 when the broker does not report it. */
  leaderEpoch: number;
  replicaNodes: number[];
  isrNodes: number[];
  offlineReplicas: number[];
}

export interface TopicMetadata {
  errorCode: number;
  /** Null only in v12+ responses to requests by topic id, which ekaf does not send. */
  name: string | null;
  /** v10+: 16 bytes; all zero when unknown. */
  topicId: Buffer | null;
  isInternal: boolean;
  partitions: PartitionMetadata[];
}

export interface MetadataResponse {
  throttleTimeMs: number;
  brokers: BrokerMetadata[];
  clusterId: string | null;
  /** -1 when unknown. */
  controllerId: number;
  topics: TopicMetadata[];
}

const ZERO_UUID = Buffer.alloc(16);

export const Metadata: Api<MetadataRequest, MetadataResponse> = {
  key: ApiKey.Metadata,
  name: 'Metadata',
  flexibleFrom: 9,

  encodeRequest(writer: Writer, version: number, request: MetadataRequest): void {
    const flexible = isFlexible(Metadata, version);
    writer.flexArray(flexible, request.topics, (w, name) => {
      if (version >= 10) w.uuid(ZERO_UUID); // we always ask by name
      w.flexString(flexible, name);
      w.flexTaggedFields(flexible);
    });
    if (version >= 4) writer.bool(request.allowAutoTopicCreation);
    if (version >= 8) {
      if (version <= 10) writer.bool(false); // IncludeClusterAuthorizedOperations
      writer.bool(false); // IncludeTopicAuthorizedOperations
    }
    writer.flexTaggedFields(flexible);
  },

  decodeResponse(reader: Reader, version: number): MetadataResponse {
    const flexible = isFlexible(Metadata, version);
    const throttleTimeMs = version >= 3 ? reader.int32() : 0;
    const brokers = reader.flexArray(flexible, (r): BrokerMetadata => {
      const broker = {
        nodeId: r.int32(),
        host: r.flexString(flexible),
        port: r.int32(),
        rack: r.flexNullableString(flexible),
      };
      r.flexTaggedFields(flexible);
      return broker;
    });
    const clusterId = version >= 2 ? reader.flexNullableString(flexible) : null;
    const controllerId = reader.int32();
    const topics = reader.flexArray(flexible, (r): TopicMetadata => {
      const errorCode = r.int16();
      const name = version >= 12 ? r.flexNullableString(flexible) : r.flexString(flexible);
      const topicId = version >= 10 ? Buffer.from(r.uuid()) : null;
      const isInternal = r.bool();
      const partitions = r.flexArray(flexible, (p): PartitionMetadata => {
        const partition = {
          errorCode: p.int16(),
          partition: p.int32(),
          leaderId: p.int32(),
          leaderEpoch: version >= 7 ? p.int32() : -1,
          replicaNodes: p.flexArray(flexible, (n) => n.int32()),
          isrNodes: p.flexArray(flexible, (n) => n.int32()),
          offlineReplicas: version >= 5 ? p.flexArray(flexible, (n) => n.int32()) : [],
        };
        p.flexTaggedFields(flexible);
        return partition;
      });
      if (version >= 8) r.int32(); // TopicAuthorizedOperations: not requested
      r.flexTaggedFields(flexible);
      return { errorCode, name, topicId, isInternal, partitions };
    });
    if (version >= 8 && version <= 10) reader.int32(); // ClusterAuthorizedOperations
    reader.flexTaggedFields(flexible);
    return { throttleTimeMs, brokers, clusterId, controllerId, topics };
  },
};
