import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EkafError } from '../../src/errors.js';
import { createProducer, type Producer } from '../../src/producer.js';
import { ENTRY_FRAMING_SIZE, SEGMENT_HEADER_SIZE } from '../../src/spool/spool-format.js';
import { useMockCluster, useProducers } from '../support/cluster-fixture.js';
import { readTopic } from '../broker/kcat.js';
import { seeded } from '../support/seeded.js';

const child = fileURLToPath(new URL('../support/spool-child.ts', import.meta.url));

/** Where the SIGKILLs fall; EKAF_SPOOL_SEED=<n> replays another. */
const SEED = Number(process.env.EKAF_SPOOL_SEED ?? 20261202);

/**
 * The durable spool against the librdkafka 2.12 mock: a producer process killed with SIGKILL
 * loses nothing it accepted, and a new producer on the same directory delivers it; damage in a
 * spool file is skipped with a warning and everything before it is delivered.
 */
describe('durable spool (librdkafka 2.12 mock)', () => {
  const random = seeded(SEED);
  const dirs: string[] = [];
  beforeAll(() => {
    console.log(`durable spool: seed ${SEED}`);
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const cluster = useMockCluster({
    peer: '2.12',
    brokers: 3,
    topics: ['downtime', 'midstream', 'always', 'damaged', 'full', 'calls', 'inspect', 'expiry'].map(
      (name) => ({
        name,
        partitions: 3,
      }),
    ),
  });
  const make = useProducers(cluster, { retryBackoffMs: 50, retryBackoffMaxMs: 200 }, { closeTimeoutMs: 200 });
  // Registered after the producers' fixture, so run before it: brokers back before closing.
  afterEach(async () => {
    await cluster().setRtt(-1, 0);
    await cluster().brokerUp(-1);
  });

  const spoolDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'ekaf-spool-'));
    dirs.push(dir);
    return dir;
  };
  const open = (dir: string, extra: object = {}): Producer => {
    const producer = make({ spool: { dir }, ...extra });
    producer.on('error', () => undefined);
    return producer;
  };

  /** Runs the child producer until `stop` says so from its output, then SIGKILLs it. */
  async function runAndKill(
    env: Record<string, string>,
    stop: (accepted: number, line: string) => boolean,
  ): Promise<number> {
    const proc = spawn(process.execPath, ['--import', 'tsx', child], {
      env: { ...process.env, BROKERS: cluster().bootstrap, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(proc, 'exit');
    let accepted = 0;
    // Asked on every line, and every 50 ms (a child that printed `done` prints nothing more).
    const lines = createInterface({ input: proc.stdout });
    const poll = setInterval(() => {
      if (stop(accepted, '')) lines.close();
    }, 50);
    try {
      for await (const line of lines) {
        if (line.startsWith('accepted ')) accepted = Number(line.slice('accepted '.length));
        if (stop(accepted, line)) break;
      }
    } finally {
      clearInterval(poll);
      proc.kill('SIGKILL');
      await exited;
    }
    if (accepted === 0) throw new Error(`the child accepted nothing: ${stderr}`);
    return accepted;
  }

  /** Values in partition order, and how many first arrivals came after a later value of their key. */
  async function readBack(topic: string): Promise<{ values: number[]; outOfOrder: number }> {
    const records = await readTopic(cluster().bootstrap, topic);
    const last = new Map<string, number>();
    const seen = new Set<number>();
    let outOfOrder = 0;
    const values: number[] = [];
    for (const record of records) {
      const key = record.key?.toString() ?? '';
      const value = Number(record.value?.toString());
      values.push(value);
      // Across a crash a record may come again (at least once): order is that of first arrivals.
      if (seen.has(value)) continue;
      seen.add(value);
      if ((last.get(key) ?? -1) > value) outOfOrder++;
      last.set(key, value);
    }
    return { values, outOfOrder };
  }

  it("mode 'downtime': every broker down, SIGKILL after 20 000 records accepted; a new process delivers all, in order per key", async () => {
    const dir = spoolDir();
    await cluster().brokerDown(-1);
    const accepted = await runAndKill(
      { SPOOL_DIR: dir, MODE: 'downtime', TOPIC: 'downtime', COUNT: '20000', MAX_BUFFERED: '2000' },
      (_, line) => line === 'done',
    );
    expect(accepted).toBe(20_000);
    // The killed process left its lock behind: the new one takes it over.
    expect(readdirSync(dir)).toContain('lock');
    await cluster().brokerUp(-1);

    const recovered: number[] = [];
    const producer = open(dir);
    producer.on('spool.recovered', ({ records }) => recovered.push(records));
    await new Promise((resolve) => setImmediate(resolve));
    await producer.flush();
    expect(recovered).toEqual([20_000]);
    expect(producer.metrics().spool).toMatchObject({ liveRecords: 0, backlogRecords: 0, segments: 0 });

    const { values, outOfOrder } = await readBack('downtime');
    expect(new Set(values).size).toBe(20_000);
    expect(values.length).toBe(20_000); // nothing was acknowledged before the crash: no duplicate
    expect(outOfOrder).toBe(0);
  });

  it("mode 'downtime': brokers go down mid-stream, SIGKILL as worker.down is emitted; what was in memory unacknowledged was spooled too", async () => {
    const dir = spoolDir();
    let slowed: Promise<void> | null = null;
    let outage: Promise<void> | null = null;
    const accepted = await runAndKill(
      { SPOOL_DIR: dir, MODE: 'downtime', TOPIC: 'midstream', COUNT: '150000', PER_CALL: '100' },
      (n, line) => {
        // Everything is up at first: records go to memory only. Slow answers then keep the
        // last ones unacknowledged when the brokers go: the producer must write them to the
        // spool when its workers go down, before the records that come after them.
        if (slowed === null && n >= 5_000) slowed = cluster().setRtt(-1, 400);
        if (outage === null && n >= 20_000) {
          outage = (slowed ?? Promise.resolve()).then(() => cluster().brokerDown(-1));
        }
        // Killed the moment the producer tells of a worker down, however loaded the machine:
        // what it held is on disk by then (worker.down comes after the catch-up), and what it
        // accepts after is written ahead.
        return line === 'down';
      },
    );
    // Assigned in the callback above (TypeScript cannot see that).
    await (outage as Promise<void> | null);
    await cluster().setRtt(-1, 0);
    await cluster().brokerUp(-1);
    const producer = open(dir);
    let recovered = 0;
    producer.on('spool.recovered', ({ records }) => (recovered = records));
    await new Promise((resolve) => setImmediate(resolve));
    await producer.flush();

    const { values, outOfOrder } = await readBack('midstream');
    const present = new Set(values);
    const missing = Array.from({ length: accepted }, (_, i) => i).filter((i) => !present.has(i));
    console.log(
      `spool 'downtime' mid-stream: ${accepted} accepted, recovered ${recovered}, ` +
        `${values.length} in Kafka, ${values.length - present.size} duplicates, ${missing.length} missing`,
    );
    expect(recovered).toBeGreaterThan(0);
    expect(missing).toEqual([]);
    expect(outOfOrder).toBe(0);
  });

  it("mode 'always': SIGKILL at a seeded moment while brokers are up; every accepted record is in Kafka", async () => {
    const dir = spoolDir();
    const killAt = 2000 + Math.floor(random() * 20_000);
    const accepted = await runAndKill(
      { SPOOL_DIR: dir, MODE: 'always', TOPIC: 'always', COUNT: '1000000', PER_CALL: '20' },
      (n) => n >= killAt,
    );
    const producer = open(dir);
    let recovered = 0;
    producer.on('spool.recovered', ({ records }) => (recovered = records));
    await new Promise((resolve) => setImmediate(resolve));
    await producer.flush();

    const { values, outOfOrder } = await readBack('always');
    const present = new Set(values);
    const missing = Array.from({ length: accepted }, (_, i) => i).filter((i) => !present.has(i));
    const duplicates = values.length - present.size;
    console.log(
      `spool 'always': killed after ${accepted} accepted (at >= ${killAt}, seed ${SEED}); recovered ${recovered}, ` +
        `${values.length} in Kafka, ${duplicates} duplicates, ${missing.length} missing`,
    );
    expect(missing).toEqual([]);
    expect(outOfOrder).toBe(0);
  });

  it('skips a corrupted entry and a torn tail with spool.damaged, and delivers everything before them', async () => {
    const dir = spoolDir();
    await cluster().brokerDown(-1);
    const first = open(dir);
    const closedErrors: EkafError[] = [];
    first.produceAsync(
      'damaged',
      Array.from({ length: 1000 }, (_, i) => ({ key: `k${i % 20}`, value: String(i) })),
      (error) => error !== null && closedErrors.push(error),
    );
    await first.close({ timeoutMs: 300 });
    await Promise.resolve();
    // The caller is told its records were not delivered, and where they are kept.
    expect(closedErrors[0]?.message).toMatch(/stays in the spool/);

    // Corrupt one byte inside entry 600's payload, then leave half an entry at the end.
    const [segment] = readdirSync(dir).filter((name) => name.startsWith('segment-'));
    const path = join(dir, segment as string);
    const bytes = readFileSync(path);
    let at = SEGMENT_HEADER_SIZE;
    for (let i = 0; i < 600; i++) at += ENTRY_FRAMING_SIZE + bytes.readUInt32BE(at);
    bytes[at + ENTRY_FRAMING_SIZE + 5] = (bytes[at + ENTRY_FRAMING_SIZE + 5] ?? 0) ^ 0xff;
    writeFileSync(path, bytes);
    appendFileSync(path, bytes.subarray(SEGMENT_HEADER_SIZE, SEGMENT_HEADER_SIZE + 20));

    await cluster().brokerUp(-1);
    const second = open(dir);
    const damage: { offset: number; reason: string; droppedBytes: number }[] = [];
    second.on('spool.damaged', (event) => damage.push(event));
    await new Promise((resolve) => setImmediate(resolve));
    await second.flush();
    expect(damage).toEqual([
      { file: path, offset: at, reason: 'entry CRC mismatch', droppedBytes: bytes.length + 20 - at },
    ]);
    const { values, outOfOrder } = await readBack('damaged');
    expect(values.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 600 }, (_, i) => i));
    expect(outOfOrder).toBe(0);
  });

  it('refuses a second producer on the same directory with ERR_SPOOL_LOCKED', () => {
    const dir = spoolDir();
    open(dir);
    expect(() => createProducer({ brokers: cluster().bootstrap, spool: { dir } })).toThrow(
      expect.objectContaining({ code: 'ERR_SPOOL_LOCKED', message: expect.stringContaining(dir) as string }),
    );
  });

  it('when the spool is full too: ERR_BUFFER_FULL, and everything accepted before is delivered', async () => {
    const dir = spoolDir();
    await cluster().brokerDown(-1);
    const producer = open(dir, {
      maxBufferedRecords: 100,
      spool: { dir, maxBytes: 256 * 1024, segmentBytes: 64 * 1024 },
    });
    const fullEvents: number[] = [];
    producer.on('downtime.buffer_full', ({ records }) => fullEvents.push(records));
    let accepted = 0;
    let refusal: unknown = null;
    for (let i = 0; refusal === null && i < 100_000; i++) {
      try {
        producer.produceAsync('full', { key: `k${i % 20}`, value: `${i}`.padEnd(200, '.') });
        accepted++;
      } catch (error) {
        refusal = error;
      }
    }
    expect(refusal).toMatchObject({
      code: 'ERR_BUFFER_FULL',
      message: expect.stringMatching(/spool full/) as string,
    });
    expect(fullEvents).toEqual([1]);
    expect(accepted).toBeGreaterThan(100);
    const stats = producer.metrics().spool;
    expect(stats?.bytes).toBeLessThanOrEqual(256 * 1024);

    await cluster().brokerUp(-1);
    await producer.flush();
    const records = await readTopic(cluster().bootstrap, 'full');
    expect(new Set(records.map((r) => r.value?.toString())).size).toBe(accepted);
  });

  it('bounds the calls waiting on disk with a callback by maxBufferedRecords; fire-and-forget calls are not bounded', async () => {
    const dir = spoolDir();
    await cluster().brokerDown(-1);
    const producer = open(dir, { maxBufferedRecords: 100 });
    for (let i = 0; i < 100; i++) producer.produceAsync('calls', `memory-${i}`); // fills memory
    for (let i = 0; i < 5000; i++) producer.produceAsync('calls', `fire-and-forget-${i}`); // on disk
    const outcomes: (string | null)[] = [];
    let refusal: unknown = null;
    for (let i = 0; refusal === null; i++) {
      try {
        producer.produceAsync('calls', `callback-${i}`, (error) => outcomes.push(error?.code ?? null));
      } catch (error) {
        refusal = error;
      }
    }
    expect(outcomes.length).toBe(0);
    expect(refusal).toMatchObject({
      code: 'ERR_BUFFER_FULL',
      message: expect.stringContaining('100 calls wait on their records in the spool') as string,
    });
    expect(producer.metrics().spool).toMatchObject({ backlogRecords: 5100 });
    await cluster().brokerUp(-1);
    await producer.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(outcomes).toEqual(Array.from({ length: 100 }, () => null));
    const records = await readTopic(cluster().bootstrap, 'calls');
    expect(records.length).toBe(5200);
  });

  it('shows the spool in inspect() and metrics()', async () => {
    const dir = spoolDir();
    await cluster().brokerDown(-1);
    const producer = open(dir, { maxBufferedRecords: 10 });
    producer.produceAsync(
      'inspect',
      Array.from({ length: 10 }, (_, i) => `a${i}`),
    );
    producer.produceAsync(
      'inspect',
      Array.from({ length: 30 }, (_, i) => `b${i}`),
    );
    // The records are on disk once their age shows.
    await expect.poll(() => producer.metrics().spool?.oldestEntryAgeMs).toBeGreaterThanOrEqual(15);
    const spool = producer.inspect().find((actor) => actor.kind === 'spool');
    expect(spool).toMatchObject({
      name: 'spool',
      state: 'replaying',
      details: { dir, mode: 'downtime', segments: 1, liveRecords: 40, backlogRecords: 30 },
    });
    await cluster().brokerUp(-1);
    await producer.flush();
    expect(producer.metrics().spool).toMatchObject({ liveRecords: 0, backlogRecords: 0 });
  });

  it('fails a call someone waits on at its delivery timeout even behind records nobody waits on, which are still delivered', async () => {
    const dir = spoolDir();
    await cluster().brokerDown(-1);
    const deliveryTimeoutMs = 1500;
    const producer = open(dir, { maxBufferedRecords: 100, deliveryTimeoutMs });
    for (let i = 0; i < 100; i++) producer.produceAsync('expiry', `memory-${i}`); // fills memory
    for (let i = 0; i < 5000; i++) producer.produceAsync('expiry', `disk-${i}`); // fire-and-forget, on disk
    const started = Date.now();
    const outcome = new Promise<{ code: string | null; after: number }>((resolve) => {
      producer.produceAsync('expiry', 'waited', (error) => {
        resolve({ code: error?.code ?? null, after: Date.now() - started });
      });
    });
    expect(producer.metrics().spool).toMatchObject({ backlogRecords: 5001 });
    // Before the fix it waited until the 5 000 records ahead had been read back and had timed
    // out 100 at a time (about 75 s); the sweep runs every second.
    let bound: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      outcome,
      new Promise<null>((resolve) => {
        bound = setTimeout(() => {
          resolve(null);
        }, deliveryTimeoutMs + 5000);
      }),
    ]);
    clearTimeout(bound);
    expect(settled, 'the waited call is still pending').not.toBeNull();
    expect(settled?.code).toBe('ERR_DELIVERY_TIMEOUT');
    expect(settled?.after).toBeLessThan(deliveryTimeoutMs + 2500);
    // The records nobody waits on stay on disk to be delivered (only those read back into memory
    // and timed out there are gone, as documented).
    expect(producer.metrics().spool?.backlogRecords).toBeGreaterThanOrEqual(4800);
    await cluster().brokerUp(-1);
    await producer.flush();
    expect(producer.metrics().spool).toMatchObject({ liveRecords: 0, backlogRecords: 0 });
    const values = (await readTopic(cluster().bootstrap, 'expiry')).map((r) => r.value?.toString() ?? '');
    expect(values).not.toContain('waited');
    expect(values.filter((v) => v.startsWith('disk-')).length).toBeGreaterThanOrEqual(4800);
  });
});
