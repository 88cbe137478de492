import Long from 'long';
import { ApiKey, isFlexible, type Api } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { writeTxnProducer, type TxnProducer } from './txn-common.js';

/**
 * EndTxn (key 26), v0–v5; flexible from v3. Commits or aborts a transaction. v5 is for
 * transactions v2 (KIP-890 part 2): the coordinator bumps the epoch at every transaction's end
 * and answers with the producer id and epoch to use next. The Java client sends v4 at most when
 * the cluster's transaction.version is below 2 (`TRANSACTION_V1_MAX_VERSIONS`).
 */
export interface EndTxnRequest extends TxnProducer {
  /** True to commit, false to abort. */
  committed: boolean;
}

export interface EndTxnResponse {
  throttleTimeMs: number;
  errorCode: number;
  /** v5+: the producer id for the next transaction; -1 before v5. */
  producerId: Long;
  /** v5+: the (bumped) epoch for the next transaction; -1 before v5. */
  producerEpoch: number;
}

export const EndTxn: Api<EndTxnRequest, EndTxnResponse> = {
  key: ApiKey.EndTxn,
  name: 'EndTxn',
  flexibleFrom: 3,

  encodeRequest(writer: Writer, version: number, request: EndTxnRequest): void {
    const flexible = isFlexible(EndTxn, version);
    writeTxnProducer(writer, flexible, request).bool(request.committed).flexTaggedFields(flexible);
  },

  decodeResponse(reader: Reader, version: number): EndTxnResponse {
    const flexible = isFlexible(EndTxn, version);
    const response = {
      throttleTimeMs: reader.int32(),
      errorCode: reader.int16(),
      producerId: version >= 5 ? reader.int64() : Long.NEG_ONE,
      producerEpoch: version >= 5 ? reader.int16() : -1,
    };
    reader.flexTaggedFields(flexible);
    return response;
  },
};
