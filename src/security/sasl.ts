import { SaslAuthenticationError } from '../errors.js';
import type { Connection } from '../network/connection.js';
import { SaslAuthenticate } from '../protocol/apis/sasl-authenticate.js';
import { SaslHandshake } from '../protocol/apis/sasl-handshake.js';
import { ErrorCode, kafkaError } from '../protocol/error-codes.js';
import { ScramClient, type ScramHash } from './scram.js';

/** The SASL mechanisms ekaf speaks, by their Kafka names. */
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface SaslCredentials {
  /** 'PLAIN', 'SCRAM-SHA-256' or 'SCRAM-SHA-512' (any case). */
  mechanism: SaslMechanism | Lowercase<SaslMechanism>;
  username: string;
  password: string;
}

/**
 * The `sasl` option: credentials, or a function that returns them (or a promise of them), called
 * before each connection is authenticated, so that rotated credentials are picked up.
 */
export type SaslOption = SaslCredentials | (() => SaslCredentials | Promise<SaslCredentials>);

const SCRAM_HASHES: Record<Exclude<SaslMechanism, 'PLAIN'>, ScramHash> = {
  'SCRAM-SHA-256': 'sha256',
  'SCRAM-SHA-512': 'sha512',
};

/** Credentials as ekaf uses them: the mechanism in its Kafka spelling. */
export type CheckedCredentials = SaslCredentials & { mechanism: SaslMechanism };

/** What is wrong with credentials given by the application, or null. Never echoes the password. */
export function credentialsProblem(credentials: unknown): string | null {
  if (typeof credentials !== 'object' || credentials === null) {
    return 'must be { mechanism, username, password } or a function returning it';
  }
  const { mechanism, username, password } = credentials as Record<string, unknown>;
  const name = typeof mechanism === 'string' ? mechanism.toUpperCase() : '';
  if (!(SASL_MECHANISMS as readonly string[]).includes(name)) {
    return `mechanism must be one of ${SASL_MECHANISMS.join(', ')}`;
  }
  if (typeof username !== 'string' || username.length === 0) return 'username must be a non-empty string';
  if (typeof password !== 'string') return 'password must be a string';
  return null;
}

/**
 * The `sasl` option as the runtime keeps it: a function giving checked credentials for each
 * connection. A function holds the password out of sight of JSON.stringify, util.inspect and
 * inspect() snapshots.
 */
export type CredentialsSource = () => Promise<CheckedCredentials>;

export function credentialsSource(option: SaslOption): CredentialsSource {
  if (typeof option !== 'function') {
    const fixed = normalize(option);
    return () => Promise.resolve(fixed);
  }
  return async () => {
    const given: unknown = await option();
    const problem = credentialsProblem(given);
    if (problem !== null) throw new SaslAuthenticationError(`the sasl function's credentials: ${problem}`);
    return normalize(given as SaslCredentials);
  };
}

function normalize(credentials: SaslCredentials): CheckedCredentials {
  return {
    mechanism: credentials.mechanism.toUpperCase() as SaslMechanism,
    username: credentials.username,
    password: credentials.password,
  };
}

/**
 * Authenticates a fresh connection (after ApiVersions): SaslHandshake names the mechanism, then
 * the exchange follows: one message for PLAIN, two for SCRAM, whose last answer must prove the
 * broker knows the password too. After a v1 handshake each message is a SaslAuthenticate request
 * (`versions.authenticate`); after v0 (brokers before Kafka 1.0) it is a raw token, and a
 * refusal is the broker closing the connection, with no reason given.
 */
export async function authenticate(
  connection: Connection,
  versions: { handshake: number; authenticate: number | null },
  credentials: CheckedCredentials,
): Promise<void> {
  const { mechanism } = credentials;
  const handshake = await connection.send(SaslHandshake, versions.handshake, { mechanism });
  if (handshake.errorCode === ErrorCode.UNSUPPORTED_SASL_MECHANISM) {
    throw new SaslAuthenticationError(
      `${connection.address} does not enable ${mechanism} (it enables ${handshake.mechanisms.join(', ') || 'none'})`,
    );
  }
  if (handshake.errorCode !== ErrorCode.NONE) {
    throw new SaslAuthenticationError(
      `${connection.address}: SaslHandshake: ${kafkaError(handshake.errorCode).name}`,
    );
  }
  const refused = (reason: string): SaslAuthenticationError =>
    new SaslAuthenticationError(
      `${connection.address} refused ${mechanism} for user "${credentials.username}": ${reason}`,
    );
  const raw = async (token: Buffer): Promise<Buffer> => {
    try {
      return await connection.sendRaw(SaslHandshake, token);
    } catch {
      throw refused('the broker closed the connection (SaslHandshake v0 gives no reason)');
    }
  };
  const authenticateVersion = versions.authenticate;
  const step = async (authBytes: Buffer): Promise<Buffer> => {
    if (authenticateVersion === null) return raw(authBytes);
    const answer = await connection.send(SaslAuthenticate, authenticateVersion, { authBytes });
    if (answer.errorCode !== ErrorCode.NONE) {
      const name = kafkaError(answer.errorCode).name;
      throw refused(answer.errorMessage === null ? name : `${name} (${answer.errorMessage})`);
    }
    return answer.authBytes;
  };
  if (mechanism === 'PLAIN') {
    // RFC 4616: authorization id (empty: the same as the user), user, password, NUL-separated.
    await step(Buffer.from(`\u0000${credentials.username}\u0000${credentials.password}`));
    return;
  }
  const scram = new ScramClient(SCRAM_HASHES[mechanism], credentials.username, credentials.password);
  const serverFirst = await step(scram.clientFirst());
  const serverFinal = await step(scram.clientFinal(serverFirst));
  scram.verifyServerFinal(serverFinal);
}
