import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { listenPerBroker, type BrokerProxies } from './framing.js';
import type { ProxiedBroker } from './sequence-proxy.js';

/** A test certificate authority and a server certificate it signed, PEM. */
export interface TestPki {
  ca: string;
  serverKey: string;
  serverCert: string;
}

/**
 * A CA and a server certificate for 127.0.0.1 and localhost, made with the openssl command (a
 * Debian package; node:crypto cannot sign certificates). Fresh keys each call.
 */
export function makeTestPki(name = 'ekaf test CA'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'ekaf-pki-'));
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  try {
    run([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    ]);
    run([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=localhost',
    ]);
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    run([
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '2',
      '-extfile',
      'san.ext',
    ]);
    const read = (file: string): string => readFileSync(join(dir, file), 'utf8');
    return { ca: read('ca.pem'), serverKey: read('server.key'), serverCert: read('server.pem') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type TlsProxies = BrokerProxies;

/** A TLS-terminating proxy in front of each broker: TLS on the outside, plaintext to the broker. */
export function startTlsProxies(brokers: readonly ProxiedBroker[], pki: TestPki): Promise<TlsProxies> {
  return listenPerBroker(brokers, (broker) => {
    const server = tls.createServer({ key: pki.serverKey, cert: pki.serverCert }, (client) => {
      const upstream = net.connect(broker.port, broker.host);
      client.pipe(upstream).pipe(client);
      const close = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    // A client that refuses our certificate ends its handshake: not the proxy's failure.
    server.on('tlsClientError', () => undefined);
    return server;
  });
}
