import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  ErrorCode,
  isRetriable,
  KAFKA_ERRORS,
  kafkaError,
  type KafkaErrorName,
} from '../../src/protocol/error-codes.js';

const codes = KAFKA_ERRORS.map((info) => info.code);
const names = KAFKA_ERRORS.map((info) => info.name);

/**
 * The codes whose Java exception extends RetriableException in Kafka 4.4 trunk (checked against the
 * exception classes and the javadoc class hierarchy). Pinning the whole set makes any change deliberate.
 */
const RETRIABLE = [
  2, 3, 5, 6, 7, 9, 13, 14, 15, 16, 19, 20, 41, 51, 56, 70, 71, 72, 74, 75, 78, 80, 83, 84, 88, 89, 100, 103,
  106, 122, 123, 133,
];

describe('KAFKA_ERRORS', () => {
  it('runs from -1 to 136 with no gaps, ordered by code', () => {
    // Kafka has never skipped a code: -1 (UNKNOWN_SERVER_ERROR) and 0..136 are all assigned.
    expect(KAFKA_ERRORS).toHaveLength(138);
    expect(codes).toEqual(Array.from({ length: 138 }, (_, i) => i - 1));
  });

  it('has unique codes and unique upper-snake names', () => {
    expect(new Set(codes).size).toBe(codes.length);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  });

  it('has a one-line description for every entry', () => {
    for (const info of KAFKA_ERRORS) {
      expect(info.description.length, info.name).toBeGreaterThan(10);
      expect(info.description, info.name).not.toMatch(/\n/);
      expect(info.description, info.name).toMatch(/\.$/);
    }
  });

  it('is frozen', () => {
    expect(Object.isFrozen(KAFKA_ERRORS)).toBe(true);
    for (const info of KAFKA_ERRORS) expect(Object.isFrozen(info)).toBe(true);
  });

  it('marks exactly the RetriableException codes as retriable', () => {
    expect(KAFKA_ERRORS.filter((info) => info.retriable).map((info) => info.code)).toEqual(RETRIABLE);
  });
});

describe('well-known codes', () => {
  it.each([
    [-1, 'UNKNOWN_SERVER_ERROR', false],
    [0, 'NONE', false],
    [1, 'OFFSET_OUT_OF_RANGE', false],
    [2, 'CORRUPT_MESSAGE', true],
    [3, 'UNKNOWN_TOPIC_OR_PARTITION', true],
    [5, 'LEADER_NOT_AVAILABLE', true],
    [6, 'NOT_LEADER_OR_FOLLOWER', true],
    [7, 'REQUEST_TIMED_OUT', true],
    [8, 'BROKER_NOT_AVAILABLE', false],
    [10, 'MESSAGE_TOO_LARGE', false],
    [13, 'NETWORK_EXCEPTION', true],
    [15, 'COORDINATOR_NOT_AVAILABLE', true],
    [19, 'NOT_ENOUGH_REPLICAS', true],
    [20, 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', true],
    [27, 'REBALANCE_IN_PROGRESS', false],
    [29, 'TOPIC_AUTHORIZATION_FAILED', false],
    [35, 'UNSUPPORTED_VERSION', false],
    [45, 'OUT_OF_ORDER_SEQUENCE_NUMBER', false],
    [46, 'DUPLICATE_SEQUENCE_NUMBER', false],
    [47, 'INVALID_PRODUCER_EPOCH', false],
    [51, 'CONCURRENT_TRANSACTIONS', true],
    [56, 'KAFKA_STORAGE_ERROR', true],
    [59, 'UNKNOWN_PRODUCER_ID', false],
    [74, 'FENCED_LEADER_EPOCH', true],
    [75, 'UNKNOWN_LEADER_EPOCH', true],
    [87, 'INVALID_RECORD', false],
    [89, 'THROTTLING_QUOTA_EXCEEDED', true],
    [90, 'PRODUCER_FENCED', false],
    [100, 'UNKNOWN_TOPIC_ID', true],
    [120, 'TRANSACTION_ABORTABLE', false],
    [129, 'REBOOTSTRAP_REQUIRED', false],
    [133, 'SHARE_SESSION_LIMIT_REACHED', true],
    [136, 'CONTROLLER_ID_NOT_REGISTERED', false],
  ] as const)('%i is %s (retriable: %s)', (code, name, retriable) => {
    const info = kafkaError(code);
    expect(info.code).toBe(code);
    expect(info.name).toBe(name);
    expect(info.retriable).toBe(retriable);
    expect(isRetriable(code)).toBe(retriable);
    expect(ErrorCode[name]).toBe(code);
  });
});

describe('kafkaError / isRetriable', () => {
  it('returns the table entry itself for every known code', () => {
    for (const info of KAFKA_ERRORS) {
      expect(kafkaError(info.code)).toBe(info);
      expect(isRetriable(info.code)).toBe(info.retriable);
    }
  });

  it.each([137, 500, 32767, -2, -32768, 1.5, Number.NaN])(
    'treats unknown code %s as non-retriable',
    (code) => {
      const info = kafkaError(code);
      expect(info).toEqual({
        code,
        name: `UNKNOWN_ERROR_CODE_${code}`,
        retriable: false,
        description: expect.stringContaining(String(code)) as unknown,
      });
      expect(isRetriable(code)).toBe(false);
      expect(KAFKA_ERRORS).not.toContain(info);
    },
  );
});

describe('ErrorCode', () => {
  it('agrees exactly with the table: same names, same order, same codes', () => {
    expect(Object.entries(ErrorCode)).toEqual(KAFKA_ERRORS.map((info) => [info.name, info.code]));
    expect(Object.isFrozen(ErrorCode)).toBe(true);
  });

  it('maps every name back to its own entry', () => {
    for (const [name, code] of Object.entries(ErrorCode)) expect(kafkaError(code).name).toBe(name);
  });

  it('keeps literal code types', () => {
    expectTypeOf(ErrorCode.NOT_LEADER_OR_FOLLOWER).toEqualTypeOf<6>();
    expectTypeOf(ErrorCode.UNKNOWN_SERVER_ERROR).toEqualTypeOf<-1>();
    expectTypeOf<'NONE'>().toExtend<KafkaErrorName>();
    expectTypeOf<'NOT_A_KAFKA_ERROR'>().not.toExtend<KafkaErrorName>();
  });
});
