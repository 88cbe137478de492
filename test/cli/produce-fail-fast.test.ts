// `ekaf produce` when Kafka cannot be reached: it gives up after --connect-timeout-ms with exit
// code 1 and one line naming each bootstrap address and its error, instead of retrying for the
// whole delivery timeout (two minutes) with a warning every retry. Real peers: a closed port, a
// node:http server, librdkafka's mock cluster.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useMockClusters } from '../support/cluster-fixture.js';
import { runCli } from './run-cli.js';
import { closedPort } from '../support/ports.js';

/** The run's own duration, from its summary line ("… in 1.50 s …"). */
function runSeconds(stderr: string): number {
  const match = /ekaf produce: \d+ records, \d+ bytes in ([\d.]+) s/.exec(stderr);
  if (match === null) throw new Error(`no summary line in:\n${stderr}`);
  return Number(match[1]);
}

const GAVE_UP = /^ekaf produce: no Kafka broker reachable within 1500 ms \(--connect-timeout-ms\): (.*)$/m;
const NOT_KAFKA = /^ekaf produce: no Kafka broker at (.*)$/m;
const HTTP_PEER =
  'the peer answered with HTTP: it is not a Kafka broker (do the brokers point at kafboy or a web server?)';

describe.concurrent('ekaf produce gives up when no broker answers within --connect-timeout-ms', () => {
  let dir: string;
  let file: string;
  let web: http.Server;
  let webAddress: string;
  let otherWeb: http.Server;
  let otherWebAddress: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ekaf-fail-fast-'));
    file = join(dir, 'lines.txt');
    writeFileSync(file, 'one\ntwo\nthree\n');
    // A web server where a broker should be: kafboy, a proxy's HTTP port, a dashboard.
    web = http.createServer((_request, response) => {
      response.end('hello');
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    webAddress = `127.0.0.1:${(web.address() as AddressInfo).port}`;
    otherWeb = http.createServer((_request, response) => {
      response.end('hello');
    });
    await new Promise<void>((resolve) => otherWeb.listen(0, '127.0.0.1', resolve));
    otherWebAddress = `127.0.0.1:${(otherWeb.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    for (const server of [web, otherWeb]) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a refused bootstrap address: exit 1 after 1.5 s, naming the address and ECONNREFUSED; the warning is not repeated', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const started = Date.now();
    const result = await runCli(['produce', '-b', address, '-t', 't', '--connect-timeout-ms', '1500', file], {
      timeoutMs: 20_000,
    });
    const elapsed = Date.now() - started;
    expect(result.code).toBe(1);
    expect(GAVE_UP.exec(result.stderr)?.[1]).toBe(
      `${address}: socket error: connect ECONNREFUSED ${address}`,
    );
    // Not the delivery timeout's two minutes: the connect timeout (its own clock), and the
    // process's, start-up (tsx) included.
    expect(runSeconds(result.stderr)).toBeGreaterThanOrEqual(1.5);
    expect(runSeconds(result.stderr)).toBeLessThan(3);
    expect(elapsed).toBeLessThan(15_000);
    expect(result.stderr).toMatch(/0 delivered, 3 failed/);
    // Retried every ~100 ms meanwhile: printed once, then one count (at exit).
    const refreshWarnings = result.stderr.split('\n').filter((line) => /metadata refresh failed/.test(line));
    expect(refreshWarnings.length).toBeGreaterThanOrEqual(1);
    expect(refreshWarnings.length).toBeLessThanOrEqual(2);
    for (const count of refreshWarnings.slice(1))
      expect(count).toMatch(/\(repeated (once|\d+ times) in the last [\d.]+ s\)/);
    expect(result.stderr).not.toMatch(/ERR_DELIVERY_TIMEOUT/);
  });

  it('a web server as the bootstrap address: named as not Kafka, at once (not at the connect timeout)', async () => {
    const result = await runCli(
      ['produce', '-b', webAddress, '-t', 't', '--connect-timeout-ms', '60000', file],
      { timeoutMs: 30_000 },
    );
    expect(result.code).toBe(1);
    expect(NOT_KAFKA.exec(result.stderr)?.[1]).toBe(`the bootstrap address: ${webAddress}: ${HTTP_PEER}`);
    // The first metadata attempt's answer decides it; the 60 s timeout never comes into it.
    expect(runSeconds(result.stderr)).toBeLessThan(10);
    // Given up before the lines were read (the run waits for the partition count first), or
    // with them read and failed: none delivered either way.
    expect(result.stderr).toMatch(/ 0 delivered, [0-3] failed/);
    expect(result.stderr).not.toMatch(/exceeds the limit/);
    expect(result.stderr).not.toMatch(GAVE_UP);
  });

  it('two web servers: both named, at once', async () => {
    const result = await runCli(['produce', '-b', `${webAddress},${otherWebAddress}`, '-t', 't', file], {
      env: { EKAF_CONNECT_TIMEOUT_MS: '60000' },
      timeoutMs: 30_000,
    });
    expect(result.code).toBe(1);
    expect(NOT_KAFKA.exec(result.stderr)?.[1]).toBe(
      `any bootstrap address: ${webAddress}: ${HTTP_PEER}; ${otherWebAddress}: ${HTTP_PEER}`,
    );
    expect(runSeconds(result.stderr)).toBeLessThan(10);
  });

  it('EKAF_CONNECT_TIMEOUT_MS, two addresses: each is named with its own error, on one line', async () => {
    const refused = `127.0.0.1:${await closedPort()}`;
    const result = await runCli(['produce', '-b', `${refused},${webAddress}`, '-t', 't', file], {
      env: { EKAF_CONNECT_TIMEOUT_MS: '1500' },
      timeoutMs: 20_000,
    });
    expect(result.code).toBe(1);
    const reasons = GAVE_UP.exec(result.stderr)?.[1]?.split('; ');
    expect(reasons).toEqual([
      `${refused}: socket error: connect ECONNREFUSED ${refused}`,
      `${webAddress}: ${HTTP_PEER}`,
    ]);
  });

  it('stops while its stdin stays open (a pipe from a live source)', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const result = await runCli(['produce', '-b', address, '-t', 't', '--connect-timeout-ms', '1500'], {
      stdin: 'first\nsecond\n',
      stdinOpen: true,
      timeoutMs: 20_000,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(GAVE_UP);
    expect(runSeconds(result.stderr)).toBeLessThan(3);
  });

  it('--connect-timeout-ms must be a positive integer', async () => {
    const result = await runCli(['produce', '-b', '127.0.0.1:9092', '-t', 'x', '--connect-timeout-ms', '0']);
    expect(result.stderr).toMatch(/--connect-timeout-ms must be an integer from 1 to 2147483647 \(got "0"\)/);
    expect(result.code).toBe(2);
  });

  it('documents --connect-timeout-ms and EKAF_CONNECT_TIMEOUT_MS in --help', async () => {
    const result = await runCli(['produce', '--help']);
    expect(result.stdout).toMatch(/--connect-timeout-ms <ms>/);
    expect(result.stdout).toContain('[EKAF_CONNECT_TIMEOUT_MS]');
  });
});

describe('ekaf produce once a broker has answered', () => {
  const clusters = useMockClusters();

  it('does not give up at --connect-timeout-ms: records wait for their delivery timeout, whose last error is named', async () => {
    const cluster = await clusters({ peer: '2.12', brokers: 1, topics: [{ name: 'far', partitions: 1 }] });
    const port = await closedPort();
    // Metadata answers at the bootstrap address, but the leader it names refuses connections
    // (a wrong advertised listener): reached, so no giving up; the cause names the leader.
    await cluster.command(`set_host_port 1 127.0.0.1 ${port}`);
    const result = await runCli(
      [
        'produce',
        '-b',
        cluster.bootstrap,
        '-t',
        'far',
        '--connect-timeout-ms',
        '1000',
        '--delivery-timeout-ms',
        '3000',
      ],
      { stdin: 'a\nb\nc\n', timeoutMs: 30_000 },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/no Kafka broker reachable/);
    expect(runSeconds(result.stderr)).toBeGreaterThanOrEqual(3);
    expect(result.stderr).toMatch(
      new RegExp(
        `3 records failed, first: ERR_DELIVERY_TIMEOUT: .*; last error: ERR_CONNECTION: 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`,
      ),
    );
  });
});
