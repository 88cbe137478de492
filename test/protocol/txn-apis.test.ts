import { describe, expect, it } from 'vitest';
import { AddOffsetsToTxn } from '../../src/protocol/apis/add-offsets-to-txn.js';
import { AddPartitionsToTxn } from '../../src/protocol/apis/add-partitions-to-txn.js';
import { ApiVersions } from '../../src/protocol/apis/api-versions.js';
import { EndTxn } from '../../src/protocol/apis/end-txn.js';
import {
  coordinatorFor,
  CoordinatorType,
  FindCoordinator,
} from '../../src/protocol/apis/find-coordinator.js';
import { InitProducerId } from '../../src/protocol/apis/init-producer-id.js';
import { Produce } from '../../src/protocol/apis/produce.js';
import { TxnOffsetCommit, type TxnOffsetCommitRequest } from '../../src/protocol/apis/txn-offset-commit.js';
import { decode, encoded, h } from '../support/golden.js';

// Golden bytes for the transaction APIs, from the message definitions of Kafka 4.4
// (clients/src/main/resources/common/message/*.json), checked against the Java client's own
// serialisation (kafka-clients 4.4.0). Strings: "tx" 7478, "g" 67, "h" 68, "t" 74, "m" 6d, "x" 78.

/** Transactional id "tx", producer id 7, epoch 2. */
const producer = { transactionalId: 'tx', producerId: 7, producerEpoch: 2 };
const PRODUCER = '0002 7478 | 0000000000000007 | 0002';
const PRODUCER_FLEX = '03 7478 | 0000000000000007 | 0002';

describe('FindCoordinator', () => {
  const encode = encoded.bind(null, FindCoordinator);
  const tx = { keyType: CoordinatorType.Transaction, keys: ['tx'] };

  it('encodes each request shape (golden)', () => {
    expect(encode(0, { keyType: CoordinatorType.Group, keys: ['g'] })).toBe(h('0001 67  # key "g"'));
    for (const version of [1, 2]) {
      expect(encode(version, tx)).toBe(h('0002 7478 | 01  # key "tx", key type 1 (transaction)'));
    }
    expect(encode(3, tx)).toBe(h('03 7478 | 01 | 00  # compact key, key type, tagged fields'));
    for (const version of [4, 5, 6]) {
      expect(encode(version, tx)).toBe(h('01 | 02 03 7478 | 00  # key type, compact array ["tx"], tagged'));
    }
    expect(encode(4, { keyType: CoordinatorType.Group, keys: ['a', 'b'] })).toBe(
      h('00 | 03 02 61 02 62 | 00  # key type 0 (group), ["a", "b"]'),
    );
  });

  it('refuses what a version cannot express', () => {
    expect(() => encode(3, { keyType: CoordinatorType.Group, keys: ['a', 'b'] })).toThrow(
      'FindCoordinator v3 takes exactly one key (batches need v4+), got 2',
    );
    expect(() => encode(1, { keyType: CoordinatorType.Group, keys: [] })).toThrow(
      expect.objectContaining({ code: 'ERR_ENCODE' }),
    );
    expect(() => encode(0, tx)).toThrow('FindCoordinator v0 finds group coordinators only');
  });

  it('decodes v0: error, node, host, port', () => {
    const response = decode(
      (r) => FindCoordinator.decodeResponse(r, 0),
      '0000 | 00000001 | 0001 68 | 00002384  # node 1 "h":9092',
    );
    expect(response).toEqual({
      throttleTimeMs: 0,
      coordinators: [{ key: null, nodeId: 1, host: 'h', port: 9092, errorCode: 0, errorMessage: null }],
    });
  });

  it('decodes v1-v2: throttle time and error message', () => {
    for (const version of [1, 2]) {
      const response = decode(
        (r) => FindCoordinator.decodeResponse(r, version),
        `00000064               # throttle 100
         000f | 0002 6e6f       # COORDINATOR_NOT_AVAILABLE (15), "no"
         ffffffff | 0000 | ffffffff  # node -1, host "", port -1`,
      );
      expect(response).toEqual({
        throttleTimeMs: 100,
        coordinators: [{ key: null, nodeId: -1, host: '', port: -1, errorCode: 15, errorMessage: 'no' }],
      });
    }
  });

  it('decodes v3: flexible, one coordinator', () => {
    const response = decode(
      (r) => FindCoordinator.decodeResponse(r, 3),
      '00000000 | 0000 | 00 | 00000002 | 02 68 | 00002384 | 00  # no message (null), node 2 "h":9092, tagged',
    );
    expect(response.coordinators).toEqual([
      { key: null, nodeId: 2, host: 'h', port: 9092, errorCode: 0, errorMessage: null },
    ]);
    expect(coordinatorFor(response, 'tx')?.nodeId).toBe(2);
  });

  it('decodes v4-v6: one coordinator a key', () => {
    for (const version of [4, 5, 6]) {
      const response = decode(
        (r) => FindCoordinator.decodeResponse(r, version),
        `00000000                                            # throttle
         03                                                  # 2 coordinators
           03 7478 | 00000002 | 02 68 | 00002384 | 0000 | 00 | 00  # "tx": node 2 "h":9092, no error
           02 61 | ffffffff | 01 | ffffffff | 000f | 03 6e6f | 00  # "a": node -1 "" -1, COORDINATOR_NOT_AVAILABLE "no"
         00                                                  # tagged`,
      );
      expect(response.coordinators).toEqual([
        { key: 'tx', nodeId: 2, host: 'h', port: 9092, errorCode: 0, errorMessage: null },
        { key: 'a', nodeId: -1, host: '', port: -1, errorCode: 15, errorMessage: 'no' },
      ]);
      expect(coordinatorFor(response, 'a')?.errorCode).toBe(15);
      expect(coordinatorFor(response, 'b')).toBeUndefined();
    }
  });
});

describe('AddPartitionsToTxn', () => {
  const request = { ...producer, topics: [{ name: 't', partitions: [0, 3] }] };

  it("encodes v0-v2 and flexible v3 (golden); refuses the brokers' v4+", () => {
    for (const version of [0, 1, 2]) {
      expect(encoded(AddPartitionsToTxn, version, request)).toBe(
        h(`${PRODUCER} | 00000001 | 0001 74 | 00000002 00000000 00000003  # topic "t" partitions [0, 3]`),
      );
    }
    expect(encoded(AddPartitionsToTxn, 3, request)).toBe(
      h(`${PRODUCER_FLEX} | 02 | 02 74 | 03 00000000 00000003 | 00  # topic, tagged
         00                                                        # tagged`),
    );
    expect(() => encoded(AddPartitionsToTxn, 4, request)).toThrow(
      'AddPartitionsToTxn v4 is for brokers; clients send v0-v3',
    );
  });

  it('decodes v0-v2 and v3: an error code a partition', () => {
    const expected = {
      throttleTimeMs: 0,
      topics: [
        {
          name: 't',
          partitions: [
            { partition: 0, errorCode: 0 },
            { partition: 3, errorCode: 51 },
          ],
        },
      ],
    };
    for (const version of [0, 1, 2]) {
      const response = decode(
        (r) => AddPartitionsToTxn.decodeResponse(r, version),
        `00000000 | 00000001 | 0001 74     # throttle, 1 topic "t"
         00000002 | 00000000 0000 | 00000003 0033  # partition 0 ok, partition 3 CONCURRENT_TRANSACTIONS (51)`,
      );
      expect(response).toEqual(expected);
    }
    const v3 = decode(
      (r) => AddPartitionsToTxn.decodeResponse(r, 3),
      `00000000 | 02 | 02 74
         03 | 00000000 0000 00 | 00000003 0033 00  # partitions, each with tagged fields
         00                                        # topic tagged
       00                                          # tagged`,
    );
    expect(v3).toEqual(expected);
  });
});

describe('EndTxn', () => {
  const request = { ...producer, committed: true };

  it('encodes v0-v2 and v3-v5 (golden)', () => {
    for (const version of [0, 1, 2]) {
      expect(encoded(EndTxn, version, request)).toBe(h(`${PRODUCER} | 01  # commit`));
    }
    for (const version of [3, 4, 5]) {
      expect(encoded(EndTxn, version, { ...request, committed: false })).toBe(
        h(`${PRODUCER_FLEX} | 00 | 00  # abort, tagged`),
      );
    }
  });

  it('decodes v0-v4, and v5 with the producer id and epoch for the next transaction', () => {
    const v0 = decode((r) => EndTxn.decodeResponse(r, 0), '00000000 | 0033  # CONCURRENT_TRANSACTIONS');
    expect(v0.errorCode).toBe(51);
    expect(v0.producerId.toNumber()).toBe(-1);
    expect(v0.producerEpoch).toBe(-1);
    for (const version of [3, 4]) {
      const response = decode((r) => EndTxn.decodeResponse(r, version), '00000000 | 0000 | 00');
      expect(response.producerId.toNumber()).toBe(-1);
    }
    const v5 = decode(
      (r) => EndTxn.decodeResponse(r, 5),
      '00000000 | 0000 | 0000000000000007 | 0003 | 00  # producer id 7, epoch 3 (bumped)',
    );
    expect(v5.errorCode).toBe(0);
    expect(v5.producerId.toNumber()).toBe(7);
    expect(v5.producerEpoch).toBe(3);
  });
});

describe('AddOffsetsToTxn', () => {
  it('encodes v0-v2 and v3-v4 (golden)', () => {
    for (const version of [0, 1, 2]) {
      expect(encoded(AddOffsetsToTxn, version, { ...producer, groupId: 'g' })).toBe(
        h(`${PRODUCER} | 0001 67  # group "g"`),
      );
    }
    for (const version of [3, 4]) {
      expect(encoded(AddOffsetsToTxn, version, { ...producer, groupId: 'g' })).toBe(
        h(`${PRODUCER_FLEX} | 02 67 | 00`),
      );
    }
  });

  it('decodes v0-v2 and v3-v4', () => {
    expect(decode((r) => AddOffsetsToTxn.decodeResponse(r, 2), '00000000 | 001e')).toEqual({
      throttleTimeMs: 0,
      errorCode: 30, // GROUP_AUTHORIZATION_FAILED
    });
    expect(decode((r) => AddOffsetsToTxn.decodeResponse(r, 4), '00000064 | 0000 | 00')).toEqual({
      throttleTimeMs: 100,
      errorCode: 0,
    });
  });
});

describe('TxnOffsetCommit', () => {
  const request: TxnOffsetCommitRequest = {
    ...producer,
    groupId: 'g',
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    topics: [
      {
        name: 't',
        partitions: [{ partition: 1, committedOffset: 42, committedLeaderEpoch: 9, committedMetadata: 'x' }],
      },
    ],
  };
  const member = { ...request, generationId: 5, memberId: 'm' };

  it('encodes v0-v1, v2 (leader epoch) and v3-v5 (group metadata, flexible) (golden)', () => {
    for (const version of [0, 1]) {
      expect(encoded(TxnOffsetCommit, version, request)).toBe(
        h(`0002 7478 | 0001 67 | 0000000000000007 | 0002  # "tx", group "g", producer 7 epoch 2
           00000001 | 0001 74 | 00000001                 # topic "t", 1 partition
           00000001 | 000000000000002a | 0001 78         # partition 1, offset 42, metadata "x"`),
      );
    }
    expect(encoded(TxnOffsetCommit, 2, request)).toBe(
      h(`0002 7478 | 0001 67 | 0000000000000007 | 0002
         00000001 | 0001 74 | 00000001
         00000001 | 000000000000002a | 00000009 | 0001 78  # leader epoch 9 before the metadata`),
    );
    for (const version of [3, 4, 5]) {
      expect(encoded(TxnOffsetCommit, version, member)).toBe(
        h(`03 7478 | 02 67 | 0000000000000007 | 0002
           00000005 | 02 6d | 00                                # generation 5, member "m", no instance id
           02 | 02 74 | 02                                      # 1 topic "t", 1 partition
             00000001 | 000000000000002a | 00000009 | 02 78 | 00  # partition, tagged
           00                                                   # topic tagged
           00                                                   # tagged`),
      );
    }
    // A dynamic member: group instance id null; a static one: its id.
    expect(encoded(TxnOffsetCommit, 3, { ...member, groupInstanceId: 'i', topics: [] })).toBe(
      h('03 7478 | 02 67 | 0000000000000007 | 0002 | 00000005 | 02 6d | 02 69 | 01 | 00'),
    );
  });

  it('refuses group metadata before v3 (it could not fence a zombie) and topic ids (v6)', () => {
    expect(() => encoded(TxnOffsetCommit, 2, member)).toThrow(
      'TxnOffsetCommit v2 cannot carry the group metadata (v3+)',
    );
    expect(() => encoded(TxnOffsetCommit, 6, member)).toThrow(
      expect.objectContaining({ code: 'ERR_ENCODE' }),
    );
  });

  it('decodes v0-v2 and v3-v5: an error code a partition', () => {
    const v0 = decode(
      (r) => TxnOffsetCommit.decodeResponse(r, 0),
      '00000000 | 00000001 | 0001 74 | 00000001 | 00000001 0000',
    );
    expect(v0).toEqual({
      throttleTimeMs: 0,
      topics: [{ name: 't', partitions: [{ partition: 1, errorCode: 0 }] }],
    });
    for (const version of [3, 4, 5]) {
      const response = decode(
        (r) => TxnOffsetCommit.decodeResponse(r, version),
        '00000000 | 02 | 02 74 | 02 | 00000001 0019 00 | 00 | 00  # partition 1: UNKNOWN_MEMBER_ID (25)',
      );
      expect(response.topics[0]?.partitions).toEqual([{ partition: 1, errorCode: 25 }]);
    }
  });
});

describe('InitProducerId for transactions', () => {
  const request = { transactionalId: 'tx', transactionTimeoutMs: 60000, producerId: 7, producerEpoch: 2 };

  it('encodes v3-v5 alike, and v6 with Enable2Pc and KeepPreparedTxn false (golden)', () => {
    for (const version of [3, 4, 5]) {
      expect(encoded(InitProducerId, version, request)).toBe(
        h('03 7478 | 0000ea60 | 0000000000000007 | 0002 | 00  # "tx", timeout 60 s, producer 7 epoch 2'),
      );
    }
    expect(encoded(InitProducerId, 6, request)).toBe(
      h(
        '03 7478 | 0000ea60 | 0000000000000007 | 0002 | 00 | 00 | 00  # Enable2Pc false, KeepPreparedTxn false',
      ),
    );
  });

  it('decodes v5, and v6 with the ongoing transaction (-1 before v6)', () => {
    const v5 = decode(
      (r) => InitProducerId.decodeResponse(r, 5),
      '00000000 | 0078 | ffffffffffffffff | ffff | 00  # TRANSACTION_ABORTABLE (120)',
    );
    expect(v5.errorCode).toBe(120);
    expect(v5.ongoingTxnProducerId.toNumber()).toBe(-1);
    expect(v5.ongoingTxnProducerEpoch).toBe(-1);
    const v6 = decode(
      (r) => InitProducerId.decodeResponse(r, 6),
      `00000000 | 0000 | 000000000000002a | 0003  # producer 42 epoch 3
       0000000000000029 | 0009 | 00                # ongoing transaction: producer 41 epoch 9`,
    );
    expect(v6.producerId.toNumber()).toBe(42);
    expect(v6.ongoingTxnProducerId.toNumber()).toBe(41);
    expect(v6.ongoingTxnProducerEpoch).toBe(9);
  });
});

describe('ApiVersions finalized features (KIP-584)', () => {
  const TXN_VERSION = Buffer.from('transaction.version').toString('hex'); // 19 bytes: compact length 14

  it('decodes v3 tags 1 and 2: the epoch and the finalized features; skips the supported ones', () => {
    const response = decode(
      (r) => ApiVersions.decodeResponse(r, 3),
      `0000 | 02 | 001a 0000 0005 00        # EndTxn v0-v5
       00000000                            # throttle
       03                                  # 3 tagged fields
         00 1a | 02 14 ${TXN_VERSION} 0001 0002 00   # tag 0 (26 bytes): supported transaction.version 1-2
         01 08 | 000000000000012c                    # tag 1 (8 bytes): finalized features epoch 300
         02 22 | 03                                  # tag 2 (34 bytes): 2 finalized features
                 14 ${TXN_VERSION} 0002 0002 00      #   transaction.version, max level 2, min level 2
                 03 6d76 001b 001b 00                #   "mv", max level 27, min level 27`,
    );
    expect(response.apiKeys).toEqual([{ apiKey: 26, minVersion: 0, maxVersion: 5 }]);
    expect(response.finalizedFeaturesEpoch.toNumber()).toBe(300);
    expect(response.finalizedFeatures).toEqual([
      { name: 'transaction.version', maxVersionLevel: 2, minVersionLevel: 2 },
      { name: 'mv', maxVersionLevel: 27, minVersionLevel: 27 },
    ]);
  });

  it('reports none before v3 or without the tags', () => {
    for (const [version, hex] of [
      [2, '0000 | 00000000 | 00000000'],
      [3, '0000 | 01 | 00000000 | 00'],
    ] as const) {
      const response = decode((r) => ApiVersions.decodeResponse(r, version), hex);
      expect(response.finalizedFeaturesEpoch.toNumber()).toBe(-1);
      expect(response.finalizedFeatures).toEqual([]);
    }
  });
});

describe('Produce v11-v12 (transactions v2)', () => {
  const request = {
    transactionalId: 'tx',
    acks: -1 as const,
    timeoutMs: 30000,
    topics: [{ name: 't', partitions: [{ partition: 2, records: Buffer.from('abcd', 'hex') }] }],
  };

  it('encodes v9-v12 alike (golden)', () => {
    for (const version of [9, 10, 11, 12]) {
      expect(encoded(Produce, version, request)).toBe(
        h(`03 7478 | ffff | 00007530              # transactional id "tx", acks -1, timeout 30 s
           02 | 02 74 | 02 | 00000002 | 03 abcd   # topic "t", partition 2, 2 bytes of records
           00 | 00 | 00                          # partition, topic, request tagged fields`),
      );
    }
  });

  it('decodes v10-v12 alike, leader hints included', () => {
    for (const version of [10, 11, 12]) {
      const response = decode(
        (r) => Produce.decodeResponse(r, version),
        `02 | 02 74 | 02 | 00000000 0006                  # topic "t", partition 0 NOT_LEADER_OR_FOLLOWER
              ffffffffffffffff ffffffffffffffff ffffffffffffffff  # base offset, log append time, log start offset
              01 | 00                                      # no record errors, no message
              01 | 00 09 | 00000003 00000009 00            # tag 0: current leader 3 epoch 9 (and its tagged fields)
            00                                             # topic tagged
         00000000                                          # throttle
         01 | 00 0d | 02 00000003 02 68 00000007 00 00     # tag 0: node endpoints [3 "h":7 rack null]`,
      );
      expect(response.topics[0]?.partitions[0]?.currentLeader).toEqual({ leaderId: 3, leaderEpoch: 9 });
      expect(response.nodeEndpoints).toEqual([{ nodeId: 3, host: 'h', port: 7, rack: null }]);
    }
  });
});
