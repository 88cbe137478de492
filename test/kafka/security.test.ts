// TLS and SASL against Apache Kafka's own listeners (issue 13, part 2): the mock-based tests
// (test/integration/security.test.ts) go through proxies we wrote, so they prove only our own
// reading of the protocol. Here the peer is Kafka 4.4.0's SslTransportLayer and
// SaslServerAuthenticator, with PLAIN and SCRAM credentials the broker itself checks.
//
// Three nodes, not one: the harness gives every node the secure listeners for three more
// ports, and with the default SCRAM user the formatted storage comes from the cached template
// (~12 s to start); with three, the connections ekaf opens to brokers it found through metadata
// (advertised on the same secure listener) are exercised, not only the bootstrap one. Records
// are read back with kcat over the PLAINTEXT listener, which shares no code with ekaf.
// The whole file takes about 75 s.
//
// Starts JVMs: on a shared machine run it under `flock /tmp/ekaf-kafka.lock`.
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProducerOptions } from '../../src/config.js';
import { TlsError, type EkafError } from '../../src/errors.js';
import { createProducer } from '../../src/index.js';
import { Connection } from '../../src/network/connection.js';
import type { SaslCredentials } from '../../src/security/sasl.js';
import { makeTestPki } from '../broker/tls-proxy.js';
import { startKafkaCluster, type KafkaCluster, type SecureListenerName } from './kafka-cluster.js';
import { readWithKcat } from './read-back.js';

const NODES = 3;
const RECORDS = 3_000;
const ALICE = { username: 'alice', password: 'alice-secret' }; // the harness's default SCRAM user
const PLAIN_USERS = [
  { name: 'alice', password: 'alice-secret' },
  { name: 'bob', password: 'b0b-plain-only' },
];
/** The SASL_PLAINTEXT listener enables fewer mechanisms than SASL_SSL (all three). */
const SASL_PLAINTEXT_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256'];
/** Kafka 4.4 closes a SCRAM-SHA-256 session on SASL_PLAINTEXT that outlives this (KIP-368). */
const REAUTH_MS = 4_000;
/** How long the refused producers wait: the README promises a delivery timeout, not a fast fail. */
const REFUSED_TIMEOUT_MS = 2_000;
const REFUSED_TOPIC = 'refused';
const REFUSED_RECORDS = 100;

interface Way {
  name: string;
  topic: string;
  listener: SecureListenerName;
  tls: boolean;
  sasl?: SaslCredentials;
}

const WAYS: Way[] = [
  { name: 'SSL (TLS only)', topic: 'ssl', listener: 'SSL', tls: true },
  ...(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const).map((mechanism): Way => ({
    name: `SASL_SSL ${mechanism}`,
    topic: `sasl-ssl-${mechanism.toLowerCase()}`,
    listener: 'SASL_SSL',
    tls: true,
    sasl: { mechanism, ...ALICE },
  })),
  ...(['PLAIN', 'SCRAM-SHA-256'] as const).map((mechanism): Way => ({
    name: `SASL_PLAINTEXT ${mechanism}`,
    topic: `sasl-plaintext-${mechanism.toLowerCase()}`,
    listener: 'SASL_PLAINTEXT',
    tls: false,
    sasl: { mechanism, ...ALICE },
  })),
];

const EXTRA_TOPICS = [REFUSED_TOPIC, 'rotated', 'reauth', 'reauth-acks0'];

/** Record i of a way: keyed, so it lands where murmur2 puts it; the value names the way. */
const record = (topic: string, i: number) => ({ key: `k-${i}`, value: `${topic}-${i}` });

/** Produces `count` records in calls of 500, all in flight together. */
async function produceAll(producer: ReturnType<typeof createProducer>, topic: string, count: number) {
  const calls: Promise<unknown[]>[] = [];
  for (let start = 0; start < count; start += 500) {
    const records = Array.from({ length: Math.min(500, count - start) }, (_, j) => record(topic, start + j));
    calls.push(producer.produceSync(topic, records));
  }
  return (await Promise.all(calls)).flat();
}

/** kcat (over PLAINTEXT) reads records 0..count-1 of the topic, each exactly once, offsets dense. */
async function expectExactlyOnce(cluster: KafkaCluster, topic: string, count: number): Promise<void> {
  const records = await readWithKcat(cluster.bootstrap, topic);
  expect(records).toHaveLength(count);
  const seen = new Set<number>();
  for (const r of records) {
    const i = Number(r.key?.toString().slice('k-'.length));
    expect(seen.has(i), `${topic}: k-${i} read twice`).toBe(false);
    seen.add(i);
    expect(r.value?.toString()).toBe(record(topic, i).value);
  }
  expect(seen.size).toBe(count);
  const byPartition = new Map<number, number[]>();
  for (const r of records) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r.offset]);
  for (const offsets of byPartition.values()) expect(offsets).toEqual(offsets.map((_, i) => i));
}

interface Refusal {
  /** What produceSync rejected with. */
  outcome: unknown;
  elapsedMs: number;
  /** `error` events. */
  errors: EkafError[];
  /** `delivery.failed`'s count: every record of the call must be accounted for. */
  failed: number;
  /** Everything the producer said or showed, for the password check. */
  seen: string;
}

/**
 * A producer that cannot get in: produceSync of REFUSED_RECORDS records, then everything it
 * reported (errors, events, log lines, inspect()) gathered into one string.
 */
async function refusedProduce(options: Partial<ProducerOptions>): Promise<Refusal> {
  const logged: string[] = [];
  const log = (message: string, fields?: object): void => {
    logged.push(`${message} ${JSON.stringify(fields ?? {})}`);
  };
  const producer = createProducer({
    brokers: '',
    clientId: 'security-test',
    logger: { debug: log, info: log, warn: log, error: log },
    deliveryTimeoutMs: REFUSED_TIMEOUT_MS,
    retryBackoffMs: 100,
    retryBackoffMaxMs: 400,
    ...options,
  });
  const errors: EkafError[] = [];
  const events: string[] = [];
  let failed = 0;
  producer.on('error', (e) => errors.push(e));
  producer.on('worker.down', (e) => events.push(inspect(e, { depth: 5 })));
  producer.on('state', (e) => events.push(JSON.stringify(e)));
  producer.on('delivery.failed', (e) => {
    failed += e.failed;
    events.push(inspect(e, { depth: 5 }));
  });
  const started = Date.now();
  try {
    const outcome = await producer
      .produceSync(
        REFUSED_TOPIC,
        Array.from({ length: REFUSED_RECORDS }, (_, i) => record(REFUSED_TOPIC, i)),
      )
      .then(
        () => null,
        (e: unknown) => e,
      );
    const elapsedMs = Date.now() - started;
    const seen = [
      ...errors.map((e) => `${e.message} ${String(e.stack)} ${inspect(e, { depth: 5 })}`),
      inspect(outcome, { depth: 5 }),
      ...events,
      ...logged,
      JSON.stringify(producer.inspect()),
      inspect(producer.inspect(), { depth: 10 }),
    ].join('\n');
    return { outcome, elapsedMs, errors, failed, seen };
  } finally {
    await producer.close({ timeoutMs: 100 });
  }
}

describe(`Kafka 4.4.0, ${NODES} nodes: TLS and SASL on the broker's own listeners`, () => {
  let cluster: KafkaCluster | undefined;
  const started = (): KafkaCluster & { security: NonNullable<KafkaCluster['security']> } => {
    if (cluster?.security === undefined) throw new Error('the cluster did not start');
    return cluster as KafkaCluster & { security: NonNullable<KafkaCluster['security']> };
  };
  const optionsFor = (c: ReturnType<typeof started>, way: Way): Partial<ProducerOptions> => ({
    brokers: c.bootstraps[way.listener] ?? '',
    ...(way.tls ? { tls: { ca: c.security.caPem } } : {}),
    ...(way.sasl ? { sasl: way.sasl } : {}),
  });

  beforeAll(async () => {
    cluster = await startKafkaCluster({
      version: '4.4.0',
      nodes: NODES,
      listeners: ['SSL', 'SASL_PLAINTEXT', 'SASL_SSL'],
      plainUsers: PLAIN_USERS,
      brokerConfig: {
        // KIP-103 listener-prefixed settings: one listener enables fewer mechanisms, and
        // (KIP-368) expires SCRAM-SHA-256 sessions, which a client must re-authenticate.
        'listener.name.sasl_plaintext.sasl.enabled.mechanisms': SASL_PLAINTEXT_MECHANISMS.join(','),
        'listener.name.sasl_plaintext.scram-sha-256.connections.max.reauth.ms': String(REAUTH_MS),
      },
      topics: [...WAYS.map((w) => w.topic), ...EXTRA_TOPICS].map((name) => ({
        name,
        partitions: 3,
        replicationFactor: NODES,
        configs: { 'min.insync.replicas': '2' },
      })),
    });
    console.log(
      `[security] ${NODES} nodes up in ${cluster.startup.ms} ms (formatted: ${cluster.startup.formatted})`,
    );
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it.each(WAYS.map((w) => [w.name, w] as const))(
    `%s: ${RECORDS} keyed records (acks all, idempotent), every broker reached on that listener; kcat reads each once`,
    async (_, way) => {
      const c = started();
      const producer = createProducer({
        clientId: 'security-test',
        ...optionsFor(c, way),
      } as ProducerOptions);
      const t0 = Date.now();
      try {
        const reports = await produceAll(producer, way.topic, RECORDS);
        expect(reports).toHaveLength(RECORDS);
        // The bootstrap connection and one per broker, each found through metadata on the same
        // listener: all three nodes' secure addresses, every connection through TLS/SASL.
        const brokers = producer.inspect().filter((a) => a.kind === 'broker' && a.state === 'ready');
        const addresses = brokers.map((b) => (b.details as { address?: string }).address).sort();
        expect(addresses).toEqual(c.nodes.map((n) => n.listeners[way.listener]).sort());
      } finally {
        await producer.close();
      }
      console.log(`[security] ${way.name}: ${RECORDS} records in ${Date.now() - t0} ms`);
      await expectExactlyOnce(c, way.topic, RECORDS);
    },
    60_000,
  );

  // ------------------------------------------------------------------------------------------
  // Refusals. The README's promise: a refused login is an `error` event with code
  // ERR_SASL_AUTHENTICATION, retried with the reconnect backoff (credentials may be rotated), so a
  // produceSync waits until deliveryTimeoutMs and fails every record of the call.

  const refusals: [string, SecureListenerName, SaslCredentials, RegExp][] = [
    [
      'PLAIN, wrong password (SASL_SSL)',
      'SASL_SSL',
      { mechanism: 'PLAIN', username: 'alice', password: 'wr0ng-plain-pa55' },
      /refused PLAIN for user "alice": SASL_AUTHENTICATION_FAILED \(Authentication failed: Invalid username or password\)/,
    ],
    [
      'PLAIN, wrong password (SASL_PLAINTEXT)',
      'SASL_PLAINTEXT',
      { mechanism: 'PLAIN', username: 'alice', password: 'wr0ng-plain-pa55' },
      /refused PLAIN for user "alice": SASL_AUTHENTICATION_FAILED/,
    ],
    [
      'SCRAM-SHA-256, wrong password (SASL_PLAINTEXT)',
      'SASL_PLAINTEXT',
      { mechanism: 'SCRAM-SHA-256', username: 'alice', password: 'wr0ng-scram-pa55' },
      /refused SCRAM-SHA-256 for user "alice": SASL_AUTHENTICATION_FAILED/,
    ],
    [
      'SCRAM-SHA-512, wrong password (SASL_SSL)',
      'SASL_SSL',
      { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'wr0ng-scram-pa55' },
      /refused SCRAM-SHA-512 for user "alice": SASL_AUTHENTICATION_FAILED/,
    ],
    [
      'PLAIN, unknown user',
      'SASL_SSL',
      { mechanism: 'PLAIN', username: 'mallory', password: 'mallory-pa55' },
      /refused PLAIN for user "mallory": SASL_AUTHENTICATION_FAILED/,
    ],
    [
      'SCRAM-SHA-256, unknown user',
      'SASL_SSL',
      { mechanism: 'SCRAM-SHA-256', username: 'mallory', password: 'mallory-pa55' },
      /refused SCRAM-SHA-256 for user "mallory": SASL_AUTHENTICATION_FAILED/,
    ],
    [
      // bob has a PLAIN password (JAAS) and no SCRAM credentials: SCRAM does not know him.
      'SCRAM-SHA-512, a user known to PLAIN only',
      'SASL_SSL',
      { mechanism: 'SCRAM-SHA-512', username: 'bob', password: 'b0b-plain-only' },
      /refused SCRAM-SHA-512 for user "bob": SASL_AUTHENTICATION_FAILED/,
    ],
    [
      'SCRAM-SHA-512 on a listener that enables only PLAIN and SCRAM-SHA-256',
      'SASL_PLAINTEXT',
      { mechanism: 'SCRAM-SHA-512', ...ALICE },
      /127\.0\.0\.1:\d+ does not enable SCRAM-SHA-512 \(it enables PLAIN, SCRAM-SHA-256\)/,
    ],
  ];

  it.each(refusals)(
    '%s: ERR_SASL_AUTHENTICATION, every record failed at deliveryTimeoutMs, the password nowhere',
    async (what, listener, sasl, reason) => {
      const c = started();
      const tls = listener === 'SASL_SSL' ? { tls: { ca: c.security.caPem } } : {};
      const r = await refusedProduce({ brokers: c.bootstraps[listener] ?? '', sasl, ...tls });
      console.log(
        `[security] ${what}: rejected after ${r.elapsedMs} ms with ${inspect(r.outcome, { depth: 0 })}; ` +
          `cause ${inspect((r.outcome as { cause?: unknown }).cause, { depth: 0 })}; ` +
          `${r.errors.length} error events, first: ${r.errors[0]?.message}`,
      );
      expect(r.outcome).toMatchObject({ code: 'ERR_DELIVERY_TIMEOUT' });
      expect(r.failed).toBe(REFUSED_RECORDS);
      // Not sooner (a refusal is retried: credentials may rotate), and not much later: records
      // expire on a 1 s sweep, so 2.0–3.0 s were seen.
      expect(r.elapsedMs).toBeGreaterThanOrEqual(REFUSED_TIMEOUT_MS - 100);
      expect(r.elapsedMs).toBeLessThan(REFUSED_TIMEOUT_MS + 2_500);
      expect(r.errors.length).toBeGreaterThan(0);
      for (const e of r.errors) expect(e.code).toBe('ERR_SASL_AUTHENTICATION');
      expect(r.errors[0]?.message).toMatch(reason);
      expect(r.seen).not.toContain(sasl.password);
    },
    30_000,
  );

  it('a broker certificate from another CA is ERR_TLS naming Node’s reason, on SSL and SASL_SSL', async () => {
    const c = started();
    const other = makeTestPki('not the broker’s CA');
    const [host, port] = (c.nodes[0]?.listeners.SSL ?? '').split(':');
    const connection = new Connection({
      host: host ?? '',
      port: Number(port),
      clientId: 'x',
      tls: { ca: other.ca },
    });
    const error = await connection.connect().then(
      () => null,
      (e: unknown) => e,
    );
    console.log(`[security] wrong CA, one connection: ${inspect(error, { depth: 0 })}`);
    expect(error).toBeInstanceOf(TlsError);
    // The broker's keystore sends its chain with the CA in it: a self-signed root we don't trust.
    expect((error as TlsError).reason).toBe('SELF_SIGNED_CERT_IN_CHAIN');

    for (const listener of ['SSL', 'SASL_SSL'] as const) {
      const r = await refusedProduce({
        brokers: c.bootstraps[listener] ?? '',
        tls: { ca: other.ca },
        ...(listener === 'SASL_SSL' ? { sasl: { mechanism: 'SCRAM-SHA-256', ...ALICE } } : {}),
      });
      console.log(
        `[security] wrong CA on ${listener}: after ${r.elapsedMs} ms, first: ${r.errors[0]?.message}`,
      );
      expect(r.outcome).toMatchObject({ code: 'ERR_DELIVERY_TIMEOUT' });
      expect(r.failed).toBe(REFUSED_RECORDS);
      expect(r.errors.length).toBeGreaterThan(0);
      for (const e of r.errors) expect(e.code).toBe('ERR_TLS');
      expect(r.errors[0]?.message).toMatch(/TLS handshake failed: .*\(SELF_SIGNED_CERT_IN_CHAIN\)/);
      expect(r.seen).not.toContain(ALICE.password);
    }
  }, 30_000);

  it('a listener mix-up fails typed, not as a hang: plaintext on SSL, TLS on SASL_PLAINTEXT', async () => {
    const c = started();
    const plainOnSsl = await refusedProduce({ brokers: c.bootstraps.SSL ?? '' });
    const tlsOnPlain = await refusedProduce({
      brokers: c.bootstraps.SASL_PLAINTEXT ?? '',
      tls: { ca: c.security.caPem },
      sasl: { mechanism: 'PLAIN', ...ALICE },
    });
    for (const [what, r] of [
      ['plaintext client on the SSL listener', plainOnSsl],
      ['TLS client on the SASL_PLAINTEXT listener', tlsOnPlain],
    ] as const) {
      console.log(
        `[security] ${what}: after ${r.elapsedMs} ms, ${r.errors.length} error events: ` +
          r.errors.map((e) => `${e.code} ${e.message}`).join(' | '),
      );
      expect(r.outcome).toMatchObject({ code: 'ERR_DELIVERY_TIMEOUT' });
      expect(r.failed).toBe(REFUSED_RECORDS);
      expect(r.errors.length).toBeGreaterThan(0);
    }
    // The SSL listener answers a Kafka request with a TLS alert, whose first bytes read as a
    // 352 MB frame size; the connection recognises it and says what to fix.
    expect(plainOnSsl.errors[0]?.code).toBe('ERR_CONNECTION');
    expect(plainOnSsl.errors[0]?.message).toMatch(/answered with a TLS record.*this listener expects TLS/);
    // Kafka reads a ClientHello as an oversized frame and drops the connection mid-handshake.
    expect(tlsOnPlain.errors[0]?.code).toBe('ERR_TLS');
    expect(tlsOnPlain.errors[0]?.message).toMatch(/TLS handshake failed: .*\(ECONNRESET\)/);
  }, 30_000);

  // Found here (issue 13): records still waiting for metadata expired with a DeliveryTimeoutError
  // without a cause, though the README says `cause` is the last error seen; a produceSync
  // caller could not tell a refused password from a slow cluster.
  it('a refused login is the cause of the DeliveryTimeoutError, as the README promises', async () => {
    const c = started();
    const r = await refusedProduce({
      brokers: c.bootstraps.SASL_PLAINTEXT ?? '',
      sasl: { mechanism: 'PLAIN', username: 'alice', password: 'wr0ng-plain-pa55' },
    });
    expect(r.outcome).toMatchObject({ code: 'ERR_DELIVERY_TIMEOUT' });
    expect((r.outcome as { cause?: unknown }).cause).toMatchObject({ code: 'ERR_SASL_AUTHENTICATION' });
  }, 30_000);

  it('nothing of the refused producers reached the broker', async () => {
    const c = started();
    expect(await readWithKcat(c.bootstrap, REFUSED_TOPIC)).toEqual([]);
  });

  it('a credentials function is asked per connection: a rotated password is picked up, no record lost or doubled', async () => {
    const c = started();
    let calls = 0;
    const producer = createProducer({
      brokers: c.bootstraps.SASL_SSL ?? '',
      clientId: 'security-test',
      tls: { ca: c.security.caPem },
      retryBackoffMs: 50,
      retryBackoffMaxMs: 200,
      // The first two connections get the old password, later ones the current one.
      sasl: () => ({
        mechanism: 'SCRAM-SHA-512',
        username: 'alice',
        password: ++calls <= 2 ? 'old' : ALICE.password,
      }),
    });
    try {
      expect(await produceAll(producer, 'rotated', 1_000)).toHaveLength(1_000);
    } finally {
      await producer.close();
    }
    // Two refused, then the bootstrap connection and one per broker.
    expect(calls).toBeGreaterThanOrEqual(2 + 1 + NODES);
    await expectExactlyOnce(c, 'rotated', 1_000);
  });

  it(`a session the broker expires (connections.max.reauth.ms ${REAUTH_MS}): records still delivered exactly once`, async () => {
    const c = started();
    const logged: string[] = [];
    const producer = createProducer({
      brokers: c.bootstraps.SASL_PLAINTEXT ?? '',
      clientId: 'security-test',
      sasl: { mechanism: 'SCRAM-SHA-256', ...ALICE },
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: (m: string) => logged.push(m),
        error: (m: string) => logged.push(m),
      },
    });
    const rounds = 2;
    const perRound = 500;
    const took: number[] = [];
    try {
      for (let round = 0; round < rounds; round++) {
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, REAUTH_MS + 1_000));
        const t0 = Date.now();
        const records = Array.from({ length: perRound }, (_, j) => record('reauth', round * perRound + j));
        expect(await producer.produceSync('reauth', records)).toHaveLength(perRound);
        took.push(Date.now() - t0);
      }
    } finally {
      await producer.close();
    }
    console.log(`[security] reauth: rounds took ${took.join(', ')} ms; warnings: ${logged.join(' | ')}`);
    await expectExactlyOnce(c, 'reauth', rounds * perRound);
  }, 30_000);

  // Known limitation: ekaf does not re-authenticate (KIP-368; SaslAuthenticate's
  // sessionLifetimeMs is decoded and ignored). Kafka closes an expired session when the next
  // request arrives, without handling it: with acks 'all' that request is retried (above); with
  // acks 0 nothing answers, so its records count as delivered and are gone.
  it.fails(
    'acks 0 across an expired session: every record delivered',
    async () => {
      const c = started();
      const producer = createProducer({
        brokers: c.bootstraps.SASL_PLAINTEXT ?? '',
        clientId: 'security-test',
        sasl: { mechanism: 'SCRAM-SHA-256', ...ALICE },
        idempotent: false,
        defaults: { acks: 0 },
      });
      const perRound = 300;
      try {
        for (let round = 0; round < 2; round++) {
          if (round > 0) await new Promise((resolve) => setTimeout(resolve, REAUTH_MS + 1_000));
          const records = Array.from({ length: perRound }, (_, j) =>
            record('reauth-acks0', round * perRound + j),
          );
          await producer.produceSync('reauth-acks0', records);
        }
        await producer.flush();
      } finally {
        await producer.close();
      }
      const read = await readWithKcat(c.bootstrap, 'reauth-acks0');
      console.log(`[security] reauth, acks 0: ${2 * perRound} produced, ${read.length} read back`);
      await expectExactlyOnce(c, 'reauth-acks0', 2 * perRound);
    },
    30_000,
  );
});
