import { describe, expect, it } from 'vitest';
import { EkafError, KafkaProtocolError } from '../../src/errors.js';
import { ProduceCall, type CallOutcome, type DeliveryReport } from '../../src/runtime/delivery.js';

function call(count: number): { call: ProduceCall; outcomes: CallOutcome[] } {
  const outcomes: CallOutcome[] = [];
  const produced = new ProduceCall('orders', count, (done, outcome) => {
    expect(done).toBe(produced);
    outcomes.push(outcome);
  });
  return { call: produced, outcomes };
}

const timestamps =
  (base: number) =>
  (i: number): number =>
    base + i;

const report = (partition: number, offset: number, timestamp: number): DeliveryReport => ({
  topic: 'orders',
  partition,
  offset,
  timestamp,
  acknowledged: true,
});

/** Whether `promise` has settled once pending callbacks ran. */
async function isSettled(promise: Promise<void>): Promise<boolean> {
  let settled = false;
  void promise.then(() => {
    settled = true;
  });
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return settled;
}

describe('ProduceCall', () => {
  it('reports every record in input order, whatever order the segments are acknowledged in', () => {
    const { call: produced, outcomes } = call(6);
    // Records 3-5 went to partition 1 and came back first; 0-2 to partition 0.
    produced.succeed(3, 3, 1, 100, timestamps(5000), true);
    expect(produced.done).toBe(false);
    expect(outcomes).toEqual([]);
    produced.succeed(0, 3, 0, 40, timestamps(1000), true);
    expect(produced.done).toBe(true);
    expect(outcomes).toEqual([
      {
        ok: true,
        reports: [
          report(0, 40, 1000),
          report(0, 41, 1001),
          report(0, 42, 1002),
          report(1, 100, 5000),
          report(1, 101, 5001),
          report(1, 102, 5002),
        ],
      },
    ]);
  });

  it('places the records of a segment that lists its indices (keyed records of one call)', () => {
    const { call: produced, outcomes } = call(5);
    // Records 1, 3 went to partition 1; 0, 2, 4 to partition 0, acknowledged second.
    produced.succeed(1, 2, 1, 70, timestamps(100), true, [1, 3]);
    produced.succeed(0, 3, 0, 40, timestamps(200), true, [0, 2, 4]);
    expect(outcomes).toEqual([
      {
        ok: true,
        reports: [
          report(0, 40, 200),
          report(1, 70, 100),
          report(0, 41, 201),
          report(1, 71, 101),
          report(0, 42, 202),
        ],
      },
    ]);
  });

  it('takes interleaved single-record segments in any order', () => {
    const { call: produced, outcomes } = call(4);
    for (const index of [2, 0, 3, 1]) produced.succeed(index, 1, index % 2, index * 10, () => index, true);
    expect(outcomes).toHaveLength(1);
    const outcome = outcomes[0];
    expect(outcome?.ok).toBe(true);
    expect(outcome?.reports.map((r) => [r?.partition, r?.offset, r?.timestamp])).toEqual([
      [0, 0, 0],
      [1, 10, 1],
      [0, 20, 2],
      [1, 30, 3],
    ]);
  });

  it('asks for timestamps by index within the segment', () => {
    const { call: produced, outcomes } = call(5);
    const asked: number[] = [];
    produced.succeed(
      2,
      3,
      0,
      7,
      (i) => {
        asked.push(i);
        return 900 + i;
      },
      true,
    );
    produced.succeed(0, 2, 0, 5, () => 1, true);
    expect(asked).toEqual([0, 1, 2]);
    expect(outcomes[0]?.reports.map((r) => r?.timestamp)).toEqual([1, 1, 900, 901, 902]);
  });

  it('reports offset -1 and acknowledged: false for records sent with acks=0', () => {
    const { call: produced, outcomes } = call(2);
    produced.succeed(0, 2, 4, 123, timestamps(10), false);
    expect(outcomes).toEqual([
      {
        ok: true,
        reports: [
          { topic: 'orders', partition: 4, offset: -1, timestamp: 10, acknowledged: false },
          { topic: 'orders', partition: 4, offset: -1, timestamp: 11, acknowledged: false },
        ],
      },
    ]);
  });

  it('fails with the first error, counting every failed record, and keeps what was delivered', () => {
    const { call: produced, outcomes } = call(6);
    const first = new KafkaProtocolError(10, 'MESSAGE_TOO_LARGE', 'too large', false);
    const second = new EkafError('ERR_DELIVERY_TIMEOUT', 'late');
    produced.succeed(0, 2, 0, 10, timestamps(0), true);
    produced.fail(1, first);
    produced.fail(2, second);
    expect(produced.done).toBe(false);
    produced.succeed(5, 1, 2, 77, timestamps(50), true);
    expect(produced.done).toBe(true);
    expect(outcomes).toEqual([
      {
        ok: false,
        error: first,
        failed: 3,
        reports: [report(0, 10, 0), report(0, 11, 1), undefined, undefined, undefined, report(2, 77, 50)],
      },
    ]);
    expect((outcomes[0] as { error: EkafError }).error).toBe(first);
  });

  it('fails when every record failed', () => {
    const { call: produced, outcomes } = call(2);
    const error = new EkafError('ERR_PRODUCER_CLOSED', 'closed');
    produced.fail(2, error);
    expect(outcomes).toEqual([{ ok: false, error, failed: 2, reports: [undefined, undefined] }]);
  });

  it('completes a failure that comes last, after successes', () => {
    const { call: produced, outcomes } = call(3);
    produced.succeed(0, 2, 0, 0, timestamps(0), true);
    const error = new EkafError('ERR_KAFKA', 'no');
    produced.fail(1, error);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ ok: false, error, failed: 1 });
  });

  it('calls onDone once, when the last record settles', () => {
    const { call: produced, outcomes } = call(3);
    produced.succeed(0, 1, 0, 0, timestamps(0), true);
    produced.succeed(1, 1, 0, 1, timestamps(0), true);
    expect(outcomes).toHaveLength(0);
    produced.succeed(2, 1, 0, 2, timestamps(0), true);
    expect(outcomes).toHaveLength(1);
  });

  it('reports the topic it was made for', () => {
    const produced = new ProduceCall('audit.log', 1, () => undefined);
    expect(produced.topic).toBe('audit.log');
    expect(produced.count).toBe(1);
  });

  describe('whenDone', () => {
    it('resolves every waiter once every record has settled, not before', async () => {
      const { call: produced } = call(3);
      const first = produced.whenDone();
      const second = produced.whenDone();
      produced.succeed(0, 2, 0, 0, timestamps(0), true);
      expect(await isSettled(first)).toBe(false);
      produced.fail(1, new EkafError('ERR_KAFKA', 'x'));
      expect(await isSettled(first)).toBe(true);
      expect(await isSettled(second)).toBe(true);
    });

    it('resolves at once when the call is already done', async () => {
      const { call: produced } = call(1);
      produced.succeed(0, 1, 0, 0, timestamps(0), true);
      expect(await isSettled(produced.whenDone())).toBe(true);
    });

    it('resolves for a failed call too (it never rejects)', async () => {
      const { call: produced } = call(1);
      const done = produced.whenDone();
      produced.fail(1, new EkafError('ERR_KAFKA', 'x'));
      await expect(done).resolves.toBeUndefined();
    });

    it('is done (and whenDone resolves at once) from within onDone', async () => {
      const inside: Promise<void>[] = [];
      const produced: ProduceCall = new ProduceCall('orders', 1, () => {
        expect(produced.done).toBe(true);
        inside.push(produced.whenDone());
      });
      produced.succeed(0, 1, 0, 0, timestamps(0), true);
      expect(inside).toHaveLength(1);
      expect(await isSettled(inside[0] ?? Promise.resolve())).toBe(true);
    });
  });
});

describe('ProduceCall offsets the broker does not give', () => {
  it('reports -1 for every record when the first offset is unknown (acks=0, a duplicate)', () => {
    const outcomes: CallOutcome[] = [];
    const call = new ProduceCall('t', 3, (_c, outcome) => outcomes.push(outcome));
    call.succeed(0, 3, 0, -1, () => 5, true);
    expect(outcomes[0]?.reports.map((r) => r?.offset)).toEqual([-1, -1, -1]);
  });
});

const reportIn = (topic: string, partition: number, offset: number, timestamp: number): DeliveryReport => ({
  topic,
  partition,
  offset,
  timestamp,
  acknowledged: true,
});

describe('ProduceCall without reports', () => {
  it('settles with no reports when nobody will read them', () => {
    const outcomes: CallOutcome[] = [];
    const call = new ProduceCall(
      't',
      2,
      (_c, outcome) => outcomes.push(outcome),
      () => false,
    );
    call.succeed(0, 2, 0, 10, () => 5, true);
    expect(outcomes).toEqual([{ ok: true, reports: [] }]);
  });

  it('asks at completion, with the outcome, whether to build them', () => {
    const asked: boolean[] = [];
    const outcomes: CallOutcome[] = [];
    const wanted = (ok: boolean): boolean => {
      asked.push(ok);
      return !ok; // reports for failed calls only (a delivery.failed listener alone)
    };
    const good = new ProduceCall('t', 1, (_c, outcome) => outcomes.push(outcome), wanted);
    good.succeed(0, 1, 0, 10, () => 5, true);
    const bad = new ProduceCall('t', 2, (_c, outcome) => outcomes.push(outcome), wanted);
    bad.succeed(0, 1, 0, 11, () => 6, true);
    const error = new EkafError('ERR_KAFKA', 'no');
    bad.fail(1, error);
    expect(asked).toEqual([true, false]);
    expect(outcomes[0]).toEqual({ ok: true, reports: [] });
    expect(outcomes[1]).toEqual({
      ok: false,
      error,
      failed: 1,
      reports: [reportIn('t', 0, 11, 6), undefined],
    });
  });
});
