import { describe, expect, it } from 'vitest';
import { SaslAuthenticationError } from '../../src/errors.js';
import { ScramClient } from '../../src/security/scram.js';

// The examples of RFC 5802 section 5 (SCRAM-SHA-1) and RFC 7677 section 3 (SCRAM-SHA-256): user
// "user", password "pencil", the RFCs' client nonces. SCRAM-SHA-1 is not offered by ekaf; its
// vector checks the same algorithm with another hash.
const VECTORS = [
  {
    rfc: 'RFC 5802',
    hash: 'sha1' as const,
    clientNonce: 'fyko+d2lbbFgONRv9qkxdawL',
    clientFirst: 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
    serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
    clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
    serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
  },
  {
    rfc: 'RFC 7677',
    hash: 'sha256' as const,
    clientNonce: 'rOprNGfwEbeRWgbNEkqO',
    clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
    serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    clientFinal:
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
  },
];

describe('SCRAM client', () => {
  it.each(VECTORS)('produces the $rfc example byte for byte and verifies its server', (v) => {
    const client = new ScramClient(v.hash, 'user', 'pencil', v.clientNonce);
    expect(client.clientFirst().toString()).toBe(v.clientFirst);
    expect(client.clientFinal(Buffer.from(v.serverFirst)).toString()).toBe(v.clientFinal);
    expect(() => {
      client.verifyServerFinal(Buffer.from(v.serverFinal));
    }).not.toThrow();
  });

  it.each(VECTORS)('refuses a wrong server signature ($rfc)', (v) => {
    const client = new ScramClient(v.hash, 'user', 'pencil', v.clientNonce);
    client.clientFirst();
    client.clientFinal(Buffer.from(v.serverFirst));
    const wrong = `v=${Buffer.alloc(v.hash === 'sha1' ? 20 : 32, 7).toString('base64')}`;
    expect(() => {
      client.verifyServerFinal(Buffer.from(wrong));
    }).toThrow(SaslAuthenticationError);
  });

  it('refuses a server nonce that does not extend its own, and reports server errors', () => {
    const client = new ScramClient('sha256', 'user', 'pencil', 'abc');
    client.clientFirst();
    expect(() => client.clientFinal(Buffer.from('r=xyz123,s=AAAA,i=4096'))).toThrow(/nonce/);
    expect(() => client.clientFinal(Buffer.from('e=unknown-user'))).toThrow(/refused: unknown-user/);
    expect(() => client.clientFinal(Buffer.from('r=abcdef,s=AAAA,i=0'))).toThrow(/malformed/);
  });

  it('escapes , and = in the user name (saslname)', () => {
    const client = new ScramClient('sha512', 'a=b,c', 'pw', 'n0nce');
    expect(client.clientFirst().toString()).toBe('n,,n=a=3Db=2Cc,r=n0nce');
  });

  it('never puts the password in an error message', () => {
    const password = 'hunter2-secret';
    const client = new ScramClient('sha512', 'user', password, 'n0nce');
    client.clientFirst();
    client.clientFinal(Buffer.from(`r=n0nceXYZ,s=${Buffer.from('salt').toString('base64')},i=4096`));
    try {
      client.verifyServerFinal(Buffer.from('v=AAAA'));
    } catch (error) {
      expect((error as Error).message).not.toContain(password);
      return;
    }
    throw new Error('expected a SaslAuthenticationError');
  });
});
