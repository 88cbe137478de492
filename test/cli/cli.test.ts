// The ekaf command line, run as a child process (tsx src/cli.ts): help, usage errors, produce
// into a mock cluster read back by kcat, the dev cluster, and serve.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useMockCluster, useMockClusters } from '../support/cluster-fixture.js';
import { listMetadata, produceWithKcat, readTopic } from '../broker/kcat.js';
import { waitFor } from '../gateway/helpers.js';
import { runCli, startCli, type RunningCli } from './run-cli.js';
import { closedPort, freePortRun } from '../support/ports.js';

describe.concurrent('ekaf --help', () => {
  it.each([
    [['--help'], /Usage: ekaf <command>/],
    [['help', 'produce'], /Usage: ekaf produce/],
    [['serve', '--help'], /Usage: ekaf serve/],
    [['produce', '--help'], /Usage: ekaf produce/],
    [['produce', '-h'], /Usage: ekaf produce/],
    [['dev-cluster', '--help'], /Usage: ekaf dev-cluster/],
  ])('ekaf %j prints its usage and exits 0', async (args, usage) => {
    const result = await runCli(args);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(usage);
    expect(result.code).toBe(0);
  });

  it('documents every environment variable of serve and produce', async () => {
    const serve = await runCli(['serve', '--help']);
    for (const name of [
      'KAFKA_BROKERS',
      'KAFKA_CLIENT_ID',
      'EKAF_PORT',
      'EKAF_HOST',
      'EKAF_AUTH_TOKEN',
      'EKAF_WORKERS',
      'EKAF_MAX_BODY_BYTES',
      'EKAF_REQUEST_TIMEOUT_MS',
      'EKAF_DRAIN_TIMEOUT_MS',
      'KAFKA_TLS=1',
      'KAFKA_TLS_CA',
      'KAFKA_SASL_MECHANISM',
      'KAFKA_SASL_USERNAME',
      'KAFKA_SASL_PASSWORD',
      'EKAF_SPOOL_DIR',
      'EKAF_SPOOL_MODE',
      'EKAF_SPOOL_MAX_BYTES',
      'EKAF_SPOOL_FSYNC',
      'EKAF_TRANSACTIONAL_ID',
      'EKAF_ALLOWED_HOSTS',
      'EKAF_ALLOW_TOPICS',
      'EKAF_MAX_TOPICS',
      'EKAF_WARM_TOPICS',
      'EKAF_RESPONSE_TIMEOUT_MS',
      'EKAF_MAX_CONNECTIONS',
    ]) {
      expect(serve.stdout).toContain(`[${name}]`);
    }
    const produce = await runCli(['produce', '--help']);
    for (const name of [
      'KAFKA_BROKERS',
      'KAFKA_TOPIC',
      'KAFKA_CLIENT_ID',
      'EKAF_ACKS',
      'EKAF_COMPRESSION',
      'KAFKA_TLS_CA',
      'KAFKA_SASL_PASSWORD',
    ]) {
      expect(produce.stdout).toContain(`[${name}]`);
    }
  });

  it('without a command, prints the usage on stderr and exits 2', async () => {
    const result = await runCli([]);
    expect(result.stderr).toMatch(/Usage: ekaf <command>/);
    expect(result.code).toBe(2);
  });
});

describe.concurrent('ekaf usage errors exit 2 and name the option', () => {
  it.each<[string[], Record<string, string>, RegExp]>([
    [['produce', '--nope'], {}, /unknown option --nope/],
    [['frobnicate'], {}, /unknown command "frobnicate"/],
    [['serve', '--port', 'abc'], {}, /--port must be an integer from 0 to 65535 \(got "abc"\)/],
    [['serve'], { EKAF_PORT: '70000' }, /EKAF_PORT must be an integer from 0 to 65535/],
    [['serve', '--workers', '0'], {}, /--workers must be an integer from 1/],
    [['serve', '--brokers', 'nohost'], {}, /--brokers: "nohost" is not "host:port"/],
    // Durations past 2^31 - 1 ms would overflow Node's timers (and Kafka's int32 fields).
    [
      ['serve', '--request-timeout-ms', '2147483648'],
      {},
      /--request-timeout-ms must be an integer from 1 to 2147483647 \(got "2147483648"\)/,
    ],
    [
      ['serve'],
      { EKAF_DRAIN_TIMEOUT_MS: '3000000000' },
      /EKAF_DRAIN_TIMEOUT_MS must be an integer from 0 to 2147483647/,
    ],
    [
      ['produce', '-b', '127.0.0.1:9092', '-t', 'x', '--delivery-timeout-ms', '3000000000'],
      {},
      /--delivery-timeout-ms must be an integer from 1 to 2147483647/,
    ],
    [['serve', 'extra'], {}, /takes no arguments/],
    [['serve', '--transactional-id', ''], {}, /--transactional-id must be a non-empty prefix/],
    [['produce', '-t', 'x'], {}, /missing --brokers/],
    [['produce', '-b', '127.0.0.1:9092'], {}, /missing --topic/],
    [['produce', '-t', 'x'], { KAFKA_BROKERS: 'a:b:c' }, /KAFKA_BROKERS: "a:b:c" is not "host:port"/],
    [['produce', '-b', '127.0.0.1:9092', '-t', 'bad topic'], {}, /--topic must be 1-249 characters/],
    [['produce', '-b', '127.0.0.1:9092', '-t', 'x', '--acks', '2'], {}, /--acks must be all, 0 or 1/],
    [
      ['produce', '-b', '127.0.0.1:9092', '-t', 'x', '--compression', 'brotli'],
      {},
      /--compression must be one of/,
    ],
    [['produce', '-b', '127.0.0.1:9092', '-t', 'x'], { EKAF_ACKS: 'some' }, /EKAF_ACKS must be all, 0 or 1/],
    [['produce', '-b', '127.0.0.1:9092', '-t', 'x', '--partition', '-1'], {}, /--partition/],
    [['produce', '-b', '127.0.0.1:9092', '-t', 'x', 'a', 'b'], {}, /one file at most/],
    [['produce', '-b'], {}, /option -b, --brokers <value>: argument missing/],
    [['dev-cluster', '--topic', 'demo'], {}, /--topic must be name:partitions/],
    [['dev-cluster', '--brokers', '65'], {}, /--brokers must be an integer from 1 to 64/],
    [['dev-cluster', '--topic', 'd:1:4', '--brokers', '3'], {}, /--topic d:1:4: the replication factor/],
  ])('ekaf %j (env %j)', async (args, env, message) => {
    const result = await runCli(args, { env });
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/--help" for usage/);
    expect(result.stdout).toBe('');
    expect(result.code).toBe(2);
  });
});

describe('ekaf produce', () => {
  let dir: string;
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const cluster = useMockCluster({
    topics: [
      { name: 'lines', partitions: 6 },
      { name: 'keyed', partitions: 3 },
      { name: 'acks1', partitions: 2 },
    ],
  });
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ekaf-cli-'));
  });

  it('produces 100 000 lines of a file, one record each, as kcat reads them back', async () => {
    const lines = Array.from({ length: 100_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    const file = join(dir, 'lines.txt');
    writeFileSync(file, `${lines.join('\n')}\n`);

    const result = await runCli(['produce', '-b', cluster().bootstrap, '-t', 'lines', file], {
      timeoutMs: 60_000,
    });
    expect(result.stderr).toMatch(
      /ekaf produce: 100000 records, \d+ bytes in [\d.]+ s .* 100000 delivered, 0 failed/,
    );
    expect(result.code).toBe(0);

    const records = await readTopic(cluster().bootstrap, 'lines', { timeoutMs: 60_000 });
    expect(records).toHaveLength(100_000);
    expect(records.every((r) => r.key === null)).toBe(true);
    const values = records.map((r) => r.value?.toString() ?? '<null>');
    expect([...values].sort()).toEqual([...lines].sort());
    // Within a partition, the file's order.
    const index = (v: string): number => Number(v.split(' ')[1]);
    for (let i = 1; i < records.length; i++) {
      const [a, b] = [records[i - 1], records[i]];
      if (a?.partition === b?.partition)
        expect(index(values[i] ?? '')).toBeGreaterThan(index(values[i - 1] ?? ''));
    }
    // The records went to every partition.
    expect(new Set(records.map((r) => r.partition)).size).toBe(6);
  });

  it('with -K, splits each line of stdin at the first delimiter into key and value', async () => {
    const input = 'k1:v1\nno key here\nk2:v:2\n\n:empty key\nk3:\nlast:no newline';
    const result = await runCli(['produce', '-b', cluster().bootstrap, '-t', 'keyed', '-K', ':'], {
      stdin: input,
    });
    expect(result.stderr).toMatch(/6 delivered, 0 failed/);
    expect(result.code).toBe(0);

    const records = await readTopic(cluster().bootstrap, 'keyed');
    const got = records
      .map((r) => [r.key === null ? null : r.key.toString(), r.value?.toString() ?? null])
      .sort((a, b) => String(a[1]).localeCompare(String(b[1])));
    const want: [string | null, string][] = [
      ['k1', 'v1'],
      [null, 'no key here'],
      ['k2', 'v:2'],
      ['', 'empty key'],
      ['k3', ''],
      ['last', 'no newline'],
    ];
    expect(got).toEqual(want.sort((a, b) => a[1].localeCompare(b[1])));
  });

  it('splits keys at a multi-byte delimiter across chunk boundaries, and lines longer than a chunk', async () => {
    // A file is read in 64 KiB chunks: lines are cut at every boundary, and one line spans four.
    const lines = Array.from({ length: 20_000 }, (_, i) => `key-${i}::value:${i}${'.'.repeat(i % 97)}`);
    lines.splice(7000, 0, `long::${'L'.repeat(200_000)}`, 'no delimiter: here');
    const file = join(dir, 'keyed.txt');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const result = await runCli(['produce', '-b', cluster().bootstrap, '-t', 'multi', '-K', '::', file], {
      timeoutMs: 60_000,
    });
    expect(result.stderr).toMatch(/20002 delivered, 0 failed/);
    const records = await readTopic(cluster().bootstrap, 'multi', { timeoutMs: 60_000 });
    const got = new Map(records.map((r) => [r.value?.toString() ?? '', r.key?.toString() ?? null]));
    expect(got.size).toBe(20_002);
    for (const line of lines) {
      const at = line.indexOf('::');
      const [key, value] = at === -1 ? [null, line] : [line.slice(0, at), line.slice(at + 2)];
      expect(got.get(value)).toBe(key);
    }
  });

  it('with --acks 1 and gzip (idempotence off), from stdin and options from the environment', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `v${i}`);
    const result = await runCli(['produce', '-', '--compression', 'gzip'], {
      stdin: `${lines.join('\n')}\n`,
      env: { KAFKA_BROKERS: cluster().bootstrap, KAFKA_TOPIC: 'acks1', EKAF_ACKS: '1' },
    });
    expect(result.stderr).toMatch(/1000 delivered, 0 failed/);
    expect(result.code).toBe(0);
    const records = await readTopic(cluster().bootstrap, 'acks1');
    expect(records.map((r) => r.value?.toString()).sort()).toEqual([...lines].sort());
  });

  it('exits 1 and says why when records fail', async () => {
    // Nothing listens on port 1: every record times out.
    const result = await runCli(
      ['produce', '-b', '127.0.0.1:1', '-t', 'nowhere', '--delivery-timeout-ms', '1000'],
      {
        stdin: 'a\nb\nc\n',
      },
    );
    expect(result.stderr).toMatch(/0 delivered, 3 failed/);
    expect(result.stderr).toMatch(/3 records failed, first: ERR_DELIVERY_TIMEOUT/);
    expect(result.code).toBe(1);
  });

  it('exits 1 when the file cannot be read', async () => {
    const result = await runCli(['produce', '-b', cluster().bootstrap, '-t', 'x', join(dir, 'missing.txt')]);
    expect(result.stderr).toMatch(/cannot read .*missing\.txt/);
    expect(result.code).toBe(1);
  });
});

describe('long-running commands', () => {
  let running: RunningCli | undefined;
  afterEach(() => {
    running?.kill();
    running = undefined;
  });
  // Clusters a test starts are stopped after it, before the command is killed.
  const startCluster = useMockClusters();

  it('ekaf dev-cluster prints a bootstrap address that works, and SIGTERM stops it with exit 0', async () => {
    running = startCli(['dev-cluster', '--brokers', '2', '--topic', 'dev:4', '--topic', 'one:1:1']);
    const bootstrap = await running.line(/^bootstrap: (\S+)$/);
    expect(bootstrap.split(',')).toHaveLength(2);

    const metadata = await listMetadata(bootstrap);
    expect(metadata.brokers).toHaveLength(2);
    expect(metadata.topics.find((t) => t.topic === 'dev')?.partitions).toHaveLength(4);
    expect(metadata.topics.find((t) => t.topic === 'one')?.partitions).toHaveLength(1);

    await produceWithKcat(bootstrap, 'dev', ['from kcat']);
    const ekaf = await runCli(['produce', '-b', bootstrap, '-t', 'dev'], { stdin: 'from ekaf\n' });
    expect(ekaf.code).toBe(0);
    const values = (await readTopic(bootstrap, 'dev')).map((r) => r.value?.toString());
    expect(values.sort()).toEqual(['from ekaf', 'from kcat']);

    const result = await running.stop('SIGTERM');
    expect(result.code).toBe(0);
  });

  it('ekaf dev-cluster --port P: brokers on P, P+1, P+2 (advertised so), or, with one taken, their own ports and a note', async () => {
    const first = await freePortRun(3);
    running = startCli(['dev-cluster', '--port', String(first), '--topic', 'ports:3']);
    const bootstrap = await running.line(/^bootstrap: (\S+)$/);
    const ports = [first, first + 1, first + 2];
    expect(bootstrap).toBe(ports.map((p) => `127.0.0.1:${p}`).join(','));
    expect(await running.line(/^note: +(.*timestamp 1234.*)$/)).toMatch(/constant of the mock/);
    // A client given only the first port finds every broker at its well-known port, and what
    // it writes is read back by another client through them.
    const metadata = await listMetadata(`127.0.0.1:${first}`);
    expect(metadata.brokers.map((b) => b.name).sort()).toEqual(ports.map((p) => `127.0.0.1:${p}`));
    const ekaf = await runCli(['produce', '-b', `localhost:${first}`, '-t', 'ports'], {
      stdin: 'a\nb\nc\nd\n',
    });
    expect(ekaf.code, ekaf.stderr).toBe(0);
    const values = (await readTopic(`127.0.0.1:${first + 2}`, 'ports')).map((r) => r.value?.toString());
    expect(values.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect((await running.stop('SIGTERM')).code).toBe(0);

    // One of the ports taken: none is used.
    const squatter = http.createServer();
    await new Promise<void>((resolve) => squatter.listen(first + 1, '127.0.0.1', resolve));
    try {
      running = startCli(['dev-cluster', '--port', String(first)]);
      const elsewhere = await running.line(/^bootstrap: (\S+)$/);
      expect(elsewhere.split(',').map((b) => Number(b.split(':')[1]))).not.toContain(first);
      expect(await running.line(/^note: +(ports .*)$/)).toBe(
        `ports ${first}-${first + 2} are not all free (another Kafka?): the brokers listen on the ports above`,
      );
      expect((await running.stop('SIGTERM')).code).toBe(0);
    } finally {
      squatter.close();
    }
  });

  it('ekaf serve without brokers starts the dev cluster; /healthz answers; SIGTERM exits 0', async () => {
    running = startCli(['serve', '--port', '0']);
    const url = await running.line(/^gateway: +(\S+)$/);
    expect(await running.line(/^visualizer: +(\S+)$/)).toBe(`${url}/`);
    const bootstrap = await running.line(/^bootstrap: +(\S+)/);

    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    await page.text();

    // The demo topic exists with 6 partitions.
    const metadata = await listMetadata(bootstrap, { topic: 'demo' });
    expect(metadata.topics[0]?.partitions).toHaveLength(6);

    const result = await running.stop('SIGTERM');
    expect(result.code).toBe(0);
  });

  it('ekaf serve --workers 2 shares the port; SIGTERM stops every worker and exits 0', async () => {
    running = startCli(['serve', '--port', '0', '--workers', '2']);
    const url = await running.line(/^gateway: +(\S+)$/);
    await running.line(/^workers: +2 /);
    for (let i = 0; i < 4; i++) {
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      await health.text();
    }
    const result = await running.stop('SIGTERM');
    expect(result.stderr.match(/SIGTERM received/g)).toHaveLength(2);
    expect(result.code).toBe(0);
  });

  it('ekaf serve --workers 2 --transactional-id p: one transactional id per worker (p-0, p-1); POST /tx/batch commits', async () => {
    const cluster = await startCluster({
      peer: '2.12',
      brokers: 2,
      topics: [
        { name: 'tx-cli-a', partitions: 2 },
        { name: 'tx-cli-b', partitions: 1 },
      ],
    });
    running = startCli(['serve', '--port', '0', '--workers', '2', '-b', cluster.bootstrap], {
      env: { EKAF_TRANSACTIONAL_ID: 'cli-gw' },
    });
    const url = await running.line(/^gateway: +(\S+)$/);
    const pids = (await running.line(/^workers: +2 \(pids (.+)\)$/)).split(', ').map(Number);
    const ids = (): string[] =>
      [...(running?.stderr() ?? '').matchAll(/transactional id "([^"]+)"/g)].map((m) => m[1] ?? '').sort();
    await waitFor(() => ids().length === 2);
    expect(ids()).toEqual(['cli-gw-0', 'cli-gw-1']);
    // A worker that dies is replaced in its slot, under its transactional id.
    process.kill(pids[0] ?? 0, 'SIGKILL');
    await waitFor(() => ids().length === 3, 20_000);
    expect(new Set(ids())).toEqual(new Set(['cli-gw-0', 'cli-gw-1']));
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${url}/tx/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          { topic: 'tx-cli-a', value: `a${i}` },
          { topic: 'tx-cli-b', value: `b${i}` },
        ]),
      });
      expect(res.status).toBe(200);
      await res.text();
    }
    const values = async (topic: string): Promise<string[]> =>
      (await readTopic(cluster.bootstrap, topic)).map((r) => r.value?.toString() ?? '').sort();
    expect(await values('tx-cli-a')).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
    expect(await values('tx-cli-b')).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b5']);
    const result = await running.stop('SIGTERM');
    expect(result.stderr.match(/SIGTERM received/g)).toHaveLength(2);
    expect(result.code).toBe(0);
  });

  it('ekaf serve --spool-dir: records accepted while every broker is down survive SIGKILL; the next gateway delivers them', async () => {
    const cluster = await startCluster({
      peer: '2.12',
      brokers: 2,
      topics: [{ name: 'spooled', partitions: 2 }],
    });
    const dir = mkdtempSync(join(tmpdir(), 'ekaf-cli-spool-'));
    try {
      await cluster.brokerDown(-1);
      const args = ['serve', '--port', '0', '-b', cluster.bootstrap, '--spool-dir', dir];
      running = startCli(args);
      let url = await running.line(/^gateway: +(\S+)$/);
      for (let i = 0; i < 50; i++) {
        const res = await fetch(`${url}/async/spooled`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ key: `k${i % 5}`, value: `r${i}` }),
        });
        expect(res.status).toBe(202);
        await res.text();
      }
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain('ekaf_spool{measure="records"} 50');
      expect(metrics).toMatch(/^ekaf_spool_oldest_record_age_seconds \d/m);
      running.kill(); // SIGKILL: no drain, no close()

      await cluster.brokerUp(-1);
      running = startCli(args);
      url = await running.line(/^gateway: +(\S+)$/);
      // The new gateway replays the spool on its own; read until all 50 are there.
      const values = async (): Promise<string[]> =>
        (await readTopic(cluster.bootstrap, 'spooled')).map((r) => r.value?.toString() ?? '').sort();
      await expect
        .poll(values, { timeout: 20_000, interval: 200 })
        .toEqual(Array.from({ length: 50 }, (_, i) => `r${i}`).sort());
      expect((await running.stop('SIGTERM')).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ekaf serve refuses spool settings without --spool-dir, and bad ones by name', async () => {
    const lonely = await runCli(['serve', '--spool-mode', 'always']);
    expect(lonely.code).toBe(2);
    expect(lonely.stderr).toContain('--spool-mode, --spool-fsync and --spool-max-bytes need --spool-dir');
    const bad = await runCli(['serve', '--spool-dir', tmpdir(), '--spool-fsync', 'sometimes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      `--spool-fsync: must be one of 'batch', 'interval', 'never' (got "sometimes")`,
    );
  });

  it('ekaf serve refuses bad --allowed-hosts and --allow-topics by name, before starting anything', async () => {
    const host = await runCli(['serve', '--allowed-hosts', 'ok.example,http://bad.example:80']);
    expect(host.code).toBe(2);
    expect(host.stderr).toContain('--allowed-hosts: "http://bad.example:80" is not a host name');
    const empty = await runCli(['serve', '--allow-topics', 'a,,b']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--allow-topics: an empty name in "a,,b"');
    const topic = await runCli(['serve'], { env: { EKAF_ALLOW_TOPICS: 'good,bad/topic' } });
    expect(topic.code).toBe(2);
    expect(topic.stderr).toContain('EKAF_ALLOW_TOPICS: invalid topic name "bad/topic"');
  });

  it('ekaf serve --warm-topics: /readyz answers 200 before any request used a topic', async () => {
    const cluster = await startCluster({
      peer: '2.12',
      brokers: 2,
      topics: [{ name: 'warm', partitions: 3 }],
    });
    running = startCli(['serve', '--port', '0', '-b', cluster.bootstrap], {
      env: { EKAF_WARM_TOPICS: 'warm' },
    });
    const url = await running.line(/^gateway: +(\S+)$/);
    // No produce, no config: only the warm-up can have made the topic and connected.
    await expect
      .poll(async () => (await fetch(`${url}/readyz`)).status, { timeout: 15_000, interval: 100 })
      .toBe(200);
    const actors = (await (await fetch(`${url}/api/actors`)).json()) as { kind: string; name: string }[];
    expect(
      actors
        .filter((a) => a.kind === 'partition')
        .map((a) => a.name)
        .sort(),
    ).toEqual(['partition:warm:0', 'partition:warm:1', 'partition:warm:2']);
    expect((await running.stop('SIGTERM')).code).toBe(0);
  });

  it('ekaf serve refuses --warm-topics outside --allow-topics or beyond --max-topics', async () => {
    const outside = await runCli(['serve', '--allow-topics', 'a,b', '--warm-topics', 'a,c,d']);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain('--warm-topics: "c", "d" not in --allow-topics');
    const many = await runCli(['serve', '--max-topics', '2'], { env: { EKAF_WARM_TOPICS: 'x,y,z' } });
    expect(many.code).toBe(2);
    expect(many.stderr).toContain('EKAF_WARM_TOPICS: 3 topics, more than --max-topics (2)');
    const bad = await runCli(['serve', '--warm-topics', 'ok,no way']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--warm-topics: invalid topic name "no way"');
  });

  it('ekaf serve prints the count of a repeated warning held back when it exits', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    running = startCli(['serve', '--port', '0', '-b', address, '--warm-topics', 'nowhere']);
    const url = await running.line(/^gateway: +(\S+)$/);
    // Metadata is retried (backoff from 100 ms): wait for a few failed attempts, whose warnings
    // after the first are held back for up to 10 s.
    const attempts = async (): Promise<number> => {
      const actors = (await (await fetch(`${url}/api/actors`)).json()) as {
        kind: string;
        details: { attempts?: number };
      }[];
      return actors.find((a) => a.kind === 'metadata')?.details.attempts ?? 0;
    };
    await expect.poll(attempts, { timeout: 15_000, interval: 100 }).toBeGreaterThanOrEqual(4);
    const result = await running.stop('SIGTERM');
    expect(result.code).toBe(0);
    const refresh = result.stderr.split('\n').filter((line) => line.includes('metadata refresh failed'));
    expect(refresh[0]).toMatch(/^ekaf warn: ekaf: metadata refresh failed: /);
    // The last line, printed at exit: the repeats since the line before it.
    expect(refresh.at(-1)).toMatch(/\(repeated (once|\d+ times) in the last [\d.]+ s\)/);
    expect(result.stderr.indexOf(refresh.at(-1) ?? '')).toBeGreaterThan(
      result.stderr.indexOf('kafboy: stopped'),
    );
  });

  it('ekaf serve --allow-topics and --allowed-hosts: other topics get 403, listed names are answered', async () => {
    const cluster = await startCluster({
      peer: '2.12',
      brokers: 1,
      topics: [{ name: 'cli', partitions: 1 }],
    });
    running = startCli([
      'serve',
      '--port',
      '0',
      '-b',
      cluster.bootstrap,
      '--allow-topics',
      'cli',
      '--allowed-hosts',
      'kafboy.test',
    ]);
    const url = await running.line(/^gateway: +(\S+)$/);
    const other = await fetch(`${url}/async/elsewhere`, { method: 'POST', body: 'x' });
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('ERR_TOPIC_FORBIDDEN');
    expect((await fetch(`${url}/sync/cli`, { method: 'POST', body: 'allowed' })).status).toBe(200);
    // The allowed topic is warmed up: ready without a produce first.
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const port = new URL(url).port;
    const answered = await new Promise<number>((resolve, reject) => {
      http
        .get(`${url}/readyz`, { headers: { Host: `kafboy.test:${port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    expect(answered).toBe(200);
    expect((await running.stop('SIGTERM')).code).toBe(0);
  });
});
