import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryTimeoutError, type EkafError } from '../../src/errors.js';
import { BufferBudget } from '../../src/runtime/buffer-budget.js';
import { type CallOutcome, ProduceCall } from '../../src/runtime/delivery.js';
import type { NormalizedRecord } from '../../src/runtime/records.js';
import { Spooler, type SpoolOrigin } from '../../src/runtime/spooler.js';
import { encodeEntries } from '../../src/spool/spool-format.js';
import { Spool, type ResolvedSpoolOptions } from '../../src/spool/spool.js';

const dirs: string[] = [];
const spoolers: Spooler[] = [];
afterEach(async () => {
  // Let a read-back the spooler scheduled run before its files are closed.
  await new Promise<void>((resolve) => setImmediate(resolve));
  for (const spooler of spoolers.splice(0)) spooler.spool.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function options(dir?: string): ResolvedSpoolOptions {
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'ekaf-spooler-unit-'));
    dirs.push(dir);
  }
  return {
    dir,
    maxBytes: 1 << 20,
    segmentBytes: 64 * 1024,
    fsync: 'never',
    fsyncIntervalMs: 1000,
    mode: 'downtime',
  };
}

function records(prefix: string, count: number): NormalizedRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const value = Buffer.from(`${prefix}${i}`);
    return {
      key: null,
      value,
      keySize: 0,
      valueSize: value.length,
      headers: [],
      partition: -1,
      timestamp: 0,
      size: value.length,
    };
  });
}

interface Accepted {
  topic: string;
  values: string[];
  call: ProduceCall;
  origin: SpoolOrigin;
}

/** A Spooler over a fake runtime whose memory budget starts full: nothing is read back until `room()`. */
function harness(dir?: string) {
  const budget = new BufferBudget(10, 1 << 20);
  budget.records = 10;
  const accepted: Accepted[] = [];
  const spooler = new Spooler(options(dir), {
    budget,
    accept: (topic, recs, call, _urgent, origin) => {
      accepted.push({ topic, values: recs.map((r) => r.value?.toString() ?? ''), call, origin });
    },
    logsOf: () => [],
    warn: () => undefined,
    damaged: () => undefined,
    failed: (error) => {
      throw error;
    },
  });
  spoolers.push(spooler);
  const anonymous: ProduceCall[] = [];
  spooler.anonymousCall = (topic, count) => {
    const call = new ProduceCall(topic, count, () => undefined);
    anonymous.push(call);
    return call;
  };
  /** Frees the whole budget and waits for the read-back the spooler schedules on room. */
  const room = async (): Promise<void> => {
    budget.release(budget.records, 0);
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  return { spooler, budget, accepted, anonymous, room };
}

/** A call someone waits on: its outcome is recorded. */
function waited(topic: string, count: number) {
  const outcome: { value: CallOutcome | null } = { value: null };
  let made = 0;
  const make = (): ProduceCall => {
    made++;
    return new ProduceCall(topic, count, (_call, result) => {
      outcome.value = result;
    });
  };
  return { make, outcome, made: () => made };
}

describe('Spooler: delivery timeout of spilled calls', () => {
  it('fails a call someone waits on even behind fire-and-forget spilled records, which stay on disk', async () => {
    const { spooler, accepted, room } = harness();
    // Fire-and-forget first (nobody waits: no timeout until read back), then a call with a promise.
    spooler.spill('t', records('ff', 3), null, false, 1000);
    const call = waited('t', 2);
    spooler.spill('t', records('w', 2), call.make, false, 2000);
    spooler.spill('t', records('ff2-', 1), null, false, 2500);
    const late = waited('t', 1);
    spooler.spill('t', records('late', 1), late.make, false, 9000);

    spooler.expire(2000, new DeliveryTimeoutError(5000));

    expect(call.outcome.value?.ok).toBe(false);
    expect((call.outcome.value as { error: EkafError }).error).toBeInstanceOf(DeliveryTimeoutError);
    expect((call.outcome.value as { failed: number }).failed).toBe(2);
    expect(late.outcome.value).toBeNull();
    // The expired call's records left the spool; the fire-and-forget ones and the late call's did not.
    expect(spooler.spool.backlogRecords).toBe(5);
    expect(spooler.spool.stats().liveRecords).toBe(5);

    // Read back in order, without the expired call's records.
    await room();
    expect(accepted.map((a) => a.values)).toEqual([['ff0', 'ff1', 'ff2'], ['ff2-0'], ['late0']]);
    expect(accepted[2]?.origin).toMatchObject({ indexBase: 0, acceptedAt: 9000 });
    expect(late.made()).toBe(1);
    expect(call.made()).toBe(1);
    expect(spooler.hasBacklog).toBe(false);
  });

  it("fails a call someone waits on behind a previous producer's recovered backlog, which stays to be delivered", async () => {
    const first = options();
    const old = Spool.open(first);
    const left = records('old', 4).map((r) => ({ ...r, partition: 0 }));
    old.append(encodeEntries('t', left, 0), left.length, 0, false);
    old.close();

    const { spooler, accepted, anonymous, room } = harness(first.dir);
    expect(spooler.spool.recovery.records).toBe(4);
    const call = waited('t', 1);
    spooler.spill('t', records('new', 1), call.make, false, 1000);

    spooler.expire(1000, new DeliveryTimeoutError(120_000));

    expect((call.outcome.value as { error: EkafError } | null)?.error).toBeInstanceOf(DeliveryTimeoutError);
    expect(spooler.spool.backlogRecords).toBe(4);

    await room();
    expect(accepted.map((a) => a.values)).toEqual([['old0', 'old1', 'old2', 'old3']]);
    expect(anonymous).toHaveLength(1);
    expect(spooler.hasBacklog).toBe(false);
  });

  it('fails what is left of a partly read-back call at the head, and keeps order for what follows', async () => {
    const { spooler, budget, accepted, room } = harness();
    const a = waited('t', 4);
    spooler.spill('t', records('a', 4), a.make, false, 1000);
    spooler.spill('t', records('ff', 1), null, false, 1500);
    const b = waited('t', 1);
    spooler.spill('t', records('b', 1), b.make, false, 3000);
    // Room for two records: half of `a` is read back.
    budget.release(2, 0);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(accepted.map((x) => x.values)).toEqual([['a0', 'a1']]);

    spooler.expire(1000, new DeliveryTimeoutError(5000));
    expect(a.outcome.value).toBeNull(); // two of its records are still in memory
    expect(b.outcome.value).toBeNull();
    accepted[0]?.call.succeed(0, 2, 0, 0, () => 0, true);
    expect(a.outcome.value).toMatchObject({ ok: false, failed: 2 });

    await room();
    expect(accepted.map((x) => x.values)).toEqual([['a0', 'a1'], ['ff0'], ['b0']]);
  });

  it('does not expire records nobody waits on before they are read back', () => {
    const { spooler } = harness();
    spooler.spill('t', records('ff', 2), null, false, 0);
    spooler.expire(1_000_000, new DeliveryTimeoutError(1000));
    expect(spooler.spool.backlogRecords).toBe(2);
    expect(spooler.hasBacklog).toBe(true);
  });
});
