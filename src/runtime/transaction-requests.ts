import type Long from 'long';
import {
  TransactionFatalError,
  KafkaProtocolError,
  type EkafError,
  TransactionAbortableError,
} from '../errors.js';
import { ApiKey } from '../protocol/api.js';
import { AddOffsetsToTxn } from '../protocol/apis/add-offsets-to-txn.js';
import { AddPartitionsToTxn } from '../protocol/apis/add-partitions-to-txn.js';
import { EndTxn } from '../protocol/apis/end-txn.js';
import { CoordinatorType } from '../protocol/apis/find-coordinator.js';
import { InitProducerId } from '../protocol/apis/init-producer-id.js';
import { TxnOffsetCommit } from '../protocol/apis/txn-offset-commit.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { TRANSACTION_V1_MAX_VERSIONS } from '../protocol/versions.js';
import type {
  TransactionProtocol,
  TransactionStamp,
  TransactionStep,
} from '../../machines/transaction.machine.js';
import type { BrokerSession } from './broker-sessions.js';
import type { Answer, CoordinatorRequests, Verdict } from './coordinator-requests.js';
import type { SendOffsetsOptions, TransactionOffset } from './transaction-manager.js';

/**
 * The transaction's requests to its coordinators, one method each (InitProducerId, EndTxn,
 * AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit), with the verdict each gives the answers
 * the common rules (src/runtime/coordinator-requests.ts) would judge otherwise, as the Java
 * producer's TransactionManager does. The versions follow the protocol the coordinator speaks:
 * a transactions v1 producer never sends Produce v12, EndTxn v5 or TxnOffsetCommit v5, which a
 * broker reads as transactions v2. No state but that protocol: the TransactionManager decides.
 */
export class TransactionRequests {
  /** The protocol the transaction coordinator speaks, learned by each InitProducerId. */
  protocol: TransactionProtocol = 'v1';
  private readonly txnKey;

  constructor(
    private readonly transactionalId: string,
    private readonly transactionTimeoutMs: number,
    private readonly coordinator: CoordinatorRequests,
  ) {
    this.txnKey = { keyType: CoordinatorType.Transaction, key: transactionalId };
  }

  /** Which Produce version the senders may use: v12 announces transactions v2 (KIP-890). */
  get maxProduceVersion(): number {
    return this.protocol === 'v2' ? Infinity : (TRANSACTION_V1_MAX_VERSIONS[ApiKey.Produce] ?? Infinity);
  }

  close(): void {
    this.coordinator.close();
  }

  /**
   * FindCoordinator + InitProducerId. `current`: the id and epoch held (after an abort that needs
   * a new epoch, KIP-360); null for the first.
   */
  async initProducerId(current: TransactionStamp | null): Promise<TransactionStep> {
    const { transactionalId, transactionTimeoutMs } = this;
    let protocol: TransactionProtocol = 'v1';
    const stamp = await this.coordinator.run(
      'InitProducerId',
      this.txnKey,
      async (session): Promise<Answer<TransactionStamp>> => {
        const version = requireApi(session, ApiKey.InitProducerId, 'InitProducerId');
        if (current !== null && version < 3) {
          throw new TransactionFatalError(
            'a new epoch is needed, and the broker has no InitProducerId v3+ (Kafka 2.5+) to give one',
          );
        }
        protocol = protocolOf(session);
        const response = await session.connection.send(InitProducerId, version, {
          transactionalId,
          transactionTimeoutMs,
          producerId: current?.producerId ?? -1,
          producerEpoch: current?.producerEpoch ?? -1,
        });
        return { errorCode: response.errorCode, value: stampOf(response.producerId, response.producerEpoch) };
      },
      judgeInit,
    );
    this.protocol = protocol;
    return { stamp, protocol };
  }

  /** EndTxn; transactions v2 answer with the id and epoch of the next transaction (else null). */
  endTxn(stamp: TransactionStamp, commit: boolean): Promise<TransactionStamp | null> {
    return this.coordinator.run(
      commit ? 'EndTxn(commit)' : 'EndTxn(abort)',
      this.txnKey,
      async (session): Promise<Answer<TransactionStamp | null>> => {
        // v5 is transactions v2 (the coordinator bumps the epoch): only when that is what we speak.
        const version = this.capped(ApiKey.EndTxn, requireApi(session, ApiKey.EndTxn, 'EndTxn'));
        const response = await session.connection.send(EndTxn, version, {
          transactionalId: this.transactionalId,
          producerId: stamp.producerId,
          producerEpoch: stamp.producerEpoch,
          committed: commit,
        });
        const renewed =
          response.producerId.toNumber() >= 0 && response.producerEpoch >= 0
            ? stampOf(response.producerId, response.producerEpoch)
            : null;
        return { errorCode: response.errorCode, value: renewed };
      },
      judgeEndTxn,
    );
  }

  /** AddPartitionsToTxn (transactions v1): `topics` maps each topic to its partitions. */
  addPartitions(stamp: TransactionStamp, topics: ReadonlyMap<string, number[]>): Promise<null> {
    return this.coordinator.run(
      'AddPartitionsToTxn',
      this.txnKey,
      async (session): Promise<Answer<null>> => {
        const version = requireApi(session, ApiKey.AddPartitionsToTxn, 'AddPartitionsToTxn');
        const response = await session.connection.send(AddPartitionsToTxn, version, {
          transactionalId: this.transactionalId,
          producerId: stamp.producerId,
          producerEpoch: stamp.producerEpoch,
          topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
        });
        return { errorCode: worstPartitionError(response), value: null };
      },
      judgeAddPartitions,
    );
  }

  /** AddOffsetsToTxn (transactions v1): the group's offsets partition joins the transaction. */
  async addOffsets(stamp: TransactionStamp, groupId: string): Promise<void> {
    await this.coordinator.run(
      'AddOffsetsToTxn',
      this.txnKey,
      async (session): Promise<Answer<null>> => {
        const version = requireApi(session, ApiKey.AddOffsetsToTxn, 'AddOffsetsToTxn');
        const response = await session.connection.send(AddOffsetsToTxn, version, {
          transactionalId: this.transactionalId,
          producerId: stamp.producerId,
          producerEpoch: stamp.producerEpoch,
          groupId,
        });
        return { errorCode: response.errorCode, value: null };
      },
      judgeAddOffsets,
    );
  }

  /** TxnOffsetCommit, to the group's coordinator. */
  async txnOffsetCommit(stamp: TransactionStamp, options: SendOffsetsOptions): Promise<void> {
    const byTopic = new Map<string, TransactionOffset[]>();
    for (const offset of options.offsets) {
      const list = byTopic.get(offset.topic) ?? [];
      list.push(offset);
      byTopic.set(offset.topic, list);
    }
    await this.coordinator.run(
      'TxnOffsetCommit',
      { keyType: CoordinatorType.Group, key: options.groupId },
      async (session): Promise<Answer<null>> => {
        // v5 adds the offsets partition to the transaction itself (transactions v2).
        const version = this.capped(
          ApiKey.TxnOffsetCommit,
          requireApi(session, ApiKey.TxnOffsetCommit, 'TxnOffsetCommit'),
        );
        const response = await session.connection.send(TxnOffsetCommit, version, {
          transactionalId: this.transactionalId,
          groupId: options.groupId,
          producerId: stamp.producerId,
          producerEpoch: stamp.producerEpoch,
          generationId: options.generationId ?? -1,
          memberId: options.memberId ?? '',
          groupInstanceId: options.groupInstanceId ?? null,
          topics: [...byTopic].map(([name, offsets]) => ({
            name,
            partitions: offsets.map((o) => ({
              partition: o.partition,
              committedOffset: o.offset,
              committedLeaderEpoch: o.leaderEpoch ?? -1,
              committedMetadata: o.metadata ?? null,
            })),
          })),
        });
        return { errorCode: worstPartitionError(response), value: null };
      },
      judgeOffsetCommit,
    );
  }

  /** `version`, or at most the last version before transactions v2 while the coordinator speaks v1. */
  private capped(key: ApiKey, version: number): number {
    return this.protocol === 'v2' ? version : Math.min(version, TRANSACTION_V1_MAX_VERSIONS[key] ?? version);
  }
}

function stampOf(producerId: Long, producerEpoch: number): TransactionStamp {
  return { producerId: producerId.toNumber(), producerEpoch };
}

/** Transactions v2 when the broker finalized transaction.version 2 and speaks the versions it needs. */
function protocolOf(session: BrokerSession): TransactionProtocol {
  const level = session.features.get('transaction.version') ?? 0;
  const endTxn = session.versions.get(ApiKey.EndTxn) ?? -1;
  const produce = session.versions.get(ApiKey.Produce) ?? -1;
  return level >= 2 && endTxn >= 5 && produce >= 12 ? 'v2' : 'v1';
}

function requireApi(session: BrokerSession, key: number, name: string): number {
  const version = session.versions.get(key);
  if (version === undefined) {
    throw new TransactionFatalError(
      `broker ${session.address.host}:${session.address.port} has no ${name} (transactions need Kafka 0.11+)`,
    );
  }
  return version;
}

/** The code that decides a per-partition answer (AddPartitionsToTxn, TxnOffsetCommit): the first real error. */
function worstPartitionError(response: { topics: { partitions: { errorCode: number }[] }[] }): number {
  let worst: number = ErrorCode.NONE;
  for (const topic of response.topics) {
    for (const p of topic.partitions) {
      // OPERATION_NOT_ATTEMPTED: another partition's error stopped the request; that one decides.
      if (p.errorCode === ErrorCode.NONE || p.errorCode === ErrorCode.OPERATION_NOT_ATTEMPTED) continue;
      if (worst === ErrorCode.NONE) worst = p.errorCode;
    }
  }
  return worst;
}

/** AddPartitionsToTxn: an unknown topic or a partition being moved is retried (Java: retriable). */
function judgeAddPartitions(code: number): Verdict | undefined {
  if (code === ErrorCode.TOPIC_AUTHORIZATION_FAILED || code === ErrorCode.UNKNOWN_PRODUCER_ID)
    return 'abortable';
  // The previous transaction's markers are being written: done within milliseconds (Java: 20 ms).
  if (code === ErrorCode.CONCURRENT_TRANSACTIONS) return 'retry-soon';
  if (code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return 'retry';
  return undefined;
}

/** AddOffsetsToTxn: the group not authorised, or our producer state lost: abortable (Java). */
function judgeAddOffsets(code: number): Verdict | undefined {
  return code === ErrorCode.GROUP_AUTHORIZATION_FAILED || code === ErrorCode.UNKNOWN_PRODUCER_ID
    ? 'abortable'
    : undefined;
}

/** EndTxn: the coordinator lost our producer state: abortable, with a new epoch (Java). */
function judgeEndTxn(code: number): Verdict | undefined {
  return code === ErrorCode.UNKNOWN_PRODUCER_ID ? 'abortable' : undefined;
}

/** InitProducerId: not authorised is the broker's refusal, to try again once the ACL is fixed. */
function judgeInit(code: number): Verdict | undefined {
  if (
    code === ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED ||
    code === ErrorCode.CLUSTER_AUTHORIZATION_FAILED
  )
    return 'refused';
  return code === ErrorCode.INVALID_TRANSACTION_TIMEOUT ? 'fatal' : undefined;
}

/** An abortable failure whose abort must end with a new epoch: the broker lost our producer state. */
export function needsNewEpoch(error: EkafError): boolean {
  const cause = error instanceof TransactionAbortableError ? error.cause : error;
  return cause instanceof KafkaProtocolError && cause.errorCode === ErrorCode.UNKNOWN_PRODUCER_ID;
}

/** TxnOffsetCommit: a consumer group that moved on (rebalance) makes the transaction abortable. */
function judgeOffsetCommit(code: number): Verdict | undefined {
  switch (code) {
    case ErrorCode.UNKNOWN_MEMBER_ID:
    case ErrorCode.ILLEGAL_GENERATION:
    case ErrorCode.FENCED_INSTANCE_ID:
    case ErrorCode.GROUP_AUTHORIZATION_FAILED:
    case ErrorCode.TOPIC_AUTHORIZATION_FAILED:
    case ErrorCode.GROUP_ID_NOT_FOUND:
    case ErrorCode.STALE_MEMBER_EPOCH:
      return 'abortable';
    case ErrorCode.UNKNOWN_PRODUCER_ID:
    case ErrorCode.INVALID_PRODUCER_ID_MAPPING:
    case ErrorCode.INVALID_TXN_STATE:
      // Java: "unexpected error" in TxnOffsetCommitResponse, fatal.
      return 'fatal';
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.UNSTABLE_OFFSET_COMMIT:
      return 'retry';
    default:
      return undefined;
  }
}

/** Produce answers after which a transactional producer cannot go on (Java's maybeTransitionToErrorState). */
export const FATAL_PRODUCE_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  ErrorCode.INVALID_PRODUCER_ID_MAPPING,
  ErrorCode.UNSUPPORTED_VERSION,
]);
