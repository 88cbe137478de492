import { createActor, fromCallback, SimulatedClock, type AnyActorRef } from 'xstate';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  isSameLeader,
  partitionWorkerMachine,
  readyWithLeader,
  retryDelay,
  type PartitionWorkerContext,
  type PartitionWorkerInput,
} from '../../machines/partition-worker.machine.js';

/**
 * The machine alone, on a simulated clock, with the runtime's actions replaced by recorders.
 *
 * `buffering` stamps `downSince` with `Date.now()`, while delays run on the SimulatedClock. To
 * keep the two in step, `Date.now` is pointed at the simulated clock (plus a realistic epoch):
 * every `clock.increment` moves both, and `downSince` can be checked exactly.
 */
const EPOCH = 1_700_000_000_000;

afterEach(() => {
  vi.restoreAllMocks();
});

type ActionName = 'drain' | 'refreshMetadata' | 'reportUp' | 'reportDown' | 'reportStillDown';

function start(input: Partial<PartitionWorkerInput> = {}) {
  const clock = new SimulatedClock();
  vi.spyOn(Date, 'now').mockImplementation(() => EPOCH + clock.now());
  /** Every provided action call, in order, with the context it saw. */
  const calls: { action: ActionName; context: PartitionWorkerContext }[] = [];
  const record =
    (action: ActionName) =>
    ({ context }: { context: PartitionWorkerContext }): void => {
      calls.push({ action, context });
    };
  const logic = partitionWorkerMachine.provide({
    actions: {
      drain: record('drain'),
      refreshMetadata: record('refreshMetadata'),
      reportUp: record('reportUp'),
      reportDown: record('reportDown'),
      reportStillDown: record('reportStillDown'),
    },
  });
  const actor = createActor(logic, {
    clock,
    input: {
      topic: 'orders',
      partition: 3,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 1000,
      stillDownIntervalMs: 5000,
      random: () => 0.5, // no jitter
      ...input,
    },
  });
  actor.start();
  /**
   * Stand-ins for the broker-connection actors the worker follows: each answers `follow` with
   * `conn.up` when its connection is said to be ready, as the real one does.
   */
  const brokers = new Map<number, { ref: AnyActorRef; up: boolean; heard: string[]; resyncs: number }>();
  const leader = (leaderId: number, connected: boolean) => {
    let broker = brokers.get(leaderId);
    if (broker === undefined) {
      const entry = {
        ref: undefined as unknown as AnyActorRef,
        up: connected,
        heard: [] as string[],
        resyncs: 0,
      };
      entry.ref = createActor(
        fromCallback<{ type: string; worker?: AnyActorRef; resync?: boolean }>(({ receive }) => {
          receive((event) => {
            entry.heard.push(event.type);
            if (event.type === 'follow') entry.resyncs += event.resync === true ? 1 : 0;
            if (event.type === 'follow' && entry.up) event.worker?.send({ type: 'conn.up' });
          });
        }),
      ).start();
      brokers.set(leaderId, entry);
      broker = entry;
    }
    broker.up = connected;
    return { type: 'leader' as const, leaderId, broker: broker.ref };
  };
  const state = (): string => {
    const value = actor.getSnapshot().value;
    return typeof value === 'string' ? value : Object.keys(value).join();
  };
  const context = (): PartitionWorkerContext => actor.getSnapshot().context;
  const count = (action: ActionName): number => calls.filter((c) => c.action === action).length;
  /** The actions called since the last time this was asked. */
  let seen = 0;
  const newCalls = (): ActionName[] => {
    const fresh = calls.slice(seen).map((c) => c.action);
    seen = calls.length;
    return fresh;
  };
  return { actor, clock, calls, state, context, count, newCalls, leader, brokers };
}

const DOWN = { code: 'ERR_CONNECTION_CLOSED', message: 'gone' };
const NOT_LEADER = { code: 'NOT_LEADER_OR_FOLLOWER', message: 'not the leader' };

/** A worker that is ready with leader 1. */
function ready(input: Partial<PartitionWorkerInput> = {}) {
  const w = start(input);
  w.actor.send(w.leader(1, true));
  expect(w.state()).toBe('ready');
  w.newCalls();
  return w;
}

/** A worker that went down from ready (conn.down) at EPOCH + `at`. */
function buffering(at = 0, input: Partial<PartitionWorkerInput> = {}) {
  const w = ready(input);
  w.clock.increment(at);
  w.actor.send({ type: 'conn.down', error: DOWN });
  expect(w.state()).toBe('buffering');
  w.newCalls();
  return w;
}

describe('retryDelay', () => {
  const context = (attempts: number, random: number): PartitionWorkerContext => ({
    topic: 't',
    partition: 0,
    leaderId: 1,
    broker: null,
    connected: true,
    attempts,
    retrySoonMs: null,
    batchesFailed: 0,
    lastBatchError: null,
    epochBumps: 0,
    lastError: null,
    downSince: null,
    retryBackoffMs: 100,
    retryBackoffMaxMs: 1000,
    stillDownIntervalMs: 5000,
    random: () => random,
  });

  it('doubles from retryBackoffMs up to retryBackoffMaxMs', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 20].map((n) => retryDelay(context(n, 0.5)))).toEqual([
      100, 100, 200, 400, 800, 1000, 1000, 1000,
    ]);
  });

  it('adds ±20% jitter, around the capped delay', () => {
    expect(retryDelay(context(1, 0))).toBe(80);
    expect(retryDelay(context(1, 1))).toBe(120);
    expect(retryDelay(context(3, 0.25))).toBe(360);
    expect(retryDelay(context(10, 0))).toBe(800);
    expect(retryDelay(context(10, 1))).toBe(1200);
  });

  it('takes the fixed delay a retriable failure asked for (CONCURRENT_TRANSACTIONS) instead', () => {
    expect(retryDelay({ ...context(4, 1), retrySoonMs: 20 })).toBe(20);
  });
});

describe('partition-worker machine', () => {
  it('starts connecting, with no leader, and calls nothing', () => {
    const w = start();
    expect(w.state()).toBe('connecting');
    expect(w.context()).toMatchObject({
      topic: 'orders',
      partition: 3,
      leaderId: -1,
      connected: false,
      attempts: 0,
      lastError: null,
      downSince: null,
    });
    expect(w.calls).toEqual([]);
  });

  describe('connecting', () => {
    it('→ ready on a leader whose connection is up: reports up, then drains', () => {
      const w = start();
      w.actor.send(w.leader(2, true));
      expect(w.state()).toBe('ready');
      expect(w.context()).toMatchObject({ leaderId: 2, connected: true });
      expect(w.newCalls()).toEqual(['reportUp', 'drain']);
      // The first time up, there was no downtime.
      expect(w.calls[0]?.context.downSince).toBeNull();
    });

    it('waits for the connection of a leader that is not connected, then → ready on conn.up', () => {
      const w = start();
      w.actor.send(w.leader(2, false));
      expect(w.state()).toBe('connecting');
      expect(w.context()).toMatchObject({ leaderId: 2, connected: false });
      expect(w.calls).toEqual([]);
      w.actor.send({ type: 'conn.up' });
      expect(w.state()).toBe('ready');
      expect(w.context().connected).toBe(true);
      expect(w.newCalls()).toEqual(['reportUp', 'drain']);
    });

    it('ignores conn.up while it has no leader', () => {
      const w = start();
      w.actor.send({ type: 'conn.up' });
      expect(w.state()).toBe('connecting');
      expect(w.context().connected).toBe(false);
      expect(w.calls).toEqual([]);
    });

    it('follows a leader change while connecting', () => {
      const w = start();
      w.actor.send(w.leader(2, false));
      w.actor.send(w.leader(5, false));
      expect(w.context().leaderId).toBe(5);
      // Broker 5's connection becomes ready: its actor tells the workers that follow it.
      w.actor.send({ type: 'conn.up' });
      expect(w.state()).toBe('ready');
      expect(w.brokers.get(2)?.heard).toEqual(['follow', 'unfollow']);
      expect(w.brokers.get(5)?.heard).toEqual(['follow']);
    });

    it('reports still_down (and refreshes metadata) every stillDownIntervalMs when connecting after a downtime', () => {
      const w = buffering(0, { stillDownIntervalMs: 1000 });
      w.clock.increment(400);
      // The partition moved to broker 2, whose connection is not ready yet.
      w.actor.send(w.leader(2, false));
      expect(w.state()).toBe('connecting');
      w.newCalls();
      // The interval restarts on entering connecting.
      w.clock.increment(999);
      expect(w.newCalls()).toEqual([]);
      w.clock.increment(1);
      expect(w.newCalls()).toEqual(['reportStillDown', 'refreshMetadata']);
      w.clock.increment(1000);
      w.clock.increment(1000);
      expect(w.newCalls()).toEqual([
        'reportStillDown',
        'refreshMetadata',
        'reportStillDown',
        'refreshMetadata',
      ]);
      expect(w.state()).toBe('connecting');
      const reports = w.calls.filter((c) => c.action === 'reportStillDown');
      expect(reports.map((c) => c.context.downSince)).toEqual([EPOCH, EPOCH, EPOCH]);
      // Leader updates while connecting do not restart the interval.
      w.clock.increment(500);
      w.actor.send(w.leader(1, false));
      w.clock.increment(500);
      expect(w.newCalls()).toEqual(['reportStillDown', 'refreshMetadata']);
      // Up again: no more reports.
      w.actor.send({ type: 'conn.up' });
      w.newCalls();
      for (let i = 0; i < 3; i++) w.clock.increment(1000);
      expect(w.newCalls()).toEqual([]);
    });

    it('reports nothing while connecting without a downtime (first connection, or a leader move)', () => {
      const first = start({ stillDownIntervalMs: 1000 });
      first.actor.send(first.leader(2, false));
      for (let i = 0; i < 3; i++) first.clock.increment(1000);
      expect(first.calls).toEqual([]);
      expect(first.state()).toBe('connecting');

      const moved = ready({ stillDownIntervalMs: 1000 });
      moved.actor.send(moved.leader(4, false));
      for (let i = 0; i < 3; i++) moved.clock.increment(1000);
      expect(moved.newCalls()).toEqual([]);
      expect(moved.state()).toBe('connecting');
    });

    it('→ buffering on conn.down or leader.lost', () => {
      const down = start();
      down.actor.send(down.leader(2, false));
      down.actor.send({ type: 'conn.down', error: DOWN });
      expect(down.state()).toBe('buffering');
      expect(down.context()).toMatchObject({ lastError: DOWN, connected: false, leaderId: 2 });
      expect(down.newCalls()).toEqual(['reportDown', 'refreshMetadata']);

      const lost = start();
      lost.actor.send(lost.leader(2, false));
      lost.actor.send({ type: 'leader.lost' });
      expect(lost.state()).toBe('buffering');
      expect(lost.context()).toMatchObject({ leaderId: -1, connected: false });
    });
  });

  describe('ready', () => {
    it('→ buffering on conn.down, with the error, the time and a metadata refresh', () => {
      const w = buffering(1234);
      expect(w.context()).toMatchObject({ connected: false, lastError: DOWN, downSince: EPOCH + 1234 });
      // reportDown sees the error it reports.
      const down = w.calls.find((c) => c.action === 'reportDown');
      expect(down?.context.lastError).toEqual(DOWN);
      expect(down?.context.downSince).toBe(EPOCH + 1234);
      expect(w.count('refreshMetadata')).toBe(1);
      expect(w.count('reportDown')).toBe(1);
    });

    it('→ buffering on leader.lost, forgetting the leader', () => {
      const w = ready();
      w.clock.increment(10);
      w.actor.send({ type: 'leader.lost' });
      expect(w.state()).toBe('buffering');
      expect(w.context()).toMatchObject({ leaderId: -1, connected: false, downSince: EPOCH + 10 });
      expect(w.newCalls()).toEqual(['reportDown', 'refreshMetadata']);
    });

    it('ignores the same leader, still connected (metadata refreshes are frequent)', () => {
      const w = ready();
      w.actor.send(w.leader(1, true));
      expect(w.state()).toBe('ready');
      expect(w.newCalls()).toEqual([]);
    });

    it('re-enters ready for a new connected leader: reports up and drains again', () => {
      const w = ready();
      w.actor.send(w.leader(4, true));
      expect(w.state()).toBe('ready');
      expect(w.context().leaderId).toBe(4);
      expect(w.newCalls()).toEqual(['reportUp', 'drain']);
    });

    it('→ connecting for a new leader whose connection is not up; the same leader changes nothing', () => {
      const moved = ready();
      moved.actor.send(moved.leader(4, false));
      expect(moved.state()).toBe('connecting');
      expect(moved.context()).toMatchObject({ leaderId: 4, connected: false });
      expect(moved.newCalls()).toEqual([]);

      // Metadata names the leader it follows: its connection state is the broker actor's to
      // tell (conn.down), not metadata's.
      const same = ready();
      same.actor.send(same.leader(1, false));
      expect(same.state()).toBe('ready');
      expect(same.brokers.get(1)?.heard).toEqual(['follow']);
    });

    it('counts retriable failures, and resets the count on an acknowledgement', () => {
      const w = ready();
      w.actor.send({ type: 'produce.acked' });
      expect(w.context().attempts).toBe(0);
      w.actor.send({ type: 'produce.retriable', error: NOT_LEADER });
      expect(w.context()).toMatchObject({ attempts: 1, lastError: NOT_LEADER });
      w.clock.increment(100);
      expect(w.state()).toBe('ready');
      expect(w.context().attempts).toBe(1);
      w.actor.send({ type: 'produce.acked' });
      expect(w.state()).toBe('ready');
      expect(w.context().attempts).toBe(0);
      expect(w.newCalls()).toEqual(['refreshMetadata', 'reportUp', 'drain']);
    });
  });

  describe('retrying', () => {
    it('→ retrying on produce.retriable: refreshes metadata, then → ready after the backoff', () => {
      const w = ready();
      w.actor.send({ type: 'produce.retriable', error: NOT_LEADER });
      expect(w.state()).toBe('retrying');
      expect(w.newCalls()).toEqual(['refreshMetadata']);
      w.clock.increment(99);
      expect(w.state()).toBe('retrying');
      w.clock.increment(1);
      expect(w.state()).toBe('ready');
      expect(w.newCalls()).toEqual(['reportUp', 'drain']);
    });

    it('backs off longer after each consecutive failure, up to the cap', () => {
      const w = ready();
      const waited: number[] = [];
      for (let failure = 1; failure <= 6; failure++) {
        w.actor.send({ type: 'produce.retriable', error: NOT_LEADER });
        let ms = 0;
        while (w.state() === 'retrying') {
          w.clock.increment(1);
          ms++;
        }
        waited.push(ms);
      }
      expect(waited).toEqual([100, 200, 400, 800, 1000, 1000]);
      expect(w.context().attempts).toBe(6);
      // One acknowledgement, and the next failure starts from the base delay again.
      w.actor.send({ type: 'produce.acked' });
      w.actor.send({ type: 'produce.retriable', error: NOT_LEADER });
      w.clock.increment(99);
      expect(w.state()).toBe('retrying');
      w.clock.increment(1);
      expect(w.state()).toBe('ready');
    });

    it('jitters the backoff with the random function it is given', () => {
      const low = ready({ random: () => 0 });
      low.actor.send({ type: 'produce.retriable', error: NOT_LEADER });
      low.clock.increment(79);
      expect(low.state()).toBe('retrying');
      low.clock.increment(1);
      expect(low.state()).toBe('ready');

      const high = ready({ random: () => 1 });
      high.actor.send({ type: 'produce.retriable', error: NOT_LEADER });
      high.clock.increment(119);
      expect(high.state()).toBe('retrying');
      high.clock.increment(1);
      expect(high.state()).toBe('ready');
    });

    it('→ connecting after the backoff when the leader is not connected, then ready on conn.up', () => {
      const w = ready();
      w.actor.send({ type: 'produce.retriable', error: NOT_LEADER });
      // The refreshed metadata names a new leader, not connected yet.
      w.actor.send(w.leader(2, false));
      expect(w.state()).toBe('retrying');
      expect(w.context()).toMatchObject({ leaderId: 2, connected: false });
      w.clock.increment(100);
      expect(w.state()).toBe('connecting');
      w.actor.send({ type: 'conn.up' });
      expect(w.state()).toBe('ready');
    });

    it('→ ready after the backoff when the connection came up while retrying', () => {
      const w = ready();
      w.actor.send({ type: 'produce.retriable', error: NOT_LEADER });
      w.actor.send(w.leader(2, false));
      w.actor.send({ type: 'conn.up' });
      expect(w.state()).toBe('retrying');
      expect(w.context().connected).toBe(true);
      w.clock.increment(100);
      expect(w.state()).toBe('ready');
      expect(w.context().leaderId).toBe(2);
    });

    it('keeps the last error of further failures without restarting the backoff or counting them', () => {
      const w = ready();
      w.actor.send({ type: 'produce.retriable', error: NOT_LEADER });
      w.clock.increment(50);
      const other = { code: 'REQUEST_TIMED_OUT', message: 'late' };
      w.actor.send({ type: 'produce.retriable', error: other });
      expect(w.context()).toMatchObject({ attempts: 1, lastError: other });
      expect(w.count('refreshMetadata')).toBe(1);
      w.clock.increment(50);
      expect(w.state()).toBe('ready');
    });

    it('→ buffering on conn.down or leader.lost, and no longer leaves for ready on the timer', () => {
      const down = ready();
      down.actor.send({ type: 'produce.retriable', error: NOT_LEADER });
      down.actor.send({ type: 'conn.down', error: DOWN });
      expect(down.state()).toBe('buffering');
      expect(down.context()).toMatchObject({ connected: false, lastError: DOWN });
      down.clock.increment(1000);
      expect(down.state()).toBe('buffering');

      const lost = ready();
      lost.actor.send({ type: 'produce.retriable', error: NOT_LEADER });
      lost.actor.send({ type: 'leader.lost' });
      expect(lost.state()).toBe('buffering');
      lost.clock.increment(1000);
      expect(lost.state()).toBe('buffering');
    });
  });

  describe('buffering', () => {
    it('→ ready on a connected leader: clears downSince after reportUp saw it', () => {
      const w = buffering(500);
      w.clock.increment(2500);
      w.actor.send(w.leader(3, true));
      expect(w.state()).toBe('ready');
      expect(w.context()).toMatchObject({ leaderId: 3, connected: true, downSince: null });
      expect(w.newCalls()).toEqual(['reportUp', 'drain']);
      // reportUp runs before downSince is cleared: the runtime computes time_down from it.
      const up = w.calls.filter((c) => c.action === 'reportUp').at(-1);
      expect(up?.context.downSince).toBe(EPOCH + 500);
      expect(Date.now() - (up?.context.downSince ?? 0)).toBe(2500);
    });

    it('→ ready on conn.up when the leader is still known', () => {
      const w = buffering();
      w.actor.send({ type: 'conn.up' });
      expect(w.state()).toBe('ready');
      expect(w.context()).toMatchObject({ leaderId: 1, connected: true, downSince: null });
    });

    it('ignores conn.up when the leader was lost', () => {
      const w = ready();
      w.actor.send({ type: 'leader.lost' });
      w.actor.send({ type: 'conn.up' });
      expect(w.state()).toBe('buffering');
    });

    it('→ connecting on a leader that is not connected, keeping downSince until ready', () => {
      const w = buffering(100);
      w.clock.increment(200);
      w.actor.send(w.leader(2, false));
      expect(w.state()).toBe('connecting');
      expect(w.context()).toMatchObject({ leaderId: 2, downSince: EPOCH + 100 });
      // Down again before it was ever up: still down since the first time.
      w.clock.increment(300);
      w.actor.send({ type: 'conn.down', error: DOWN });
      expect(w.state()).toBe('buffering');
      expect(w.context().downSince).toBe(EPOCH + 100);
      // Broker 2 tells its followers its connection is ready.
      w.actor.send({ type: 'conn.up' });
      expect(w.context().downSince).toBeNull();
      // The next outage starts a new downtime.
      w.clock.increment(1000);
      w.actor.send({ type: 'conn.down', error: DOWN });
      expect(w.context().downSince).toBe(EPOCH + 1600);
    });

    it('reports still_down (and refreshes metadata) every stillDownIntervalMs while down', () => {
      const w = buffering(0, { stillDownIntervalMs: 1000 });
      w.clock.increment(999);
      expect(w.count('reportStillDown')).toBe(0);
      w.clock.increment(1);
      expect(w.newCalls()).toEqual(['reportStillDown', 'refreshMetadata']);
      for (let i = 0; i < 3; i++) w.clock.increment(1000);
      expect(w.count('reportStillDown')).toBe(4);
      expect(w.count('refreshMetadata')).toBe(1 + 4);
      // downSince does not move while it stays down.
      expect(w.calls.filter((c) => c.action === 'reportStillDown').map((c) => c.context.downSince)).toEqual([
        EPOCH,
        EPOCH,
        EPOCH,
        EPOCH,
      ]);
      // reportDown was called once, on the way in.
      expect(w.count('reportDown')).toBe(1);
    });

    it('stops reporting still_down once it leaves buffering', () => {
      const w = buffering(0, { stillDownIntervalMs: 1000 });
      w.clock.increment(1000);
      w.actor.send({ type: 'conn.up' });
      expect(w.state()).toBe('ready');
      w.newCalls();
      for (let i = 0; i < 5; i++) w.clock.increment(1000);
      expect(w.newCalls()).toEqual([]);
    });

    it('stays in buffering on leader.lost without reporting down again or restarting still_down', () => {
      const w = buffering(0, { stillDownIntervalMs: 1000 });
      w.clock.increment(600);
      w.actor.send({ type: 'leader.lost' });
      expect(w.state()).toBe('buffering');
      expect(w.context().leaderId).toBe(-1);
      expect(w.newCalls()).toEqual([]);
      w.clock.increment(400);
      expect(w.count('reportStillDown')).toBe(1);
    });
  });

  it('goes back to buffering on leader.lost from every state', () => {
    const fromConnecting = start();
    fromConnecting.actor.send({ type: 'leader.lost' });
    expect(fromConnecting.state()).toBe('buffering');

    const fromReady = ready();
    fromReady.actor.send({ type: 'leader.lost' });
    expect(fromReady.state()).toBe('buffering');

    const fromRetrying = ready();
    fromRetrying.actor.send({ type: 'produce.retriable', error: NOT_LEADER });
    fromRetrying.actor.send({ type: 'leader.lost' });
    expect(fromRetrying.state()).toBe('buffering');
    expect(fromRetrying.context()).toMatchObject({ leaderId: -1, connected: false });
  });

  it('replays a full outage: up, down, still down, leader back, up', () => {
    const w = start({ stillDownIntervalMs: 1000 });
    w.actor.send(w.leader(1, false));
    w.actor.send({ type: 'conn.up' });
    w.clock.increment(100);
    w.actor.send({ type: 'conn.down', error: DOWN });
    // One interval at a time: a SimulatedClock jump fires each pending timer once, at its end.
    w.clock.increment(1000);
    w.clock.increment(1000);
    w.actor.send(w.leader(2, true));
    expect(w.calls.map((c) => c.action)).toEqual([
      'reportUp',
      'drain',
      'reportDown',
      'refreshMetadata',
      'reportStillDown',
      'refreshMetadata',
      'reportStillDown',
      'refreshMetadata',
      'reportUp',
      'drain',
    ]);
    expect(w.context()).toMatchObject({ leaderId: 2, connected: true, downSince: null, lastError: DOWN });
  });
});

describe('partition-worker machine: talking to its broker actor', () => {
  it('follows its leader, leaves it on a move or when the leader is lost', () => {
    const w = ready();
    w.actor.send(w.leader(2, true));
    expect(w.state()).toBe('ready');
    expect(w.context()).toMatchObject({ leaderId: 2, connected: true });
    expect(w.brokers.get(1)?.heard).toEqual(['follow', 'unfollow']);
    w.actor.send({ type: 'leader.lost' });
    expect(w.state()).toBe('buffering');
    expect(w.context()).toMatchObject({ leaderId: -1, broker: null });
    expect(w.brokers.get(2)?.heard).toEqual(['follow', 'unfollow']);
  });

  it('counts batches failed for good and epoch bumps, in any state, without leaving it', () => {
    const w = ready();
    const REFUSED = { code: 'INVALID_RECORD', message: 'bad record' };
    w.actor.send({ type: 'produce.failed', error: REFUSED });
    w.actor.send({ type: 'epoch.bumped', producerId: 7, producerEpoch: 1 });
    expect(w.state()).toBe('ready');
    expect(w.context()).toMatchObject({ batchesFailed: 1, epochBumps: 1, lastBatchError: REFUSED });
    w.actor.send({ type: 'conn.down', error: DOWN });
    w.actor.send({ type: 'produce.failed', error: REFUSED });
    expect(w.state()).toBe('buffering');
    expect(w.context().batchesFailed).toBe(2);
  });

  it('fails loudly when the runtime did not provide an action', () => {
    const errors: unknown[] = [];
    const actor = createActor(partitionWorkerMachine, {
      input: { topic: 't', partition: 0, retryBackoffMs: 1, retryBackoffMaxMs: 1, stillDownIntervalMs: 1000 },
    });
    actor.subscribe({ error: (error) => errors.push(error) });
    actor.start();
    // buffering's entry runs reportDown, which nobody provided.
    actor.send({ type: 'leader.lost' });
    expect(String(errors[0])).toContain('action "reportDown" was not provided');
  });

  it('asks its broker actor again on each metadata answer naming the leader it waits for', () => {
    const w = buffering(0);
    // Its broker reconnected, but suppose the worker missed conn.up: the next metadata answer
    // naming the same leader has it ask again, and the broker actor answers.
    const broker = w.brokers.get(1);
    if (broker === undefined) throw new Error('no broker 1');
    broker.up = true;
    w.actor.send(w.leader(1, true));
    expect(w.state()).toBe('ready');
    expect(broker.heard).toEqual(['follow', 'follow']);
    // Ready: the same leader again is no event for the broker.
    w.actor.send(w.leader(1, true));
    expect(broker.heard).toEqual(['follow', 'follow']);
  });
});

describe('partition-worker machine: a worker born at rest', () => {
  const input: PartitionWorkerInput = {
    topic: 'orders',
    partition: 3,
    retryBackoffMs: 100,
    retryBackoffMaxMs: 1000,
    stillDownIntervalMs: 5000,
    random: () => 0.5,
  };

  it('is where the machine goes on a leader whose connection is up (connecting -> ready)', () => {
    const w = start(input);
    const leader = w.leader(2, true);
    w.actor.send(leader);
    expect(w.state()).toBe('ready');
    const born = readyWithLeader(input, 2, leader.broker);
    expect(born.value).toBe(w.state());
    expect(born.context).toEqual(w.context());
  });

  it('is not woken by the leader it follows already, and is by any other', () => {
    const w = start(input);
    const leader = w.leader(2, true);
    const { context } = readyWithLeader(input, 2, leader.broker);
    expect(isSameLeader(context, leader)).toBe(true);
    expect(isSameLeader(context, w.leader(3, true))).toBe(false);
    // The same id behind another broker actor (restarted, or moved): follow it anew.
    expect(isSameLeader(context, { ...leader, broker: w.leader(4, true).broker })).toBe(false);
    expect(isSameLeader(context, { type: 'conn.down', error: DOWN })).toBe(false);
  });
});

describe('partition-worker machine: back from rest', () => {
  it('follows its broker again with resync, and goes down if told the connection is down', () => {
    const w = ready();
    const broker = w.brokers.get(1);
    w.actor.send({ type: 'resumed' });
    expect(broker?.heard.at(-1)).toBe('follow');
    expect(broker?.resyncs).toBe(1);
    expect(w.state()).toBe('ready');
    // What the broker answers a resync while its connection is down.
    w.actor.send({ type: 'conn.down', error: DOWN });
    expect(w.state()).toBe('buffering');
  });
});

describe('partition-worker machine: timers', () => {
  it('holds no timer while connecting for the first time, nor once ready', () => {
    const clock = new SimulatedClock();
    const setTimeout = vi.spyOn(clock, 'setTimeout');
    const noop = (): void => undefined;
    const actor = createActor(
      partitionWorkerMachine.provide({
        actions: {
          drain: noop,
          refreshMetadata: noop,
          reportUp: noop,
          reportDown: noop,
          reportStillDown: noop,
        },
      }),
      {
        clock,
        input: {
          topic: 't',
          partition: 0,
          retryBackoffMs: 100,
          retryBackoffMaxMs: 1000,
          stillDownIntervalMs: 5000,
        },
      },
    );
    actor.start();
    expect(actor.getSnapshot().value).toEqual({ connecting: 'waiting' });
    expect(setTimeout).not.toHaveBeenCalled();
    actor.send({ type: 'conn.up' }); // no leader yet: stays
    expect(setTimeout).not.toHaveBeenCalled();
  });

  it('reports still_down on a timer while connecting after a downtime', () => {
    const w = buffering(0);
    const setTimeout = vi.spyOn(w.clock, 'setTimeout');
    w.actor.send(w.leader(2, false));
    expect(w.actor.getSnapshot().value).toEqual({ connecting: 'stillDown' });
    expect(setTimeout).toHaveBeenCalledTimes(1);
  });
});
