import type * as Crypto from 'node:crypto';
import { lazyBuiltin } from '../lazy-builtin.js';

const crypto = lazyBuiltin('node:crypto') as () => typeof Crypto;
import { SaslAuthenticationError } from '../errors.js';

/**
 * The client side of SCRAM (RFC 5802), with the hash of SCRAM-SHA-256 (RFC 7677) or
 * SCRAM-SHA-512. No channel binding ("n,,"), as Kafka brokers expect. Three steps:
 *
 *   clientFirst()            → "n,,n=<user>,r=<client nonce>"
 *   clientFinal(serverFirst) → "c=biws,r=<nonce>,p=<proof>"   (serverFirst: "r=…,s=<salt>,i=<n>")
 *   verifyServerFinal(...)   checks "v=<server signature>": the broker knows the password too
 *
 * Passwords are used as given (UTF-8, no SASLprep normalisation): ASCII passwords, the common
 * case, are unaffected.
 */
export type ScramHash = 'sha1' | 'sha256' | 'sha512';

export class ScramClient {
  private clientFirstBare = '';
  private serverSignature: Buffer | null = null;

  constructor(
    private readonly hash: ScramHash,
    private readonly username: string,
    private readonly password: string,
    /** Tests pass the RFC's nonce; otherwise 24 random bytes, base64. */
    private readonly clientNonce: string = crypto().randomBytes(24).toString('base64'),
  ) {}

  clientFirst(): Buffer {
    this.clientFirstBare = `n=${saslName(this.username)},r=${this.clientNonce}`;
    return Buffer.from(`n,,${this.clientFirstBare}`);
  }

  clientFinal(serverFirstBytes: Buffer): Buffer {
    const serverFirst = serverFirstBytes.toString();
    const fields = parseFields(serverFirst);
    const nonce = fields.get('r');
    const salt = fields.get('s');
    const iterations = Number(fields.get('i'));
    if (fields.has('e')) throw new SaslAuthenticationError(`the broker refused: ${fields.get('e') ?? ''}`);
    if (nonce === undefined || salt === undefined || !Number.isInteger(iterations) || iterations < 1) {
      throw new SaslAuthenticationError('the broker sent a malformed SCRAM server-first message');
    }
    // The server's nonce must extend ours: anything else is not an answer to this exchange.
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length) {
      throw new SaslAuthenticationError('the broker’s SCRAM nonce does not extend the client nonce');
    }
    const salted = crypto().pbkdf2Sync(
      this.password,
      Buffer.from(salt, 'base64'),
      iterations,
      this.digestSize(),
      this.hash,
    );
    const clientKey = this.hmac(salted, 'Client Key');
    const storedKey = crypto().createHash(this.hash).update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`; // biws = base64("n,,")
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSignature = this.hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++)
      proof[i] = (clientKey[i] as number) ^ (clientSignature[i] as number);
    this.serverSignature = this.hmac(this.hmac(salted, 'Server Key'), authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`);
  }

  /** Throws unless the broker proved it knows the password (or it reported an error). */
  verifyServerFinal(serverFinalBytes: Buffer): void {
    const fields = parseFields(serverFinalBytes.toString());
    const error = fields.get('e');
    if (error !== undefined) throw new SaslAuthenticationError(`the broker refused: ${error}`);
    const verifier = fields.get('v');
    const expected = this.serverSignature;
    if (expected === null)
      throw new SaslAuthenticationError('SCRAM server-final message before client-final');
    const given = Buffer.from(verifier ?? '', 'base64');
    if (given.length !== expected.length || !crypto().timingSafeEqual(given, expected)) {
      throw new SaslAuthenticationError('the broker’s SCRAM server signature is wrong');
    }
  }

  private digestSize(): number {
    return crypto().createHash(this.hash).digest().length;
  }

  private hmac(key: Buffer, data: string): Buffer {
    return crypto().createHmac(this.hash, key).update(data).digest();
  }
}

/** RFC 5802's saslname: ',' and '=' escaped. */
function saslName(name: string): string {
  return name.replaceAll('=', '=3D').replaceAll(',', '=2C');
}

/** "a=1,b=2" → a map; values may contain '=' (base64). */
function parseFields(message: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of message.split(',')) {
    if (part.length >= 2 && part[1] === '=') fields.set(part[0] as string, part.slice(2));
  }
  return fields;
}
