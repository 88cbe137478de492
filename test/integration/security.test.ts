import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlsError, type EkafError } from '../../src/errors.js';
import { Connection } from '../../src/network/connection.js';
import { createProducer, type Producer } from '../../src/producer.js';
import type { MockCluster } from '../broker/cluster.js';
import { spreadLeaders, useMockCluster } from '../support/cluster-fixture.js';
import { readTopic } from '../broker/kcat.js';
import { startSaslProxies, type SaslProxies } from '../broker/sasl-proxy.js';
import { makeTestPki, startTlsProxies, type TestPki, type TlsProxies } from '../broker/tls-proxy.js';
import { runCli } from '../cli/run-cli.js';

/**
 * TLS and SASL end to end against librdkafka's 2.12 mock cluster: proxies in front of every
 * broker (TLS-terminating with a CA made for the test, or authenticating as a SASL broker), the
 * brokers re-advertised at the proxies' addresses so that connections found through metadata
 * go through them too; every record read back with kcat from the brokers themselves.
 */

/** Re-advertises each broker at `ports` (or at its own port when omitted). */
async function advertise(cluster: MockCluster, ports?: Map<number, number>): Promise<void> {
  for (const broker of cluster.brokers) {
    await cluster.command(`set_host_port ${broker.id} 127.0.0.1 ${ports?.get(broker.id) ?? broker.port}`);
  }
}

async function produceAll(producer: Producer, topic: string, count: number): Promise<void> {
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < count; i += 500) {
    calls.push(
      producer.produceSync(
        topic,
        Array.from({ length: Math.min(500, count - i) }, (_, j) => ({
          key: `k${(i + j) % 50}`,
          value: `v${i + j}`,
        })),
      ),
    );
  }
  await Promise.all(calls);
}

async function readBack(cluster: MockCluster, topic: string): Promise<string[]> {
  await advertise(cluster); // kcat reads from the brokers directly
  return (await readTopic(cluster.bootstrap, topic)).map((r) => r.value?.toString() ?? '').sort();
}

const expected = (count: number): string[] => Array.from({ length: count }, (_, i) => `v${i}`).sort();

describe('TLS to every broker (librdkafka 2.12 mock behind TLS proxies)', () => {
  const cluster = useMockCluster({
    peer: '2.12',
    brokers: 3,
    topics: [{ name: 'tls', partitions: 6 }],
    setup: (started) => spreadLeaders(started, 'tls', 6),
  });
  let pki: TestPki;
  let proxies: TlsProxies;

  beforeAll(async () => {
    pki = makeTestPki();
    proxies = await startTlsProxies(cluster().brokers, pki);
  });
  afterAll(async () => {
    await proxies.close();
  });

  it('produces 10 000 records over TLS; kcat reads them all back', async () => {
    await advertise(cluster(), proxies.ports);
    const producer = createProducer({ brokers: proxies.bootstrap, tls: { ca: pki.ca } });
    try {
      await produceAll(producer, 'tls', 10_000);
      // Every broker was reached through its TLS proxy (found through metadata, not bootstrap).
      expect(producer.inspect().filter((a) => a.kind === 'broker' && a.state === 'ready')).toHaveLength(3);
    } finally {
      await producer.close();
    }
    expect(await readBack(cluster(), 'tls')).toEqual(expected(10_000));
  });

  it('sends the broker host name as SNI (never an IP address), or the servername given', async () => {
    const { createServer } = await import('node:tls');
    const names: (string | false)[] = [];
    const server = createServer({ key: pki.serverKey, cert: pki.serverCert }, (socket) => {
      names.push((socket as unknown as { servername: string | false }).servername);
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      for (const [host, servername] of [
        ['localhost', undefined],
        ['127.0.0.1', undefined],
        ['127.0.0.1', 'kafka-1.example'],
      ] as const) {
        const before = names.length;
        const connection = new Connection({
          host,
          port,
          clientId: 'x',
          // Not verified here: the point is what the client says in its hello.
          tls: { ca: pki.ca, servername, rejectUnauthorized: false },
        });
        await connection.connect();
        // The server sees the finished handshake a moment after the client does.
        await expect.poll(() => names.length, { interval: 10 }).toBe(before + 1);
        connection.close();
      }
    } finally {
      server.close();
    }
    expect(names).toEqual(['localhost', false, 'kafka-1.example']);
  });

  it('a certificate from another CA is a TlsError that says why, not a timeout', async () => {
    const other = makeTestPki('some other CA');
    const port = proxies.ports.get(1) as number;
    const connection = new Connection({ host: '127.0.0.1', port, clientId: 'x', tls: { ca: other.ca } });
    const error = await connection.connect().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TlsError);
    expect((error as TlsError).reason).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect((error as Error).message).toMatch(/TLS handshake failed: unable to verify the first certificate/);

    // Through the producer: its error events carry the same code and reason.
    await advertise(cluster(), proxies.ports);
    const producer = createProducer({
      brokers: proxies.bootstrap,
      tls: { ca: other.ca },
      retryBackoffMs: 50,
    });
    const errors: EkafError[] = [];
    producer.on('error', (e) => errors.push(e));
    const firstError = new Promise((resolve) => producer.once('error', resolve));
    try {
      producer.produceAsync('tls', 'never');
      await firstError;
      // The error as it was thrown, with its class and fields, not a copy of its code and message.
      expect(errors[0]).toBeInstanceOf(TlsError);
      expect(errors[0]).toMatchObject({ code: 'ERR_TLS', reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    } finally {
      await producer.close({ timeoutMs: 100 });
    }
  });
});

describe('SASL on every broker (librdkafka 2.12 mock behind authenticating proxies)', () => {
  const password = 'c0rrect-h0rse-battery';
  const cluster = useMockCluster({
    peer: '2.12',
    brokers: 3,
    topics: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'].map((m) => ({
      name: m.toLowerCase(),
      partitions: 3,
    })),
    setup: async (started) => {
      for (const m of ['plain', 'scram-sha-256', 'scram-sha-512']) await spreadLeaders(started, m, 3);
    },
  });
  let proxies: SaslProxies;

  beforeAll(async () => {
    proxies = await startSaslProxies(cluster().brokers, { app: password });
  });
  afterAll(async () => {
    await proxies.close();
  });

  it.each(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const)(
    '%s: authenticates every connection, produces, and kcat reads it all back',
    async (mechanism) => {
      await advertise(cluster(), proxies.ports);
      const topic = mechanism.toLowerCase();
      const producer = createProducer({
        brokers: proxies.bootstrap,
        sasl: { mechanism, username: 'app', password },
      });
      try {
        await produceAll(producer, topic, 3000);
      } finally {
        await producer.close();
      }
      // The metadata connection and the three brokers' connections each logged in.
      expect(proxies.logins.ok.filter((l) => l === `${mechanism}:app`).length).toBeGreaterThanOrEqual(4);
      expect(await readBack(cluster(), topic)).toEqual(expected(3000));
    },
  );

  it('asks a credentials function before each connection: rotated credentials are picked up', async () => {
    await advertise(cluster(), proxies.ports);
    let calls = 0;
    const producer = createProducer({
      brokers: proxies.bootstrap,
      retryBackoffMs: 50,
      retryBackoffMaxMs: 100,
      // The first two connections get an outdated password, the next ones the current one.
      sasl: () => ({
        mechanism: 'SCRAM-SHA-256',
        username: 'app',
        password: ++calls <= 2 ? 'outdated' : password,
      }),
    });
    try {
      await producer.produceSync('scram-sha-256', 'after rotation');
    } finally {
      await producer.close();
    }
    expect(calls).toBeGreaterThanOrEqual(4); // metadata + at least one broker, after two refusals
    await advertise(cluster());
    const values = (await readTopic(cluster().bootstrap, 'scram-sha-256')).map((r) => r.value?.toString());
    expect(values).toContain('after rotation');
  });

  it('a wrong password is a typed authentication error; the password is nowhere to be seen', async () => {
    await advertise(cluster(), proxies.ports);
    const wrong = 'wr0ng-pa55word-value';
    const failedBefore = proxies.logins.failed.length;
    const logged: string[] = [];
    const log = (message: string, fields?: object): void => {
      logged.push(`${message} ${JSON.stringify(fields ?? {})}`);
    };
    const producer = createProducer({
      logger: { debug: log, info: log, warn: log, error: log },
      brokers: proxies.bootstrap,
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'app', password: wrong },
      retryBackoffMs: 200,
      retryBackoffMaxMs: 400,
      deliveryTimeoutMs: 1500,
    });
    const errors: EkafError[] = [];
    producer.on('error', (e) => errors.push(e));
    try {
      const outcome = await producer.produceSync('plain', 'never').then(
        () => null,
        (e: unknown) => e,
      );
      expect(outcome).toMatchObject({ code: 'ERR_DELIVERY_TIMEOUT' });
      expect(errors.length).toBeGreaterThan(0);
      expect(errors[0]?.code).toBe('ERR_SASL_AUTHENTICATION');
      expect(errors[0]?.message).toMatch(/refused SCRAM-SHA-512 for user "app": SASL_AUTHENTICATION_FAILED/);
      // Retried with backoff, not in a tight loop: a few attempts in 1.5 s, not hundreds.
      const attempts = proxies.logins.failed.length - failedBefore;
      expect(attempts).toBeGreaterThan(0);
      expect(attempts).toBeLessThan(20);
      // The password appears in no error, event, snapshot or log line.
      const seen = [
        ...errors.map((e) => `${e.message} ${String(e.stack)} ${inspect(e)}`),
        inspect(outcome, { depth: 5 }),
        JSON.stringify(producer.inspect()),
        ...logged,
        inspect(producer.inspect(), { depth: 10 }),
      ].join('\n');
      expect(logged.some((line) => line.includes('SASL authentication failed'))).toBe(true);
      expect(seen).not.toContain(wrong);
    } finally {
      await producer.close({ timeoutMs: 100 });
    }
  });
});

describe('SASL with a broker before Kafka 1.0 (SaslHandshake v0, raw tokens)', () => {
  const cluster = useMockCluster({
    peer: '2.12',
    brokers: 2,
    topics: [{ name: 'legacy', partitions: 2 }],
    setup: (started) => spreadLeaders(started, 'legacy', 2),
  });
  let proxies: SaslProxies;

  beforeAll(async () => {
    proxies = await startSaslProxies(cluster().brokers, { old: 'v0-password' }, { legacy: true });
    await advertise(cluster(), proxies.ports);
  });
  afterAll(async () => {
    await proxies.close();
  });

  it.each(['PLAIN', 'SCRAM-SHA-256'] as const)(
    '%s: authenticates with raw tokens and delivers',
    async (mechanism) => {
      const producer = createProducer({
        brokers: proxies.bootstrap,
        sasl: { mechanism, username: 'old', password: 'v0-password' },
      });
      try {
        await producer.produceSync(
          'legacy',
          // Both partitions named: null-keyed records may stick to one partition, and both brokers must log in.
          Array.from({ length: 100 }, (_, i) => ({ value: `${mechanism}-${i}`, partition: i % 2 })),
        );
      } finally {
        await producer.close();
      }
      expect(proxies.logins.ok.filter((l) => l === `${mechanism}:old`).length).toBeGreaterThanOrEqual(3);
    },
  );

  it('a refusal (the broker closes the connection) is an authentication error', async () => {
    const producer = createProducer({
      brokers: proxies.bootstrap,
      sasl: { mechanism: 'PLAIN', username: 'old', password: 'not-it' },
      retryBackoffMs: 200,
    });
    const errors: EkafError[] = [];
    producer.on('error', (e) => errors.push(e));
    const firstError = new Promise((resolve) => producer.once('error', resolve));
    try {
      producer.produceAsync('legacy', 'never');
      await firstError;
      expect(errors[0]?.code).toBe('ERR_SASL_AUTHENTICATION');
      expect(errors[0]?.message).toMatch(/refused PLAIN for user "old": the broker closed the connection/);
    } finally {
      await producer.close({ timeoutMs: 100 });
    }
    await advertise(cluster());
    const values = (await readTopic(cluster().bootstrap, 'legacy')).map((r) => r.value?.toString());
    expect(values.length).toBe(200);
    await advertise(cluster(), proxies.ports);
  });
});

describe('ekaf produce over TLS and SASL (settings from the environment)', () => {
  const cluster = useMockCluster({ peer: '2.12', brokers: 2, topics: [{ name: 'cli', partitions: 2 }] });

  it('--tls-ca with a TLS proxy, then SCRAM from KAFKA_SASL_* with a SASL proxy', async () => {
    const pki = makeTestPki();
    const caFile = join(mkdtempSync(join(tmpdir(), 'ekaf-ca-')), 'ca.pem');
    writeFileSync(caFile, pki.ca);
    const tlsProxies = await startTlsProxies(cluster().brokers, pki);
    try {
      await advertise(cluster(), tlsProxies.ports);
      const result = await runCli(['produce', '-b', tlsProxies.bootstrap, '-t', 'cli', '--tls-ca', caFile], {
        stdin: 'tls-1\ntls-2\n',
      });
      expect(result.stderr).toMatch(/2 delivered, 0 failed/);
    } finally {
      await tlsProxies.close();
    }
    const saslProxies = await startSaslProxies(cluster().brokers, { cli: 'pw-from-env' });
    try {
      await advertise(cluster(), saslProxies.ports);
      const env = {
        KAFKA_SASL_MECHANISM: 'scram-sha-256',
        KAFKA_SASL_USERNAME: 'cli',
        KAFKA_SASL_PASSWORD: 'pw-from-env',
      };
      const result = await runCli(['produce', '-b', saslProxies.bootstrap, '-t', 'cli'], {
        stdin: 'sasl-1\n',
        env,
      });
      expect(result.stderr).toMatch(/1 delivered, 0 failed/);
      const missing = await runCli(['produce', '-b', saslProxies.bootstrap, '-t', 'cli'], {
        stdin: 'x\n',
        env: { KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'cli' },
      });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(
        /KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD go together/,
      );
    } finally {
      await saslProxies.close();
    }
    expect(await readBack(cluster(), 'cli')).toEqual(['sasl-1', 'tls-1', 'tls-2']);
  });
});
