import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  metadataMachine,
  type MetadataContext,
  type MetadataInput,
  type MetadataSummary,
} from '../../machines/metadata.machine.js';

/**
 * The metadata machine on a SimulatedClock, with a scripted `fetch` whose promises the test
 * settles by hand.
 *
 * About time: the machine's delays run on the actor's clock (the SimulatedClock), but it also
 * reads `Date.now()` itself — it stamps `lastFetchAt` when a fetch starts and computes the
 * `cooldown` delay as `lastFetchAt + minIntervalMs - Date.now()`. If `Date.now()` were the real
 * clock, the cooldown would be computed against wall time while the timers ran on simulated time.
 * So `Date.now` is pointed at the simulated clock (`vi.spyOn(Date, 'now')`), offset by a
 * realistic epoch: one clock for both, moved only by `clock.increment`, exact to the ms. (The
 * epoch matters: with `Date.now() === 0` at start, the first cooldown would be
 * `0 + minIntervalMs - 0` instead of 0, as `lastFetchAt` starts at 0 meaning "never".)
 * `vi.useFakeTimers()` is not needed, and would get in the way: awaiting the fetch promises needs
 * the real `setImmediate`.
 *
 * Delays of 0 ms (a cooldown that is already over) are timers too: a SimulatedClock fires them on
 * its next `increment`, also when they were scheduled by a timer that fired during the previous
 * one; so `clock.increment(0)` means "now".
 */
const EPOCH = 1_700_000_000_000;

afterEach(() => {
  vi.restoreAllMocks();
});

interface Pending {
  resolve: (summary: MetadataSummary) => void;
  reject: (error: unknown) => void;
  startedAt: number;
}

function start(input: Partial<MetadataInput> = {}) {
  const clock = new SimulatedClock();
  vi.spyOn(Date, 'now').mockImplementation(() => EPOCH + clock.now());
  const fetches: Pending[] = [];
  const logic = metadataMachine.provide({
    actors: {
      fetch: fromPromise<MetadataSummary>(
        () =>
          new Promise<MetadataSummary>((resolve, reject) => {
            fetches.push({ resolve, reject, startedAt: clock.now() });
          }),
      ),
    },
  });
  const actor = createActor(logic, {
    clock,
    input: {
      metadataMaxAgeMs: 60_000,
      minIntervalMs: 100,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 1000,
      random: () => 0.5, // no jitter
      ...input,
    },
  });
  actor.start();
  const state = (): string => actor.getSnapshot().value;
  const context = (): MetadataContext => actor.getSnapshot().context;
  /** The fetch started last (the one in flight). */
  const current = (): Pending => {
    const last = fetches.at(-1);
    if (last === undefined) throw new Error('no fetch started');
    return last;
  };
  return { actor, clock, fetches, state, context, current };
}

/** Lets settled fetch promises reach the machine. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Advances the simulated clock 1 ms at a time until `done()`, returning how long it took. */
function waitUntil(clock: SimulatedClock, done: () => boolean, limit = 1_000_000): number {
  let ms = 0;
  while (!done()) {
    if (ms >= limit) throw new Error(`not done after ${limit} ms`);
    clock.increment(1);
    ms++;
  }
  return ms;
}

const SUMMARY = { brokers: 3, topics: 2 };

describe('metadata machine', () => {
  it('starts idle and fetches nothing until asked', () => {
    const m = start();
    expect(m.state()).toBe('idle');
    expect(m.context()).toMatchObject({
      lastRefreshAt: 0,
      lastFetchAt: 0,
      pending: false,
      attempts: 0,
      lastError: null,
      summary: { brokers: 0, topics: 0 },
    });
    m.clock.increment(0);
    m.clock.increment(59_999);
    expect(m.state()).toBe('idle');
    expect(m.fetches).toHaveLength(0);
  });

  it('fetches at once on the first refresh, and stores the summary', async () => {
    const m = start();
    m.clock.increment(5000);
    m.actor.send({ type: 'refresh' });
    expect(m.state()).toBe('cooldown');
    m.clock.increment(0);
    expect(m.state()).toBe('fetching');
    expect(m.fetches).toHaveLength(1);
    expect(m.context().lastFetchAt).toBe(EPOCH + 5000);

    m.clock.increment(30);
    m.current().resolve(SUMMARY);
    await flush();
    expect(m.state()).toBe('idle');
    expect(m.context()).toMatchObject({
      summary: SUMMARY,
      lastRefreshAt: EPOCH + 5030,
      lastFetchAt: EPOCH + 5000,
      attempts: 0,
      pending: false,
    });
  });

  it('folds every refresh asked during a fetch into exactly one follow-up fetch', async () => {
    const m = start();
    m.actor.send({ type: 'refresh' });
    m.clock.increment(0);
    expect(m.fetches).toHaveLength(1);
    for (let i = 0; i < 5; i++) m.actor.send({ type: 'refresh' });
    expect(m.context().pending).toBe(true);
    expect(m.fetches).toHaveLength(1); // single flight

    m.clock.increment(150); // longer than the min interval: the follow-up may start at once
    m.current().resolve(SUMMARY);
    await flush();
    expect(m.state()).toBe('cooldown');
    m.clock.increment(0);
    expect(m.state()).toBe('fetching');
    expect(m.fetches).toHaveLength(2);
    expect(m.context().pending).toBe(false);

    m.current().resolve({ brokers: 3, topics: 3 });
    await flush();
    expect(m.state()).toBe('idle');
    expect(m.context().summary).toEqual({ brokers: 3, topics: 3 });
    m.clock.increment(10_000);
    expect(m.fetches).toHaveLength(2);
  });

  it('returns to idle without a follow-up when nothing was asked during the fetch', async () => {
    const m = start();
    m.actor.send({ type: 'refresh' });
    m.clock.increment(0);
    m.current().resolve(SUMMARY);
    await flush();
    expect(m.state()).toBe('idle');
    m.clock.increment(59_999);
    expect(m.fetches).toHaveLength(1);
  });

  it('keeps fetches minIntervalMs apart (a follow-up waits for the rest of the interval)', async () => {
    const m = start({ minIntervalMs: 100 });
    m.actor.send({ type: 'refresh' });
    m.clock.increment(0);
    m.actor.send({ type: 'refresh' });
    m.clock.increment(30);
    m.current().resolve(SUMMARY);
    await flush();
    expect(m.state()).toBe('cooldown');
    // The first fetch started at 0: the second may start at 100, 70 ms from now.
    expect(waitUntil(m.clock, () => m.state() === 'fetching')).toBe(70);
    expect(m.fetches.map((f) => f.startedAt)).toEqual([0, 100]);
  });

  it('keeps a refresh that arrives when idle minIntervalMs after the previous fetch', async () => {
    const m = start({ minIntervalMs: 250 });
    m.actor.send({ type: 'refresh' });
    m.clock.increment(0);
    m.clock.increment(20);
    m.current().resolve(SUMMARY);
    await flush();
    m.clock.increment(30);
    m.actor.send({ type: 'refresh' }); // at 50
    expect(m.state()).toBe('cooldown');
    expect(waitUntil(m.clock, () => m.fetches.length === 2)).toBe(200);
    expect(m.fetches.map((f) => f.startedAt)).toEqual([0, 250]);
    // Long after, a refresh fetches at once.
    m.current().resolve(SUMMARY);
    await flush();
    m.clock.increment(1000);
    m.actor.send({ type: 'refresh' });
    m.clock.increment(0);
    expect(m.fetches).toHaveLength(3);
  });

  it('ignores refreshes while cooling down: one fetch follows', async () => {
    const m = start({ minIntervalMs: 100 });
    m.actor.send({ type: 'refresh' });
    m.clock.increment(0);
    m.current().resolve(SUMMARY);
    await flush();
    m.actor.send({ type: 'refresh' });
    m.actor.send({ type: 'refresh' });
    m.clock.increment(100);
    expect(m.fetches).toHaveLength(2);
    m.current().resolve(SUMMARY);
    await flush();
    m.clock.increment(1000);
    expect(m.fetches).toHaveLength(2);
  });

  it('backs off after a failure, doubling up to the cap, and resets attempts on success', async () => {
    const m = start({ retryBackoffMs: 100, retryBackoffMaxMs: 500 });
    m.actor.send({ type: 'refresh' });
    m.clock.increment(0);
    const waits: number[] = [];
    for (let failure = 1; failure <= 4; failure++) {
      m.current().reject(Object.assign(new Error(`refused ${failure}`), { code: 'ERR_CONNECTION' }));
      await flush();
      expect(m.state()).toBe('backoff');
      expect(m.context().attempts).toBe(failure);
      expect(m.context().lastError).toEqual({ code: 'ERR_CONNECTION', message: `refused ${failure}` });
      const before = m.fetches.length;
      waits.push(waitUntil(m.clock, () => m.fetches.length > before));
      expect(m.state()).toBe('fetching');
    }
    expect(waits).toEqual([100, 200, 400, 500]);
    m.current().resolve(SUMMARY);
    await flush();
    expect(m.state()).toBe('idle');
    expect(m.context()).toMatchObject({ attempts: 0, summary: SUMMARY });
  });

  it('jitters the backoff with the random function it is given', async () => {
    for (const [random, wait] of [
      [0, 80],
      [1, 120],
    ] as const) {
      const m = start({ random: () => random });
      m.actor.send({ type: 'refresh' });
      m.clock.increment(0);
      m.current().reject(new Error('boom'));
      await flush();
      expect(waitUntil(m.clock, () => m.fetches.length === 2)).toBe(wait);
      vi.restoreAllMocks();
    }
  });

  it('serves refreshes asked during a failed fetch with the retry, not with one more fetch', async () => {
    const m = start();
    m.actor.send({ type: 'refresh' });
    m.clock.increment(0);
    m.actor.send({ type: 'refresh' });
    expect(m.context().pending).toBe(true);
    m.current().reject(new Error('boom'));
    await flush();
    m.clock.increment(100);
    expect(m.fetches).toHaveLength(2);
    expect(m.context().pending).toBe(false);
    m.current().resolve(SUMMARY);
    await flush();
    expect(m.state()).toBe('idle');
    m.clock.increment(10_000);
    expect(m.fetches).toHaveLength(2);
  });

  it('describes errors without a code as ERR_UNKNOWN', async () => {
    const m = start();
    m.actor.send({ type: 'refresh' });
    m.clock.increment(0);
    m.current().reject(new Error('boom'));
    await flush();
    expect(m.context().lastError).toEqual({ code: 'ERR_UNKNOWN', message: 'boom' });
    m.clock.increment(100);
    m.current().reject('plain string');
    await flush();
    expect(m.context().lastError).toEqual({ code: 'ERR_UNKNOWN', message: 'plain string' });
    expect(m.context().attempts).toBe(2);
  });

  it('does not fetch sooner when refreshes arrive during the backoff', async () => {
    const m = start();
    m.actor.send({ type: 'refresh' });
    m.clock.increment(0);
    m.current().reject(new Error('boom'));
    await flush();
    m.actor.send({ type: 'refresh' });
    m.actor.send({ type: 'refresh' });
    m.clock.increment(99);
    expect(m.fetches).toHaveLength(1);
    m.clock.increment(1);
    expect(m.fetches).toHaveLength(2);
    m.current().resolve(SUMMARY);
    await flush();
    expect(m.state()).toBe('idle');
  });

  it('refreshes by itself metadataMaxAgeMs after the last fetch finished', async () => {
    const m = start({ metadataMaxAgeMs: 10_000 });
    m.actor.send({ type: 'refresh' });
    m.clock.increment(0);
    m.clock.increment(40);
    m.current().resolve(SUMMARY);
    await flush();
    m.clock.increment(9_999);
    expect(m.fetches).toHaveLength(1);
    m.clock.increment(1);
    expect(m.state()).toBe('cooldown');
    m.clock.increment(0); // the cooldown is over already: its 0 ms timer fires "now"
    expect(m.state()).toBe('fetching');
    expect(m.fetches.map((f) => f.startedAt)).toEqual([0, 10_040]);
    // And again, every max age.
    m.current().resolve(SUMMARY);
    await flush();
    m.clock.increment(10_000);
    m.clock.increment(0);
    expect(m.fetches.map((f) => f.startedAt)).toEqual([0, 10_040, 20_040]);
  });

  it('counts the max age from the last fetch, whatever asked for it', async () => {
    const m = start({ metadataMaxAgeMs: 10_000 });
    m.actor.send({ type: 'refresh' });
    m.clock.increment(0);
    m.current().resolve(SUMMARY);
    await flush();
    m.clock.increment(6000);
    m.actor.send({ type: 'refresh' });
    m.clock.increment(0);
    m.current().resolve(SUMMARY);
    await flush();
    m.clock.increment(9_999);
    expect(m.fetches).toHaveLength(2);
    m.clock.increment(1);
    m.clock.increment(0);
    expect(m.fetches.map((f) => f.startedAt)).toEqual([0, 6000, 16_000]);
  });

  it('stops for good on stop, whatever it is doing', async () => {
    const m = start();
    m.actor.send({ type: 'refresh' });
    m.clock.increment(0);
    m.actor.send({ type: 'stop' });
    expect(m.state()).toBe('stopped');
    expect(m.actor.getSnapshot().status).toBe('done');
    // The fetch that was running no longer matters.
    m.current().resolve(SUMMARY);
    await flush();
    expect(m.context().summary).toEqual({ brokers: 0, topics: 0 });
    m.actor.send({ type: 'refresh' });
    m.clock.increment(1_000_000);
    expect(m.fetches).toHaveLength(1);

    const idle = start();
    idle.actor.send({ type: 'stop' });
    expect(idle.actor.getSnapshot().status).toBe('done');
    idle.clock.increment(1_000_000);
    expect(idle.fetches).toHaveLength(0);
  });
});
