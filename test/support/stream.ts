import type { Producer } from '../../src/producer.js';
import type { ConsumedRecord } from '../broker/kcat.js';

/**
 * A steady stream of keyed records with global sequence numbers, produced with produceAsync
 * while a test injects faults. Every record's outcome is counted.
 */
export interface Stream {
  /** Stops producing; resolves when every accepted record is settled. */
  stop(): Promise<void>;
  accepted: number;
  acknowledged: number;
  failed: { seq: number; code: string }[];
}

export function startStream(
  producer: Producer,
  topic: string,
  options: { keys: number; perTick: number; tickMs: number },
): Stream {
  let seq = 0;
  let outstanding = 0;
  let stopped = false;
  let onIdle: (() => void) | null = null;
  const stream: Stream = {
    accepted: 0,
    acknowledged: 0,
    failed: [],
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await producer.flush();
      if (outstanding > 0) await new Promise<void>((resolve) => (onIdle = resolve));
    },
  };
  const timer = setInterval(() => {
    if (stopped) return;
    const records = [];
    for (let i = 0; i < options.perTick; i++, seq++) {
      records.push({ key: `key-${seq % options.keys}`, value: String(seq) });
    }
    const first = seq - options.perTick;
    outstanding += records.length;
    stream.accepted += records.length;
    producer.produceAsync(topic, records, (error, reports) => {
      reports.forEach((report, i) => {
        if (report !== undefined) stream.acknowledged++;
        else stream.failed.push({ seq: first + i, code: error?.code ?? 'unknown' });
      });
      outstanding -= records.length;
      if (outstanding === 0 && stopped) onIdle?.();
    });
  }, options.tickMs);
  return stream;
}

/** Checks that within each partition the sequence numbers increase with offsets; returns violations. */
export function orderViolations(records: ConsumedRecord[]): string[] {
  const last = new Map<number, number>();
  const violations: string[] = [];
  for (const record of records) {
    const seq = Number(record.value?.toString());
    const previous = last.get(record.partition) ?? -1;
    if (seq <= previous) violations.push(`partition ${record.partition}: ${seq} after ${previous}`);
    last.set(record.partition, seq);
  }
  return violations;
}
