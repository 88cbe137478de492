import Long from 'long';
import { ApiKey, isFlexible, type Api } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

/**
 * InitProducerId (key 22), v0–v6; flexible from v2. Gives an idempotent or transactional producer
 * its producer id and epoch. From v3 (KIP-360) a producer that already has an id sends it, so that
 * the broker bumps its epoch instead of handing out a new id. v4 and v5 only add error codes
 * (PRODUCER_FENCED, TRANSACTION_ABORTABLE). v6 (KIP-939, two-phase commit) adds Enable2Pc and
 * KeepPreparedTxn, which ekaf always sends as false, and answers with the ongoing transaction's
 * producer id and epoch; Kafka 4.4 still marks it unstable (`latestVersionUnstable`), so brokers
 * advertise it only with unstable.api.versions.enable and ekaf does not claim it (versions.ts).
 */
export interface InitProducerIdRequest {
  /** Null for an idempotent (not transactional) producer. */
  transactionalId: string | null;
  transactionTimeoutMs: number;
  /** v3+: the current producer id, or -1 for a new one. */
  producerId: Long | number;
  /** v3+: the current epoch, or -1. */
  producerEpoch: number;
}

export interface InitProducerIdResponse {
  throttleTimeMs: number;
  errorCode: number;
  producerId: Long;
  producerEpoch: number;
  /** v6+: the prepared transaction kept by KeepPreparedTxn (never asked by ekaf); -1 otherwise. */
  ongoingTxnProducerId: Long;
  /** v6+: its epoch; -1 otherwise. */
  ongoingTxnProducerEpoch: number;
}

export const InitProducerId: Api<InitProducerIdRequest, InitProducerIdResponse> = {
  key: ApiKey.InitProducerId,
  name: 'InitProducerId',
  flexibleFrom: 2,

  encodeRequest(writer: Writer, version: number, request: InitProducerIdRequest): void {
    const flexible = isFlexible(InitProducerId, version);
    writer.flexNullableString(flexible, request.transactionalId).int32(request.transactionTimeoutMs);
    if (version >= 3) writer.int64(request.producerId).int16(request.producerEpoch);
    if (version >= 6) writer.bool(false).bool(false); // Enable2Pc, KeepPreparedTxn
    writer.flexTaggedFields(flexible);
  },

  decodeResponse(reader: Reader, version: number): InitProducerIdResponse {
    const flexible = isFlexible(InitProducerId, version);
    const response = {
      throttleTimeMs: reader.int32(),
      errorCode: reader.int16(),
      producerId: reader.int64(),
      producerEpoch: reader.int16(),
      ongoingTxnProducerId: version >= 6 ? reader.int64() : Long.NEG_ONE,
      ongoingTxnProducerEpoch: version >= 6 ? reader.int16() : -1,
    };
    reader.flexTaggedFields(flexible);
    return response;
  },
};
