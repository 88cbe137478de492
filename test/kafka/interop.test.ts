// Interop with Apache Kafka itself (issue 13, part 2), on three broker versions:
//
// - Kafka 4.4.0, three KRaft nodes: 200 000 records over 12 partitions (RF 3, min ISR 2);
// - Kafka 3.9.2, three KRaft nodes: the same check with 50 000 records;
// - Kafka 2.8.2 in ZooKeeper mode, one broker (RF 1, min ISR 1): the same with 50 000 records.
//
// Each run produces seeded records (keys, null keys, binary keys, null values, several headers
// with null and empty values, explicit timestamps, a few explicit partitions) with acks=all and
// idempotence on, and then checks, with kcat as the reader: every record exactly once, where
// ekaf's delivery report said, byte for byte (keys, values, null-ness, headers, timestamps),
// offsets dense, and every key's records in one partition in the order they were produced.
// The Java producer of the same version is the reference for placement: it sends the same
// distinct keys to a second topic of 12 partitions, and each key must land in the partition
// ekaf put it in. The Java console consumer reads the whole topic too and must agree with kcat
// on every record. The API versions ekaf negotiated with each broker are printed and must be
// min(ekaf's max, the broker's max).
//
// Payloads avoid bytes 0x1d–0x1f and ':' in header names only because the Java console
// consumer's output cannot carry them; every other byte value occurs. compression.test.ts reads
// all 256 byte values back with kcat.
//
// Starts JVMs: on a shared machine run it under `flock /tmp/ekaf-kafka.lock`.
// EKAF_INTEROP_SEED=<n> replays another seed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type DeliveryReport, type ProduceRecord } from '../../src/index.js';
import { ApiKey } from '../../src/protocol/api.js';
import { ApiVersions } from '../../src/protocol/apis/api-versions.js';
import { SUPPORTED_VERSIONS } from '../../src/protocol/versions.js';
import { seeded } from '../support/seeded.js';
import { withConnection } from './kafka-admin.js';
import { startKafkaCluster, type KafkaCluster, type KafkaVersion } from './kafka-cluster.js';
import { produceWithJava } from './java-producer.js';
import { readWithJavaConsumer, readWithKcat, type ReadBackRecord } from './read-back.js';

const SEED = Number(process.env.EKAF_INTEROP_SEED ?? 20261213);
const PARTITIONS = 12;
const TOPIC = 'interop';
const JAVA_TOPIC = 'interop-java';

/** The APIs whose negotiated versions are recorded, by the names ekaf's broker actors use. */
const RECORDED_APIS = ['Produce', 'Metadata', 'InitProducerId', 'ApiVersions'] as const;
type RecordedApi = (typeof RECORDED_APIS)[number];

interface Run {
  version: KafkaVersion;
  nodes: 1 | 3;
  replicationFactor: number;
  minInsync: number;
  records: number;
  /** Distinct string keys (the Java producer sends each once) and binary keys (ekaf only). */
  stringKeys: number;
  binaryKeys: number;
  /**
   * What ekaf must negotiate with this broker: min(ekaf's max, the broker's max), checked
   * against the broker's own ApiVersions answer as well. ekaf's maxima: Produce 12, Metadata 12,
   * InitProducerId 5, ApiVersions 3.
   */
  versions: Record<RecordedApi, number>;
}

const RUNS: Run[] = [
  {
    version: '4.4.0',
    nodes: 3,
    replicationFactor: 3,
    minInsync: 2,
    records: 200_000,
    stringKeys: 3_000,
    binaryKeys: 100,
    // The broker advertises Produce 0–13 (it refuses v0–v2 since 4.0, yet advertises v0 for
    // older clients' sake, KAFKA-18659), Metadata 0–13, InitProducerId 0–5, ApiVersions 0–5.
    versions: { Produce: 12, Metadata: 12, InitProducerId: 5, ApiVersions: 3 },
  },
  {
    version: '3.9.2',
    nodes: 3,
    replicationFactor: 3,
    minInsync: 2,
    records: 50_000,
    stringKeys: 1_500,
    binaryKeys: 50,
    // Produce 0–11, Metadata 0–12, InitProducerId 0–5, ApiVersions 0–4.
    versions: { Produce: 11, Metadata: 12, InitProducerId: 5, ApiVersions: 3 },
  },
  {
    version: '2.8.2',
    nodes: 1,
    replicationFactor: 1,
    minInsync: 1,
    records: 50_000,
    stringKeys: 1_500,
    binaryKeys: 50,
    // Produce 0–9, Metadata 0–11, InitProducerId 0–4, ApiVersions 0–3.
    versions: { Produce: 9, Metadata: 11, InitProducerId: 4, ApiVersions: 3 },
  },
];

// ---------------------------------------------------------------------------------------------
// The records

/** One produced record as the test expects to read it back. */
interface Expected {
  id: number;
  key: Buffer | null;
  /** Index into the key pool; -1 for a null key. */
  keyIndex: number;
  /** 0, 1, 2… per key, in produce order; -1 for a null key. */
  seq: number;
  value: Buffer | null;
  headers: [string, Buffer | null][];
  /** undefined: none given, the producer stamps the send time. */
  timestamp: number | undefined;
  /** undefined: the partitioner chooses. */
  partition: number | undefined;
}

/** Bytes the Java console consumer uses as separators: kept out of every payload here. */
const JAVA_UNSAFE = new Set([0x1d, 0x1e, 0x1f]);
// Code points one by one (🙂 and 𝄞 are surrogate pairs, written whole into UTF-8).
const TEXT_ALPHABET = Array.from('abcdefghijklmnopqrstuvwxyz0123456789 -_.ÄéßçøΩЖ日本語한🙂𝄞\t"\\\n');
const HEADER_NAMES = ['trace-id', 'ünïcödé', 'dup', 'content-type', 'x', 'a.b-c_d', '日本'];
const DAY_MS = 86_400_000;

class Generator {
  readonly random: () => number;
  constructor(seed: number) {
    this.random = seeded(seed);
  }
  int(below: number): number {
    return Math.floor(this.random() * below);
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  /** Random bytes of every value but the Java-unsafe three. */
  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) {
      let b = this.int(256);
      while (JAVA_UNSAFE.has(b)) b = this.int(256);
      out[i] = b;
    }
    return out;
  }
  text(chars: number): string {
    let s = '';
    for (let i = 0; i < chars; i++) s += this.pick(TEXT_ALPHABET);
    return s;
  }
}

/**
 * Distinct keys the console producer can send: UTF-8 text without \x1f, \r, \n. Plain ASCII ids,
 * unicode (multi-byte UTF-8, surrogate pairs) and the empty key, which is a key (murmur2 of
 * zero bytes), not a null one.
 */
function stringKeyPool(gen: Generator, count: number): string[] {
  const keys = new Set<string>(['']);
  while (keys.size < count) {
    const kind = gen.int(3);
    const key =
      kind === 0
        ? `user-${gen.int(1_000_000)}`
        : kind === 1
          ? gen.text(1 + gen.int(24)).replace(/\n/g, '')
          : `${gen.int(100)}:${gen.text(gen.int(6)).replace(/\n/g, '')}`;
    keys.add(key);
  }
  return [...keys];
}

function binaryKeyPool(gen: Generator, count: number): Buffer[] {
  const seen = new Set<string>();
  const keys: Buffer[] = [];
  while (keys.length < count) {
    const key = gen.bytes(1 + gen.int(32));
    if (seen.has(key.toString('hex'))) continue;
    seen.add(key.toString('hex'));
    keys.push(key);
  }
  return keys;
}

interface Workload {
  records: Expected[];
  stringKeys: string[];
  /** The key pool as bytes: string keys first (UTF-8), then binary keys. */
  keyBytes: Buffer[];
  startedAt: number;
}

function makeWorkload(run: Run, seed: number): Workload {
  const gen = new Generator(seed);
  const stringKeys = stringKeyPool(gen, run.stringKeys);
  const keyBytes = [...stringKeys.map((k) => Buffer.from(k, 'utf8')), ...binaryKeyPool(gen, run.binaryKeys)];
  const nextSeq = new Array<number>(keyBytes.length).fill(0);
  const startedAt = Date.now();
  const records: Expected[] = [];
  for (let id = 0; id < run.records; id++) {
    const roll = gen.random();
    let keyIndex = -1;
    let partition: number | undefined;
    if (roll < 0.05) {
      // A null key: the sticky partitioner's, or now and then an explicit partition.
      if (gen.random() < 0.2) partition = gen.int(PARTITIONS);
    } else if (roll < 0.08) {
      keyIndex = stringKeys.length + gen.int(run.binaryKeys);
    } else {
      keyIndex = gen.int(stringKeys.length);
    }
    let seq = -1;
    if (keyIndex >= 0) {
      seq = nextSeq[keyIndex] ?? 0;
      nextSeq[keyIndex] = seq + 1;
    }
    const key = keyIndex < 0 ? null : (keyBytes[keyIndex] ?? null);

    const headers: [string, Buffer | null][] = [];
    const headerCount = [0, 0, 0, 1, 1, 1, 2, 2, 3, 5][gen.int(10)] ?? 0;
    for (let h = 0; h < headerCount; h++) {
      const name = gen.pick(HEADER_NAMES); // repeats allowed: Kafka keeps duplicate names
      const kind = gen.int(10);
      const value =
        kind < 2
          ? null
          : kind < 3
            ? Buffer.alloc(0)
            : kind < 6
              ? Buffer.from(gen.text(gen.int(40)))
              : gen.bytes(gen.int(64));
      headers.push([name, value]);
    }

    let value: Buffer | null;
    const tag = `#${id}/${seq};`;
    if (gen.random() < 0.03) {
      // A tombstone: the id goes into a header instead.
      value = null;
      headers.unshift(['id', Buffer.from(tag)]);
    } else {
      const size = gen.random();
      const payload =
        size < 0.5
          ? Buffer.from(gen.text(gen.int(200)))
          : size < 0.98
            ? gen.bytes(gen.int(600))
            : gen.bytes(1_024 + gen.int(7 * 1_024));
      value = Buffer.concat([Buffer.from(tag), payload]);
    }

    const when = gen.random();
    // Explicit timestamps, mostly within the last three days (younger than the default
    // retention and older than the broker's 1-hour future bound), a few from 2001; 10% none.
    const timestamp =
      when < 0.1
        ? undefined
        : when < 0.105
          ? 1_000_000_000_000 + gen.int(DAY_MS)
          : startedAt - gen.int(3 * DAY_MS);
    records.push({ id, key, keyIndex, seq, value, headers, timestamp, partition });
  }
  return { records, stringKeys, keyBytes, startedAt };
}

/** The id of a read-back record: from its value's tag, or from its 'id' header (tombstones). */
function idOf(r: ReadBackRecord): number {
  const tagged = r.value ?? r.headers.find(([name]) => name === 'id')?.[1] ?? null;
  if (tagged === null || tagged[0] !== 0x23 /* # */) return -1;
  const slash = tagged.indexOf(0x2f);
  return slash < 0 ? -1 : Number(tagged.subarray(1, slash).toString('latin1'));
}

// ---------------------------------------------------------------------------------------------
// Producing

/**
 * Produces the workload in order: chunks of CHUNK records through produceSync, at most WINDOW
 * calls outstanding. Calls are accepted in the order they are made, so each key's records
 * enter its partition in produce order.
 */
async function produceAll(
  bootstrap: string,
  workload: Workload,
  clientId: string,
): Promise<{ reports: DeliveryReport[]; versions: Map<string, Record<string, number>>; ms: number }> {
  const CHUNK = 1_000;
  const WINDOW = 16;
  const producer = createProducer({ brokers: bootstrap, clientId });
  const reports = new Array<DeliveryReport>(workload.records.length);
  const started = Date.now();
  try {
    const outstanding = new Set<Promise<void>>();
    for (let from = 0; from < workload.records.length; from += CHUNK) {
      const chunk = workload.records.slice(from, from + CHUNK).map((r): ProduceRecord => ({
        key: r.key,
        value: r.value,
        headers: r.headers,
        ...(r.timestamp === undefined ? {} : { timestamp: r.timestamp }),
        ...(r.partition === undefined ? {} : { partition: r.partition }),
      }));
      const call: Promise<void> = producer.produceSync(TOPIC, chunk).then((got) => {
        got.forEach((report, i) => (reports[from + i] = report));
        outstanding.delete(call);
      });
      outstanding.add(call);
      if (outstanding.size >= WINDOW) await Promise.race(outstanding);
    }
    await Promise.all(outstanding);
    const ms = Date.now() - started;
    // Read while the connections are up: each broker actor's negotiated versions.
    const versions = new Map<string, Record<string, number>>();
    for (const actor of producer.inspect()) {
      if (actor.kind !== 'broker') continue;
      versions.set(actor.name, actor.details.versions);
    }
    return { reports, versions, ms };
  } finally {
    await producer.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Checking

/** Collects mismatches (the first few in full) rather than failing at the first of 200 000. */
class Findings {
  readonly lines: string[] = [];
  count = 0;
  add(line: string): void {
    this.count++;
    if (this.lines.length < 20) this.lines.push(line);
  }
  toString(): string {
    return `${this.count} mismatches (seed ${SEED}), first ones:\n${this.lines.join('\n')}`;
  }
}

const show = (b: Buffer | null): string =>
  b === null ? 'null' : `${b.length}B ${b.subarray(0, 24).toString('hex')}`;
const sameBytes = (a: Buffer | null, b: Buffer | null): boolean =>
  a === null || b === null ? a === b : a.equals(b);

function sameHeaders(a: readonly [string, Buffer | null][], b: readonly [string, Buffer | null][]): boolean {
  return (
    a.length === b.length &&
    a.every(([name, value], i) => {
      const other = b[i];
      return other !== undefined && other[0] === name && sameBytes(value, other[1]);
    })
  );
}

/**
 * What kcat read against what was produced and what ekaf reported. Returns each key's partition
 * (by key index) as ekaf placed it.
 */
function checkReadBack(
  workload: Workload,
  reports: DeliveryReport[],
  read: ReadBackRecord[],
  sentBetween: [number, number],
): Map<number, number> {
  const { records } = workload;
  const findings = new Findings();
  const seen = new Uint8Array(records.length);
  const keyPartition = new Map<number, number>();
  const lastSeq = new Map<number, number>();
  const offsetsByPartition = new Map<number, number>();

  for (const r of read) {
    // Offsets dense from 0 in every partition: nothing lost or doubled between acknowledged ones.
    const nextOffset = offsetsByPartition.get(r.partition) ?? 0;
    if (r.offset !== nextOffset)
      findings.add(`partition ${r.partition}: offset ${r.offset}, expected ${nextOffset}`);
    offsetsByPartition.set(r.partition, r.offset + 1);

    const id = idOf(r);
    const want = records[id];
    if (want === undefined) {
      findings.add(`p${r.partition}@${r.offset}: no record id in ${show(r.value)}`);
      continue;
    }
    if (seen[id] === 1) findings.add(`record ${id} read twice (again at p${r.partition}@${r.offset})`);
    seen[id] = 1;
    const where = `record ${id} (p${r.partition}@${r.offset})`;
    const report = reports[id];
    if (report?.partition !== r.partition || report.offset !== r.offset) {
      findings.add(`${where}: ekaf reported p${report?.partition}@${report?.offset}`);
    }
    if (!sameBytes(r.key, want.key)) findings.add(`${where}: key ${show(r.key)}, expected ${show(want.key)}`);
    if (!sameBytes(r.value, want.value))
      findings.add(`${where}: value ${show(r.value)}, expected ${show(want.value)}`);
    if (!sameHeaders(r.headers, want.headers)) {
      const fmt = (h: [string, Buffer | null][]) => h.map(([n, v]) => `${n}=${show(v)}`).join(', ');
      findings.add(`${where}: headers [${fmt(r.headers)}], expected [${fmt(want.headers)}]`);
    }
    if (
      want.timestamp !== undefined
        ? r.timestamp !== want.timestamp
        : r.timestamp < sentBetween[0] || r.timestamp > sentBetween[1]
    ) {
      findings.add(
        `${where}: timestamp ${r.timestamp}, expected ${want.timestamp ?? `within ${sentBetween.join('–')}`}`,
      );
    }
    if (want.partition !== undefined && r.partition !== want.partition) {
      findings.add(`${where}: explicit partition ${want.partition}, stored in ${r.partition}`);
    }
    if (want.keyIndex >= 0) {
      // One partition per key, and the key's records in produce order (its seq 0, 1, 2…).
      const placed = keyPartition.get(want.keyIndex);
      if (placed === undefined) keyPartition.set(want.keyIndex, r.partition);
      else if (placed !== r.partition)
        findings.add(`${where}: key #${want.keyIndex} also in partition ${placed}`);
      const expectedSeq = (lastSeq.get(want.keyIndex) ?? -1) + 1;
      if (want.seq !== expectedSeq)
        findings.add(`${where}: key #${want.keyIndex} seq ${want.seq} after ${expectedSeq - 1}`);
      lastSeq.set(want.keyIndex, want.seq);
    }
  }
  let missing = 0;
  for (let id = 0; id < records.length; id++) {
    if (seen[id] === 0 && missing++ < 5)
      findings.add(`record ${id} never read back (reported ${JSON.stringify(reports[id])})`);
  }
  if (missing > 5) findings.add(`… ${missing} records missing in all`);
  expect(findings.count, findings.toString()).toBe(0);
  expect(read).toHaveLength(records.length);
  return keyPartition;
}

/** Two readers' records, field by field (both are sorted by partition, then offset). */
function expectSameRecords(java: ReadBackRecord[], kcat: ReadBackRecord[]): void {
  const findings = new Findings();
  if (java.length !== kcat.length) findings.add(`Java read ${java.length} records, kcat ${kcat.length}`);
  for (let i = 0; i < Math.min(java.length, kcat.length); i++) {
    const j = java[i];
    const k = kcat[i];
    if (j === undefined || k === undefined) break;
    const where = `#${i} (Java p${j.partition}@${j.offset}, kcat p${k.partition}@${k.offset})`;
    if (j.partition !== k.partition || j.offset !== k.offset) findings.add(`${where}: at different places`);
    if (j.timestamp !== k.timestamp) findings.add(`${where}: timestamps ${j.timestamp} / ${k.timestamp}`);
    if (!sameBytes(j.key, k.key)) findings.add(`${where}: keys ${show(j.key)} / ${show(k.key)}`);
    if (!sameBytes(j.value, k.value)) findings.add(`${where}: values ${show(j.value)} / ${show(k.value)}`);
    if (!sameHeaders(j.headers, k.headers)) findings.add(`${where}: headers differ`);
  }
  expect(findings.count, findings.toString()).toBe(0);
}

// ---------------------------------------------------------------------------------------------
// The runs

for (const run of RUNS) {
  const label =
    run.nodes === 3
      ? `Kafka ${run.version}, three KRaft nodes (RF 3, min ISR 2)`
      : `Kafka ${run.version}, one broker with ZooKeeper (RF 1)`;

  describe(`interop: ${label}`, () => {
    let cluster: KafkaCluster | undefined;
    let describeStarted = 0;
    const started = (): KafkaCluster => {
      if (cluster === undefined) throw new Error('the cluster did not start');
      return cluster;
    };
    // Shared by the tests below, filled by the first.
    let workload: Workload | undefined;
    let kcatRead: ReadBackRecord[] = [];
    let ekafKeyPartition = new Map<number, number>();

    beforeAll(async () => {
      describeStarted = Date.now();
      cluster = await startKafkaCluster({
        version: run.version,
        nodes: run.nodes,
        topics: [TOPIC, JAVA_TOPIC].map((name) => ({
          name,
          partitions: PARTITIONS,
          replicationFactor: run.replicationFactor,
          configs: { 'min.insync.replicas': String(run.minInsync) },
        })),
      });
      console.log(`[interop ${run.version}] ${run.nodes} node(s) up in ${cluster.startup.ms} ms`);
    }, 240_000);

    afterAll(async () => {
      await cluster?.kill();
      console.log(
        `[interop ${run.version}] describe took ${((Date.now() - describeStarted) / 1000).toFixed(1)} s`,
      );
    }, 60_000);

    it(`${run.records} seeded records (seed ${SEED}) read back by kcat exactly once, intact, in order per key; negotiated versions`, async () => {
      const c = started();
      workload = makeWorkload(run, SEED);
      console.log(
        `[interop ${run.version}] seed ${SEED}: ${run.records} records, ${workload.keyBytes.length} keys`,
      );
      const before = Date.now();
      const { reports, versions, ms } = await produceAll(c.bootstrap, workload, `interop-${run.version}`);
      const after = Date.now();
      console.log(
        `[interop ${run.version}] produced in ${ms} ms (${Math.round((run.records / ms) * 1000)} records/s)`,
      );

      // Negotiated versions, per broker actor: what ekaf picked, and what it should have picked
      // from the broker's own ApiVersions answer.
      console.log(
        `[interop ${run.version}] negotiated versions: ${JSON.stringify(Object.fromEntries(versions))}`,
      );
      expect([...versions.keys()].sort()).toEqual(c.nodes.map((n) => `broker:${n.id}`).sort());
      const advertised = await withConnection(c.bootstrap.split(',')[0] ?? '', (conn) =>
        conn.send(ApiVersions, 3, { clientSoftwareName: 'ekaf-interop', clientSoftwareVersion: '0' }),
      );
      const brokerMax = (api: RecordedApi): number =>
        advertised.apiKeys.find((k) => k.apiKey === ApiKey[api])?.maxVersion ?? -1;
      const ranges = RECORDED_APIS.map((api) => {
        const range = advertised.apiKeys.find((k) => k.apiKey === ApiKey[api]);
        return `${api} ${range?.minVersion}–${range?.maxVersion}`;
      });
      console.log(`[interop ${run.version}] the broker serves ${ranges.join(', ')}`);
      for (const [broker, negotiated] of versions) {
        for (const api of RECORDED_APIS) {
          expect(negotiated[api], `${broker} ${api}`).toBe(
            Math.min(SUPPORTED_VERSIONS[ApiKey[api]].max, brokerMax(api)),
          );
          expect(negotiated[api], `${broker} ${api}`).toBe(run.versions[api]);
        }
      }

      const readStarted = Date.now();
      kcatRead = await readWithKcat(c.bootstrap, TOPIC, { timeoutMs: 180_000 });
      console.log(
        `[interop ${run.version}] kcat read ${kcatRead.length} records in ${Date.now() - readStarted} ms`,
      );
      ekafKeyPartition = checkReadBack(workload, reports, kcatRead, [before, after]);
      // Every partition got records (12 partitions, thousands of keys).
      expect(new Set(kcatRead.map((r) => r.partition)).size).toBe(PARTITIONS);
    }, 600_000);

    it(`every key in the partition the Java ${run.version} producer picks for it`, async () => {
      const c = started();
      if (workload === undefined) throw new Error('the first test did not run');
      const keys = workload.stringKeys;
      const javaStarted = Date.now();
      await produceWithJava(c.bootstrap, JAVA_TOPIC, keys, {
        version: run.version,
        values: keys.map((_, i) => String(i)),
        timeoutMs: 120_000,
      });
      const read = await readWithKcat(c.bootstrap, JAVA_TOPIC);
      console.log(
        `[interop ${run.version}] Java producer: ${keys.length} keys in ${Date.now() - javaStarted} ms`,
      );
      expect(read).toHaveLength(keys.length);
      const findings = new Findings();
      for (const r of read) {
        const i = Number(r.value?.toString() ?? -1);
        const key = workload.keyBytes[i];
        // The console producer must have sent the key's UTF-8 bytes (else the comparison is moot).
        if (key === undefined || !sameBytes(r.key, key)) {
          findings.add(`Java record ${i}: key ${show(r.key)}, sent ${show(key ?? null)}`);
          continue;
        }
        const ekaf = ekafKeyPartition.get(i);
        if (ekaf === undefined) findings.add(`key #${i} ${JSON.stringify(keys[i])} never produced by ekaf`);
        else if (ekaf !== r.partition) {
          findings.add(`key #${i} ${JSON.stringify(keys[i])}: Java partition ${r.partition}, ekaf ${ekaf}`);
        }
      }
      expect(findings.count, findings.toString()).toBe(0);
    }, 180_000);

    it(`the Java ${run.version} console consumer reads the same records as kcat`, async () => {
      const c = started();
      expect(kcatRead.length).toBe(run.records);
      const javaStarted = Date.now();
      const java = await readWithJavaConsumer(run.version, c.bootstrap, TOPIC, {
        maxMessages: run.records,
        idleTimeoutMs: 30_000,
        timeoutMs: 240_000,
      });
      console.log(
        `[interop ${run.version}] Java consumer read ${java.length} records in ${Date.now() - javaStarted} ms`,
      );
      expectSameRecords(java, kcatRead);
    }, 300_000);
  });
}
