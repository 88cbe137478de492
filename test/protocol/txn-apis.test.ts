import { describe, expect, it } from 'vitest';
import {
  coordinatorFor,
  CoordinatorType,
  FindCoordinator,
  type FindCoordinatorRequest,
} from '../../src/protocol/apis/find-coordinator.js';
import { body, decode, h } from '../support/golden.js';

// Golden bytes for the transaction APIs, from the message definitions of Kafka 4.4
// (clients/src/main/resources/common/message/*.json). Strings: "tx" 7478, "g" 67, "h" 68.

describe('FindCoordinator', () => {
  const encode = (version: number, request: FindCoordinatorRequest): string =>
    body((w) => {
      FindCoordinator.encodeRequest(w, version, request);
    });
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
