// TLS and SASL for the secure listeners of a test cluster: a throwaway CA and a broker
// certificate for 127.0.0.1 made with openssl per run (the broker reads them as a PKCS12
// keystore), and the broker settings for SSL, SASL_PLAINTEXT and SASL_SSL with PLAIN and
// SCRAM-SHA-256/512. SCRAM credentials are written at format time (kafka-cluster.ts).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SecureListenerName } from './kafka-cluster.js';

const exec = promisify(execFile);

export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

export interface SecurityMaterial {
  /** The CA that signed the broker certificate, PEM: a client's `ca`. */
  caPem: string;
  keystore: string;
  keystorePassword: string;
  scramUsers: { name: string; password: string }[];
  /** The server.properties entries for these listeners. */
  brokerConfig(
    listeners: readonly SecureListenerName[],
    plainUsers: { name: string; password: string }[],
  ): Record<string, string>;
}

/** Makes a CA, a broker key and certificate (SAN IP:127.0.0.1, DNS:localhost) and a keystore in dir. */
export async function makeSecurityMaterial(
  dir: string,
  scramUsers: { name: string; password: string }[],
): Promise<SecurityMaterial> {
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => join(dir, name);
  const password = randomBytes(12).toString('hex');
  const openssl = (...args: string[]) => exec('openssl', args);
  await openssl(
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=ekaf test CA',
    '-keyout', f('ca.key'), '-out', f('ca.pem'),
  ); // prettier-ignore
  await openssl(
    'req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1',
    '-keyout', f('broker.key'), '-out', f('broker.csr'),
  ); // prettier-ignore
  await exec('sh', [
    '-c',
    // The SAN is what Node checks when connecting to 127.0.0.1 (the CN is ignored).
    `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > '${f('san.ext')}'`,
  ]);
  await openssl(
    'x509', '-req', '-in', f('broker.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', f('san.ext'), '-out', f('broker.pem'),
  ); // prettier-ignore
  await openssl(
    'pkcs12', '-export', '-in', f('broker.pem'), '-inkey', f('broker.key'), '-certfile', f('ca.pem'),
    '-name', 'broker', '-out', f('broker.p12'), '-passout', `pass:${password}`,
  ); // prettier-ignore

  return {
    caPem: readFileSync(f('ca.pem'), 'utf8'),
    keystore: f('broker.p12'),
    keystorePassword: password,
    scramUsers,
    brokerConfig(listeners, plainUsers) {
      const config: Record<string, string> = {
        'ssl.keystore.type': 'PKCS12',
        'ssl.keystore.location': f('broker.p12'),
        'ssl.keystore.password': password,
        'ssl.key.password': password,
        'sasl.enabled.mechanisms': SASL_MECHANISMS.join(','),
      };
      const plain = plainUsers.map((u) => `user_${u.name}="${u.password}"`).join(' ');
      for (const listener of listeners) {
        if (!listener.startsWith('SASL_')) continue;
        const prefix = `listener.name.${listener.toLowerCase()}`;
        config[`${prefix}.plain.sasl.jaas.config`] =
          `org.apache.kafka.common.security.plain.PlainLoginModule required ${plain};`;
        for (const mech of ['scram-sha-256', 'scram-sha-512']) {
          config[`${prefix}.${mech}.sasl.jaas.config`] =
            'org.apache.kafka.common.security.scram.ScramLoginModule required;';
        }
      }
      return config;
    },
  };
}
