import { EncodeError } from '../../errors.js';
import { ApiKey, isFlexible, type Api } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import {
  readTopicPartitionErrorsResponse,
  writeTxnProducer,
  type TopicPartitionErrorsResponse,
  type TxnProducer,
} from './txn-common.js';

/**
 * AddPartitionsToTxn (key 24), v0–v3; flexible from v3. Tells the transaction coordinator which
 * partitions a transaction is about to write to. v4+ batches several transactions and is for
 * brokers only (a broker asks another to verify a transaction; it needs CLUSTER_ACTION), so the
 * Java client sends v3 at most (AddPartitionsToTxnRequest.Builder.forClient), and so does ekaf.
 * With transactions v2 (KIP-890) Produce v12 adds the partitions itself and this is not sent.
 */
export interface AddPartitionsToTxnRequest extends TxnProducer {
  topics: { name: string; partitions: number[] }[];
}

export type AddPartitionsToTxnResponse = TopicPartitionErrorsResponse;

const LAST_CLIENT_VERSION = 3;

export const AddPartitionsToTxn: Api<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse> = {
  key: ApiKey.AddPartitionsToTxn,
  name: 'AddPartitionsToTxn',
  flexibleFrom: 3,

  encodeRequest(writer: Writer, version: number, request: AddPartitionsToTxnRequest): void {
    if (version > LAST_CLIENT_VERSION) {
      throw new EncodeError(
        `AddPartitionsToTxn v${version} is for brokers; clients send v0-v${LAST_CLIENT_VERSION}`,
      );
    }
    const flexible = isFlexible(AddPartitionsToTxn, version);
    writeTxnProducer(writer, flexible, request)
      .flexArray(flexible, request.topics, (w, topic) => {
        w.flexString(flexible, topic.name)
          .flexArray(flexible, topic.partitions, (pw, partition) => pw.int32(partition))
          .flexTaggedFields(flexible);
      })
      .flexTaggedFields(flexible);
  },

  decodeResponse(reader: Reader, version: number): AddPartitionsToTxnResponse {
    return readTopicPartitionErrorsResponse(reader, isFlexible(AddPartitionsToTxn, version));
  },
};
