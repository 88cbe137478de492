import { describe, expect, it } from 'vitest';
import type { BrokerAddress } from '../../src/config.js';
import {
  ConnectionError,
  InvalidTransactionStateError,
  ProducerFencedError,
  TransactionAbortableError,
  TransactionFatalError,
  TransactionTimeoutError,
} from '../../src/errors.js';
import { ApiKey } from '../../src/protocol/api.js';
import { CoordinatorType } from '../../src/protocol/apis/find-coordinator.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import type { BrokerSession, BrokerSessions } from '../../src/runtime/broker-sessions.js';
import { CoordinatorRequests, type Answer } from '../../src/runtime/coordinator-requests.js';

/**
 * The coordinator rules (src/runtime/coordinator-requests.ts) against scripted brokers: which
 * answers are retried, which look the coordinator up again, which end the operation and with
 * which typed error. No network: sessions are plain objects whose FindCoordinator answers come
 * from a script.
 */

const TARGET = { keyType: CoordinatorType.Transaction, key: 'tx' };

function setup(options: { coordinators?: BrokerAddress[]; timeoutMs?: number; backoffMs?: number } = {}) {
  const coordinators = [...(options.coordinators ?? [{ host: 'c1', port: 1 }])];
  const log: string[] = [];
  const dropped: string[] = [];
  const session = (address: BrokerAddress): BrokerSession =>
    ({
      address,
      versions: new Map([[ApiKey.FindCoordinator, 4]]),
      features: new Map(),
      connection: {
        send: () => {
          const next = coordinators.length > 1 ? coordinators.shift() : coordinators[0];
          log.push(`find@${address.host} → ${next?.host ?? 'none'}`);
          return Promise.resolve({
            throttleTimeMs: 0,
            coordinators: [{ key: 'tx', nodeId: 1, ...next, errorCode: 0, errorMessage: null }],
          });
        },
      },
    }) as unknown as BrokerSession;
  const sessions = {
    get: (address: BrokerAddress) => Promise.resolve(session(address)),
    drop: (address: BrokerAddress) => dropped.push(address.host),
  } as unknown as BrokerSessions;
  const requests = new CoordinatorRequests(
    {
      transactionalId: 'tx',
      retryBackoffMs: options.backoffMs ?? 1,
      retryBackoffMaxMs: options.backoffMs ?? 2,
      timeoutMs: options.timeoutMs ?? 5_000,
      candidates: () => [{ host: 'b1', port: 9 }],
      random: () => 0.5,
    },
    sessions,
    () => 'inTransaction',
  );
  /** Runs a request whose attempts answer `codes` in turn (the last one repeats). */
  const run = (
    codes: (number | Error)[],
    judge?: (code: number) => 'abortable' | 'retry' | 'retry-soon' | undefined,
  ) => {
    const queue = [...codes];
    return requests.run(
      'EndTxn(commit)',
      TARGET,
      (s): Promise<Answer<string>> => {
        const next = queue.length > 1 ? queue.shift() : queue[0];
        log.push(`attempt@${s.address.host}`);
        if (next instanceof Error) return Promise.reject(next);
        return Promise.resolve({ errorCode: next ?? 0, value: 'done' });
      },
      judge,
    );
  };
  return { run, log, dropped, requests };
}

describe('coordinator requests', () => {
  it('finds the coordinator once and keeps it', async () => {
    const { run, log } = setup();
    await expect(run([ErrorCode.NONE])).resolves.toBe('done');
    await expect(run([ErrorCode.NONE])).resolves.toBe('done');
    expect(log).toEqual(['find@b1 → c1', 'attempt@c1', 'attempt@c1']);
  });

  it('CONCURRENT_TRANSACTIONS and COORDINATOR_LOAD_IN_PROGRESS are asked again of the same coordinator', async () => {
    const { run, log } = setup();
    await expect(
      run([ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NONE]),
    ).resolves.toBe('done');
    expect(log).toEqual(['find@b1 → c1', 'attempt@c1', 'attempt@c1', 'attempt@c1']);
  });

  it('NOT_COORDINATOR and COORDINATOR_NOT_AVAILABLE look the coordinator up again', async () => {
    const { run, log } = setup({
      coordinators: [
        { host: 'c1', port: 1 },
        { host: 'c2', port: 2 },
        { host: 'c3', port: 3 },
      ],
    });
    await expect(
      run([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NONE]),
    ).resolves.toBe('done');
    expect(log).toEqual([
      'find@b1 → c1',
      'attempt@c1',
      'find@b1 → c2',
      'attempt@c2',
      'find@b1 → c3',
      'attempt@c3',
    ]);
  });

  it('a lost connection drops the session and looks the coordinator up again', async () => {
    const { run, log, dropped } = setup({
      coordinators: [
        { host: 'c1', port: 1 },
        { host: 'c2', port: 2 },
      ],
    });
    await expect(run([new ConnectionError('ECONNRESET', 'c1:1'), ErrorCode.NONE])).resolves.toBe('done');
    expect(dropped).toEqual(['c1']);
    expect(log).toEqual(['find@b1 → c1', 'attempt@c1', 'find@b1 → c2', 'attempt@c2']);
  });

  it('fenced, abortable, invalid-state and fatal answers end the operation with their typed error', async () => {
    const cases = [
      [ErrorCode.PRODUCER_FENCED, ProducerFencedError],
      [ErrorCode.INVALID_PRODUCER_EPOCH, ProducerFencedError],
      [ErrorCode.TRANSACTION_ABORTABLE, TransactionAbortableError],
      [ErrorCode.INVALID_TXN_STATE, InvalidTransactionStateError],
      [ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, TransactionFatalError],
      [ErrorCode.INVALID_PRODUCER_ID_MAPPING, TransactionFatalError],
    ] as const;
    for (const [code, type] of cases) {
      const { run } = setup();
      const error = await run([code]).catch((e: unknown) => e);
      expect(error, `error code ${code}`).toBeInstanceOf(type);
      expect((error as Error).message).toContain('EndTxn(commit)');
    }
    const { run } = setup();
    const invalid = (await run([ErrorCode.INVALID_TXN_STATE]).catch(
      (e: unknown) => e,
    )) as InvalidTransactionStateError;
    expect(invalid.state).toBe('inTransaction');
  });

  it("'retry-soon' asks again after 20 ms, not after the backoff (Java's AddPartitionsToTxn rule)", async () => {
    const { run, log } = setup({ backoffMs: 5_000 });
    const started = Date.now();
    const soon = (code: number) => (code === ErrorCode.CONCURRENT_TRANSACTIONS ? 'retry-soon' : undefined);
    await expect(
      run([ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.NONE], soon),
    ).resolves.toBe('done');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(log.filter((line) => line.startsWith('attempt'))).toHaveLength(3);
  });

  it("a request's own verdict comes before the common rules", async () => {
    const { run } = setup();
    await expect(
      run([ErrorCode.UNKNOWN_MEMBER_ID], (code) =>
        code === ErrorCode.UNKNOWN_MEMBER_ID ? 'abortable' : undefined,
      ),
    ).rejects.toBeInstanceOf(TransactionAbortableError);
  });

  it('gives up after timeoutMs with TransactionTimeoutError, naming the last error as its cause', async () => {
    const { run } = setup({ timeoutMs: 30 });
    const error = (await run([ErrorCode.CONCURRENT_TRANSACTIONS]).catch(
      (e: unknown) => e,
    )) as TransactionTimeoutError;
    expect(error).toBeInstanceOf(TransactionTimeoutError);
    expect(error.message).toContain('CONCURRENT_TRANSACTIONS');
    expect((error.cause as { errorCode: number }).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
  });

  it('close() ends a request waiting for its next attempt', async () => {
    const { run, requests } = setup({ timeoutMs: 60_000 });
    const pending = run([ErrorCode.CONCURRENT_TRANSACTIONS]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    requests.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_PRODUCER_CLOSED' });
  });
});
