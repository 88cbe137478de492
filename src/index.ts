/**
 * ekaf's public API: the producer (`createProducer`) and its types, the errors it raises, and
 * the protocol layer it is built on for those who need to speak Kafka directly.
 */
export {
  createProducer,
  Producer,
  type DeliveryCallback,
  type DeliveryReport,
  type ProduceOptions,
  type ProduceRecord,
  type ProducerMetrics,
} from './producer.js';
export { Transaction, type SendOffsetsOptions, type TransactionOffset } from './transaction.js';
export {
  PRODUCER_DEFAULTS,
  TOPIC_DEFAULTS,
  type Acks,
  type Logger,
  type ProducerOptions,
  type TopicSettings,
} from './config.js';
export type { ProducerEvents, PartitionRef } from './events.js';
export type { ActorSnapshot, ActorSnapshotOf } from './runtime/runtime.js';
export { actorNamed, ofKind } from './runtime/introspection.js';
export {
  InvalidPartitionError,
  murmur2,
  PARTITIONER_NAMES,
  type PartitionerFunction,
  type PartitionerName,
} from './runtime/partitioners.js';
export * from './errors.js';
export {
  accelerators,
  type Accelerators,
  type Implementation,
  type ImplementationChoice,
} from './protocol/compression.js';

// The protocol layer.
export { Connection, CONNECTION_DEFAULTS, type ConnectionOptions } from './network/connection.js';
export { negotiateVersions, type HandshakeResult } from './network/handshake.js';
export { ApiKey, type Api } from './protocol/api.js';
export { ApiVersions } from './protocol/apis/api-versions.js';
export { Metadata } from './protocol/apis/metadata.js';
export { Produce } from './protocol/apis/produce.js';
export { ErrorCode, KAFKA_ERRORS, isRetriable, kafkaError } from './protocol/error-codes.js';
export {
  RecordBatchBuilder,
  CompressionCodec,
  NO_PRODUCER_IDENTITY,
  type EncodableRecord,
} from './protocol/record-batch.js';
export type { EncodedBatch } from './runtime/sealed-batch.js';
export { TimestampRuns } from './runtime/timestamp-runs.js';
export { SUPPORTED_VERSIONS, pickVersion } from './protocol/versions.js';
export { brokerConnectionLogic } from './runtime/broker-connection.js';
export { EKAF_VERSION } from './version.js';
