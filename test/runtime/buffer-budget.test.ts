import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, BufferFullError, ProducerClosedError } from '../../src/errors.js';
import { BufferBudget } from '../../src/runtime/buffer-budget.js';

/**
 * Timeouts run on vitest's fake timers: `vi.advanceTimersByTime` fires them, and no test sleeps.
 * Settlement is observed through `track`, which records a promise's outcome once microtasks ran.
 */
type Outcome = { state: 'pending' } | { state: 'resolved' } | { state: 'rejected'; error: unknown };

function track(promise: Promise<void>): { readonly outcome: Outcome } {
  const tracked: { outcome: Outcome } = { outcome: { state: 'pending' } };
  promise.then(
    () => {
      tracked.outcome = { state: 'resolved' };
    },
    (error: unknown) => {
      tracked.outcome = { state: 'rejected', error };
    },
  );
  return tracked;
}

/** Lets promise callbacks run (fake timers do not fake microtasks). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

function rejection(tracked: { readonly outcome: Outcome }): unknown {
  const outcome = tracked.outcome;
  if (outcome.state !== 'rejected') throw new Error(`expected a rejection, got ${outcome.state}`);
  return outcome.error;
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('BufferBudget: tryReserve and release', () => {
  it('reserves while both bounds hold, up to exactly the maximum', () => {
    const budget = new BufferBudget(10, 1000);
    expect(budget.tryReserve(4, 400)).toBe(true);
    expect(budget.tryReserve(6, 600)).toBe(true);
    expect([budget.records, budget.bytes]).toEqual([10, 1000]);
    expect(budget.isFull).toBe(true);
    expect(budget.tryReserve(1, 0)).toBe(false);
    expect(budget.tryReserve(0, 1)).toBe(false);
    expect([budget.records, budget.bytes]).toEqual([10, 1000]);
  });

  it('says no when either bound would be exceeded, reserving nothing', () => {
    const budget = new BufferBudget(10, 1000);
    expect(budget.tryReserve(11, 1)).toBe(false); // records
    expect(budget.tryReserve(1, 1001)).toBe(false); // bytes
    expect([budget.records, budget.bytes]).toEqual([0, 0]);
    expect(budget.isFull).toBe(false);
  });

  it('is full when either bound is reached', () => {
    const byRecords = new BufferBudget(2, 1000);
    byRecords.tryReserve(2, 10);
    expect(byRecords.isFull).toBe(true);
    const byBytes = new BufferBudget(100, 10);
    byBytes.tryReserve(1, 10);
    expect(byBytes.isFull).toBe(true);
  });

  it('release gives room back', () => {
    const budget = new BufferBudget(10, 1000);
    budget.tryReserve(10, 1000);
    budget.release(3, 250);
    expect([budget.records, budget.bytes]).toEqual([7, 750]);
    expect(budget.tryReserve(3, 250)).toBe(true);
    expect(budget.tryReserve(1, 1)).toBe(false);
  });

  it('describes a need with what is buffered', () => {
    const budget = new BufferBudget(10, 1000);
    budget.tryReserve(2, 20);
    expect(budget.describeNeed(5, 50)).toBe(
      '5 records / 50 bytes requested, 2/10 records and 20/1000 bytes buffered',
    );
  });
});

describe('BufferBudget: reserve', () => {
  it('resolves at once when there is room', async () => {
    const budget = new BufferBudget(10, 1000);
    const reserved = track(budget.reserve(5, 500, 1000));
    await settle();
    expect(reserved.outcome.state).toBe('resolved');
    expect([budget.records, budget.bytes]).toEqual([5, 500]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('waits for room, and takes it when released', async () => {
    const budget = new BufferBudget(10, 1000);
    budget.tryReserve(8, 800);
    const waiting = track(budget.reserve(5, 100, 10_000));
    await settle();
    expect(waiting.outcome.state).toBe('pending');
    expect([budget.records, budget.bytes]).toEqual([8, 800]);

    budget.release(2, 200); // 6 records buffered: 5 more do not fit yet
    await settle();
    expect(waiting.outcome.state).toBe('pending');

    budget.release(1, 0); // 5 + 5 = 10: fits
    await settle();
    expect(waiting.outcome.state).toBe('resolved');
    expect([budget.records, budget.bytes]).toEqual([10, 700]);
    // Its timeout was cleared.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('serves waiters first come, first served: a later small request does not overtake a big one', async () => {
    const budget = new BufferBudget(10, 1000);
    budget.tryReserve(10, 100);
    const big = track(budget.reserve(8, 10, 10_000));
    const small = track(budget.reserve(1, 10, 10_000));
    // Nor does tryReserve jump the queue, though 0 + 1 would fit after a release.
    budget.release(2, 0); // 8 buffered: the big one (8) does not fit, the small one (1) would
    await settle();
    expect(big.outcome.state).toBe('pending');
    expect(small.outcome.state).toBe('pending');
    expect(budget.tryReserve(1, 1)).toBe(false);
    expect([budget.records, budget.bytes]).toEqual([8, 100]);

    budget.release(8, 0); // 0 buffered: big (8) then small (1) fit, in that order
    await settle();
    expect(big.outcome.state).toBe('resolved');
    expect(small.outcome.state).toBe('resolved');
    expect([budget.records, budget.bytes]).toEqual([9, 120]);
  });

  it('wakes as many waiters as fit, in order, and stops at the first that does not', async () => {
    const budget = new BufferBudget(10, 1000);
    budget.tryReserve(10, 0);
    const order: string[] = [];
    const waiters = [
      ['a', 3],
      ['b', 3],
      ['c', 5],
      ['d', 1],
    ] as const;
    for (const [name, records] of waiters) {
      void budget.reserve(records, 0, 10_000).then(() => order.push(name));
    }
    budget.release(10, 0);
    await settle();
    // a + b = 6; c (5) does not fit in the 4 left, and d waits behind it.
    expect(order).toEqual(['a', 'b']);
    expect(budget.records).toBe(6);
    budget.release(3, 0); // a done: 3 + 5 = 8, then d: 9
    await settle();
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    expect(budget.records).toBe(9);
  });

  it('rejects with BufferFullError when the timeout passes, and reserves nothing', async () => {
    const budget = new BufferBudget(10, 1000);
    budget.tryReserve(10, 0);
    const waiting = track(budget.reserve(1, 1, 5000));
    vi.advanceTimersByTime(4999);
    await settle();
    expect(waiting.outcome.state).toBe('pending');
    vi.advanceTimersByTime(1);
    await settle();
    const error = rejection(waiting);
    expect(error).toBeInstanceOf(BufferFullError);
    expect((error as BufferFullError).code).toBe('ERR_BUFFER_FULL');
    expect((error as BufferFullError).retriable).toBe(true);
    expect((error as BufferFullError).message).toBe(
      'producer buffer full: 1 records / 1 bytes requested, 10/10 records and 0/1000 bytes buffered ' +
        'did not fit within 5000 ms',
    );
    expect([budget.records, budget.bytes]).toEqual([10, 0]);
    // Gone from the queue: room is no longer taken for it.
    budget.release(10, 0);
    await settle();
    expect([budget.records, budget.bytes]).toEqual([0, 0]);
    expect(budget.tryReserve(1, 1)).toBe(true);
  });

  it('with a zero timeout, rejects on the next timer tick when there is no room', async () => {
    const budget = new BufferBudget(1, 1000);
    budget.tryReserve(1, 0);
    const waiting = track(budget.reserve(1, 0, 0));
    vi.advanceTimersByTime(0);
    await settle();
    expect(rejection(waiting)).toBeInstanceOf(BufferFullError);
  });

  it('when the head waiter times out, the ones behind it that now fit are served', async () => {
    const budget = new BufferBudget(10, 1000);
    budget.tryReserve(5, 0);
    const big = track(budget.reserve(8, 0, 1000));
    const small = track(budget.reserve(2, 0, 5000));
    await settle();
    expect(small.outcome.state).toBe('pending');
    vi.advanceTimersByTime(1000);
    await settle();
    expect(rejection(big)).toBeInstanceOf(BufferFullError);
    expect(small.outcome.state).toBe('resolved');
    expect(budget.records).toBe(7);
  });

  it('rejects at once a request larger than the whole buffer, in records or bytes', async () => {
    const budget = new BufferBudget(10, 1000);
    const tooMany = track(budget.reserve(11, 1, 10_000));
    const tooBig = track(budget.reserve(1, 1001, 10_000));
    await settle();
    for (const tracked of [tooMany, tooBig]) {
      const error = rejection(tracked);
      expect(error).toBeInstanceOf(BufferFullError);
      expect((error as Error).message).toMatch(/, more than the whole buffer$/);
    }
    expect((rejection(tooMany) as Error).message).toBe(
      'producer buffer full: 11 records / 1 bytes requested, 0/10 records and 0/1000 bytes buffered, ' +
        'more than the whole buffer',
    );
    expect(vi.getTimerCount()).toBe(0);
    expect([budget.records, budget.bytes]).toEqual([0, 0]);
  });

  it('accepts a request of exactly the whole buffer, once it is empty', async () => {
    const budget = new BufferBudget(10, 1000);
    budget.tryReserve(1, 1);
    const whole = track(budget.reserve(10, 1000, 10_000));
    await settle();
    expect(whole.outcome.state).toBe('pending');
    budget.release(1, 1);
    await settle();
    expect(whole.outcome.state).toBe('resolved');
    expect(budget.isFull).toBe(true);
  });
});

describe('BufferBudget: AbortSignal', () => {
  it('rejects with AbortedError at once when the signal is already aborted and it would wait', async () => {
    const budget = new BufferBudget(1, 1000);
    budget.tryReserve(1, 0);
    const controller = new AbortController();
    const reason = new Error('user gave up');
    controller.abort(reason);
    const waiting = track(budget.reserve(1, 0, 10_000, controller.signal));
    await settle();
    const error = rejection(waiting);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).code).toBe('ERR_ABORTED');
    expect((error as AbortedError).cause).toBe(reason);
    // Nothing queued: no timer, and no one takes room later.
    expect(vi.getTimerCount()).toBe(0);
    budget.release(1, 0);
    expect(budget.records).toBe(0);
  });

  it('still reserves when the signal is already aborted but there is room (it only cancels a wait)', async () => {
    const budget = new BufferBudget(10, 1000);
    const controller = new AbortController();
    controller.abort();
    const reserved = track(budget.reserve(1, 1, 10_000, controller.signal));
    await settle();
    expect(reserved.outcome.state).toBe('resolved');
    expect(budget.records).toBe(1);
  });

  it('rejects with AbortedError when aborted while waiting, and leaves the queue', async () => {
    const budget = new BufferBudget(10, 1000);
    budget.tryReserve(10, 0);
    const controller = new AbortController();
    const aborted = track(budget.reserve(5, 0, 10_000, controller.signal));
    const behind = track(budget.reserve(5, 0, 10_000));
    await settle();
    controller.abort('stop');
    await settle();
    const error = rejection(aborted);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).cause).toBe('stop');
    expect(behind.outcome.state).toBe('pending');
    budget.release(5, 0);
    await settle();
    // The aborted request took nothing; the one behind it got the room.
    expect(behind.outcome.state).toBe('resolved');
    expect(budget.records).toBe(10);
    // The aborted waiter's timer is gone; the other one was served.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('when the head waiter is aborted, the ones behind it that now fit are served', async () => {
    const budget = new BufferBudget(10, 1000);
    budget.tryReserve(5, 0);
    const controller = new AbortController();
    const big = track(budget.reserve(8, 0, 10_000, controller.signal));
    const small = track(budget.reserve(3, 0, 10_000));
    await settle();
    expect(small.outcome.state).toBe('pending');
    controller.abort();
    await settle();
    expect(rejection(big)).toBeInstanceOf(AbortedError);
    expect(small.outcome.state).toBe('resolved');
    expect(budget.records).toBe(8);
  });

  it('forgets the signal once served: a later abort changes nothing', async () => {
    const budget = new BufferBudget(1, 1000);
    budget.tryReserve(1, 0);
    const controller = new AbortController();
    const waiting = track(budget.reserve(1, 0, 10_000, controller.signal));
    budget.release(1, 0);
    await settle();
    expect(waiting.outcome.state).toBe('resolved');
    controller.abort();
    await settle();
    expect(waiting.outcome.state).toBe('resolved');
    expect(budget.records).toBe(1);
  });

  it('a timeout wins over a later abort, and the abort listener is removed', async () => {
    const budget = new BufferBudget(1, 1000);
    budget.tryReserve(1, 0);
    const controller = new AbortController();
    const waiting = track(budget.reserve(1, 0, 100, controller.signal));
    vi.advanceTimersByTime(100);
    controller.abort();
    await settle();
    expect(rejection(waiting)).toBeInstanceOf(BufferFullError);
  });
});

describe('BufferBudget: rejectWaiters', () => {
  it('fails every waiter with the error given, and clears their timers', async () => {
    const budget = new BufferBudget(1, 1000);
    budget.tryReserve(1, 0);
    const controller = new AbortController();
    const first = track(budget.reserve(1, 0, 1000));
    const second = track(budget.reserve(1, 0, 2000, controller.signal));
    await settle();
    expect(vi.getTimerCount()).toBe(2);
    const closed = new ProducerClosedError();
    budget.rejectWaiters(closed);
    await settle();
    expect(rejection(first)).toBe(closed);
    expect(rejection(second)).toBe(closed);
    expect(vi.getTimerCount()).toBe(0);
    // Nothing was reserved for them, and the queue is empty again.
    controller.abort();
    budget.release(1, 0);
    expect([budget.records, budget.bytes]).toEqual([0, 0]);
    expect(budget.tryReserve(1, 0)).toBe(true);
  });

  it('does nothing without waiters', () => {
    const budget = new BufferBudget(1, 1);
    budget.rejectWaiters(new ProducerClosedError());
    expect(budget.tryReserve(1, 1)).toBe(true);
  });
});
