/**
 * ekaf's public API. The producer facade (`createProducer`) arrives with the runtime; what is
 * exported today is the protocol layer it is built on.
 */
export * from './errors.js';
export { Connection, CONNECTION_DEFAULTS, type ConnectionOptions } from './network/connection.js';
export { negotiateVersions, type HandshakeResult } from './network/handshake.js';
export { ApiKey, type Api } from './protocol/api.js';
export { ApiVersions } from './protocol/apis/api-versions.js';
export { Metadata } from './protocol/apis/metadata.js';
export { Produce } from './protocol/apis/produce.js';
export { ErrorCode, KAFKA_ERRORS, isRetriable, kafkaError } from './protocol/error-codes.js';
export { RecordBatchBuilder, CompressionCodec, type EncodableRecord } from './protocol/record-batch.js';
export { SUPPORTED_VERSIONS, pickVersion } from './protocol/versions.js';
export { brokerConnectionLogic } from './runtime/broker-connection.js';
export { EKAF_VERSION } from './version.js';
