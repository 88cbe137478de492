import { createActor, fromPromise, type NonReducibleUnknown } from 'xstate';
import { describe, expect, it } from 'vitest';
import { describeError } from '../../machines/describe-error.js';
import { transactionMachine, type TransactionStep } from '../../machines/transaction.machine.js';
import {
  KafkaProtocolError,
  ProducerFencedError,
  TransactionAbortableError,
  TransactionFatalError,
  TransactionTimeoutError,
} from '../../src/errors.js';

/**
 * The transaction machine alone, with `initialize`, `commitTransaction` and `abortTransaction`
 * whose promises the test settles by hand: every transition, without a broker. The machine has
 * no timers of its own (retries are the coordinator requests'), so no clock is needed.
 */

interface Pending {
  resolve: (step: TransactionStep) => void;
  reject: (error: unknown) => void;
  input?: unknown;
}

function start() {
  const calls: Record<'initialize' | 'commit' | 'abort', Pending[]> = {
    initialize: [],
    commit: [],
    abort: [],
  };
  /** The failure actions run, in order: records not sent failed (abortable), or all held (broken). */
  const failures: ('unsent' | 'held')[] = [];
  const pending = <Input = NonReducibleUnknown>(kind: keyof typeof calls) =>
    fromPromise<TransactionStep, Input>(
      ({ input }) =>
        new Promise<TransactionStep>((resolve, reject) => {
          calls[kind].push({ resolve, reject, input });
        }),
    );
  const logic = transactionMachine.provide({
    actors: {
      initialize: pending('initialize'),
      commitTransaction: pending('commit'),
      abortTransaction: pending<{ bumpEpoch: boolean }>('abort'),
    },
    actions: {
      failUnsent: () => {
        failures.push('unsent');
      },
      failHeld: () => {
        failures.push('held');
      },
    },
  });
  const actor = createActor(logic, { input: { transactionalId: 'tx-1' } });
  actor.start();
  const last = (kind: keyof typeof calls): Pending => {
    const call = calls[kind].at(-1);
    if (call === undefined) throw new Error(`no ${kind} call`);
    return call;
  };
  return { actor, calls, last, failures };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));
const stamp = (producerId: number, producerEpoch: number) => ({ producerId, producerEpoch });

async function ready() {
  const t = start();
  t.actor.send({ type: 'init' });
  t.last('initialize').resolve({ stamp: stamp(7, 0), protocol: 'v1' });
  await settled();
  return t;
}

describe('transaction machine', () => {
  it('initializes once: uninitialized → initializing → ready with the id, epoch and protocol', async () => {
    const { actor, calls, last } = start();
    expect(actor.getSnapshot().value).toBe('uninitialized');
    actor.send({ type: 'begin' }); // not before initialization
    expect(actor.getSnapshot().value).toBe('uninitialized');
    actor.send({ type: 'init' });
    expect(actor.getSnapshot().value).toBe('initializing');
    actor.send({ type: 'init' });
    expect(calls.initialize).toHaveLength(1);
    last('initialize').resolve({ stamp: stamp(7, 3), protocol: 'v2' });
    await settled();
    const snapshot = actor.getSnapshot();
    expect(snapshot.value).toBe('ready');
    expect(snapshot.context.stamp).toEqual(stamp(7, 3));
    expect(snapshot.context.protocol).toBe('v2');
  });

  it('a timed-out initialization goes back to uninitialized (the next call tries again); a fence is final', async () => {
    const t = start();
    t.actor.send({ type: 'init' });
    t.last('initialize').reject(new TransactionTimeoutError('InitProducerId did not complete'));
    await settled();
    expect(t.actor.getSnapshot().value).toBe('uninitialized');
    expect(t.actor.getSnapshot().context.lastError?.code).toBe('ERR_TRANSACTION_TIMEOUT');
    t.actor.send({ type: 'init' });
    t.last('initialize').reject(new ProducerFencedError('tx-1', 'PRODUCER_FENCED'));
    await settled();
    expect(t.actor.getSnapshot().value).toBe('fenced');
    t.actor.send({ type: 'begin' });
    t.actor.send({ type: 'init' });
    expect(t.actor.getSnapshot().value).toBe('fenced');
  });

  it("the broker's refusal (not authorised, ERR_KAFKA) also goes back to uninitialized, as Java's initTransactions()", async () => {
    const t = start();
    t.actor.send({ type: 'init' });
    t.last('initialize').reject(
      new KafkaProtocolError(53, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'not authorised', false),
    );
    await settled();
    expect(t.actor.getSnapshot().value).toBe('uninitialized');
  });

  it('any other initialization failure is fatal', async () => {
    const t = start();
    t.actor.send({ type: 'init' });
    t.last('initialize').reject(new TransactionFatalError('INVALID_TRANSACTION_TIMEOUT'));
    await settled();
    expect(t.actor.getSnapshot().value).toBe('fatal');
  });

  it('begin → commit → ready, counting; a new stamp from EndTxn (v2) is taken', async () => {
    const { actor, last } = await ready();
    actor.send({ type: 'begin' });
    expect(actor.getSnapshot().value).toEqual({ inTransaction: 'open' });
    expect(actor.getSnapshot().context.serial).toBe(1);
    actor.send({ type: 'partitions.added', count: 3 });
    expect(actor.getSnapshot().context.partitions).toBe(3);
    actor.send({ type: 'commit' });
    expect(actor.getSnapshot().value).toBe('committing');
    last('commit').resolve({ stamp: stamp(7, 1) });
    await settled();
    const snapshot = actor.getSnapshot();
    expect(snapshot.value).toBe('ready');
    expect(snapshot.context).toMatchObject({ committed: 1, aborted: 0, partitions: 0, startedAt: null });
    expect(snapshot.context.stamp).toEqual(stamp(7, 1));
  });

  it('abortable: commit is not taken, only abort leaves; the abort is told whether to bump the epoch', async () => {
    const { actor, calls, last, failures } = await ready();
    actor.send({ type: 'begin' });
    const why = describeError(new TransactionAbortableError('a record failed'));
    actor.send({ type: 'abortable', error: why, bumpEpoch: true });
    actor.send({ type: 'abortable', error: describeError(new Error('later')), bumpEpoch: false });
    expect(actor.getSnapshot().value).toEqual({ inTransaction: 'abortable' });
    expect(actor.getSnapshot().context.abortableError).toEqual(why); // the first cause
    expect(failures).toEqual(['unsent']); // entering abortable fails what was not sent
    actor.send({ type: 'commit' });
    expect(actor.getSnapshot().value).toEqual({ inTransaction: 'abortable' });
    expect(calls.commit).toHaveLength(0);
    actor.send({ type: 'abort' });
    expect(actor.getSnapshot().value).toBe('aborting');
    expect(last('abort').input).toEqual({ bumpEpoch: true });
    last('abort').resolve({ stamp: stamp(7, 1) });
    await settled();
    expect(actor.getSnapshot().value).toBe('ready');
    expect(actor.getSnapshot().context).toMatchObject({
      aborted: 1,
      abortableError: null,
      epochBumpRequired: false,
      stamp: stamp(7, 1),
    });
  });

  it('a commit that fails with an abortable error returns to inTransaction.abortable', async () => {
    const { actor, last } = await ready();
    actor.send({ type: 'begin' });
    actor.send({ type: 'commit' });
    last('commit').reject(new TransactionAbortableError('a record failed during the commit'));
    await settled();
    expect(actor.getSnapshot().value).toEqual({ inTransaction: 'abortable' });
    expect(actor.getSnapshot().context.abortableError?.message).toContain('during the commit');
  });

  it('a fenced commit or abort is fenced (failing what is held); another failure is fatal', async () => {
    for (const [operation, error, state] of [
      ['commit', new ProducerFencedError('tx-1', 'x'), 'fenced'],
      ['abort', new ProducerFencedError('tx-1', 'x'), 'fenced'],
      ['abort', new TransactionTimeoutError('EndTxn'), 'fatal'],
      ['abort', new TransactionFatalError('INVALID_TXN_STATE'), 'fatal'],
    ] as const) {
      const { actor, last, failures } = await ready();
      actor.send({ type: 'begin' });
      actor.send({ type: operation });
      last(operation).reject(error);
      await settled();
      expect(actor.getSnapshot().value, `${operation} ${error.code}`).toBe(state);
      expect(actor.getSnapshot().context.lastError?.code).toBe(error.code);
      expect(failures).toEqual(['held']);
    }
  });

  it('a commit that times out is unresolved: only commit() again, which resends EndTxn', async () => {
    const { actor, calls, last } = await ready();
    actor.send({ type: 'begin' });
    actor.send({ type: 'commit' });
    last('commit').reject(new TransactionTimeoutError('EndTxn(commit) did not complete'));
    await settled();
    expect(actor.getSnapshot().value).toBe('unresolved');
    actor.send({ type: 'abort' });
    actor.send({ type: 'begin' });
    expect(actor.getSnapshot().value).toBe('unresolved');
    actor.send({ type: 'commit' });
    expect(actor.getSnapshot().value).toBe('committing');
    expect(calls.commit).toHaveLength(2);
    last('commit').resolve({ stamp: null });
    await settled();
    expect(actor.getSnapshot().value).toBe('ready');
    expect(actor.getSnapshot().context.committed).toBe(1);
  });

  it('fenced and fatal events from the data path end the transaction', async () => {
    const { actor } = await ready();
    actor.send({ type: 'begin' });
    actor.send({ type: 'fenced', error: describeError(new ProducerFencedError('tx-1', 'produce')) });
    expect(actor.getSnapshot().value).toBe('fenced');
  });

  it('stop ends it from any state', async () => {
    const { actor } = await ready();
    actor.send({ type: 'begin' });
    actor.send({ type: 'stop' });
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('fails loudly when an implementation was not provided', async () => {
    const actor = createActor(transactionMachine, { input: { transactionalId: 't' } });
    const errors: unknown[] = [];
    actor.subscribe({ error: (error) => errors.push(error) });
    actor.start();
    actor.send({ type: 'init' });
    await settled();
    // The missing `initialize` makes initialization fail; entering `fatal` then runs the missing
    // `failHeld`, which stops the actor with an error naming it.
    expect(actor.getSnapshot().status).toBe('error');
    expect(String(errors[0])).toMatch(/transaction machine: action "failHeld" was not provided/);
  });
});
