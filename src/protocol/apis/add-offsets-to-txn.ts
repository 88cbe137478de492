import { ApiKey, isFlexible, type Api } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { writeTxnProducer, type TxnProducer } from './txn-common.js';

/**
 * AddOffsetsToTxn (key 25), v0–v4; flexible from v3. Adds a consumer group's offsets to a
 * transaction, before TxnOffsetCommit sends them to the group coordinator. With transactions v2
 * (KIP-890) TxnOffsetCommit v5 does this itself and this is not sent.
 */
export interface AddOffsetsToTxnRequest extends TxnProducer {
  groupId: string;
}

export interface AddOffsetsToTxnResponse {
  throttleTimeMs: number;
  errorCode: number;
}

export const AddOffsetsToTxn: Api<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse> = {
  key: ApiKey.AddOffsetsToTxn,
  name: 'AddOffsetsToTxn',
  flexibleFrom: 3,

  encodeRequest(writer: Writer, version: number, request: AddOffsetsToTxnRequest): void {
    const flexible = isFlexible(AddOffsetsToTxn, version);
    writeTxnProducer(writer, flexible, request)
      .flexString(flexible, request.groupId)
      .flexTaggedFields(flexible);
  },

  decodeResponse(reader: Reader, version: number): AddOffsetsToTxnResponse {
    const flexible = isFlexible(AddOffsetsToTxn, version);
    const response = { throttleTimeMs: reader.int32(), errorCode: reader.int16() };
    reader.flexTaggedFields(flexible);
    return response;
  },
};
