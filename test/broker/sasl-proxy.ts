import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { frames, lengthPrefixed, listenPerBroker, type BrokerProxies } from './framing.js';
import type { ProxiedBroker } from './sequence-proxy.js';

/**
 * A proxy in front of each broker of the mock cluster that authenticates clients as a SASL
 * broker does, then forwards their requests. librdkafka's mock has no SASL: the proxy answers
 * SaslHandshake and SaslAuthenticate itself (PLAIN per RFC 4616, SCRAM-SHA-256/512 server side
 * per RFC 5802, written apart from ekaf's client), adds those two APIs to the broker's
 * ApiVersions answer, and closes a connection that sends anything else before authenticating.
 */
export interface SaslProxies extends BrokerProxies {
  /** Successful and failed authentications, as "mechanism:user". */
  readonly logins: { ok: string[]; failed: string[] };
}

const API_SASL_HANDSHAKE = 17;
const API_API_VERSIONS = 18;
const API_SASL_AUTHENTICATE = 36;
const UNSUPPORTED_SASL_MECHANISM = 33;
const SASL_AUTHENTICATION_FAILED = 58;
const ITERATIONS = 4096;
const HASHES: Partial<Record<string, 'sha256' | 'sha512'>> = {
  'SCRAM-SHA-256': 'sha256',
  'SCRAM-SHA-512': 'sha512',
};

export interface SaslProxyOptions {
  mechanisms?: readonly string[];
  /**
   * Act as a broker before Kafka 1.0: advertise SaslHandshake v0 only and no SaslAuthenticate;
   * after the handshake the client's tokens come as raw frames, and a refusal closes the
   * connection.
   */
  legacy?: boolean;
}

type Verdict = { status: 'continue' | 'ok'; reply: Buffer } | { status: 'refused'; reply: Buffer };

export async function startSaslProxies(
  brokers: readonly ProxiedBroker[],
  users: Record<string, string>,
  options: SaslProxyOptions = {},
): Promise<SaslProxies> {
  const mechanisms = options.mechanisms ?? ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
  const legacy = options.legacy === true;
  const logins = { ok: [] as string[], failed: [] as string[] };

  /** The server side of one exchange: each client message in, a verdict and the reply out. */
  const exchange = (mechanism: string): ((input: Buffer) => Verdict) => {
    const hash = HASHES[mechanism];
    let scram: { user: string; clientFirstBare: string; serverFirst: string; nonce: string } | null = null;
    const refuse = (who: string): Verdict => {
      logins.failed.push(`${mechanism}:${who}`);
      return { status: 'refused', reply: Buffer.alloc(0) };
    };
    const accept = (who: string, reply: Buffer): Verdict => {
      logins.ok.push(`${mechanism}:${who}`);
      return { status: 'ok', reply };
    };
    return (input) => {
      if (hash === undefined) {
        // PLAIN: authorization id, user, password, NUL-separated.
        const [, user = '', password = ''] = input.toString().split('\u0000');
        return users[user] !== undefined && users[user] === password
          ? accept(user, Buffer.alloc(0))
          : refuse(user);
      }
      if (scram === null) {
        // client-first: "n,,n=<user>,r=<nonce>"
        const message = input.toString();
        const clientFirstBare = message.slice(message.indexOf(',', message.indexOf(',') + 1) + 1);
        const fields = parse(clientFirstBare);
        const user = (fields.get('n') ?? '').replaceAll('=2C', ',').replaceAll('=3D', '=');
        const nonce = `${fields.get('r') ?? ''}${randomBytes(18).toString('base64')}`;
        const serverFirst = `r=${nonce},s=${saltOf(user).toString('base64')},i=${ITERATIONS}`;
        scram = { user, clientFirstBare, serverFirst, nonce };
        return { status: 'continue', reply: Buffer.from(serverFirst) };
      }
      // client-final: "c=biws,r=<nonce>,p=<proof>"
      const state = scram;
      scram = null;
      const message = input.toString();
      const withoutProof = message.slice(0, message.lastIndexOf(',p='));
      const fields = parse(message);
      const password = users[state.user];
      if (password === undefined || fields.get('r') !== state.nonce) return refuse(state.user);
      const salted = pbkdf2Sync(password, saltOf(state.user), ITERATIONS, hash === 'sha256' ? 32 : 64, hash);
      const hmac = (key: Buffer, data: string): Buffer => createHmac(hash, key).update(data).digest();
      const storedKey = createHash(hash).update(hmac(salted, 'Client Key')).digest();
      const authMessage = `${state.clientFirstBare},${state.serverFirst},${withoutProof}`;
      const signature = hmac(storedKey, authMessage);
      const proof = Buffer.from(fields.get('p') ?? '', 'base64');
      if (proof.length !== signature.length) return refuse(state.user);
      const clientKey = Buffer.from(proof.map((byte, i) => byte ^ (signature[i] as number)));
      if (!timingSafeEqual(createHash(hash).update(clientKey).digest(), storedKey)) return refuse(state.user);
      const serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
      return accept(state.user, Buffer.from(`v=${serverSignature.toString('base64')}`));
    };
  };

  const onClient = (broker: ProxiedBroker, client: net.Socket): void => {
    const upstream = net.connect(broker.port, broker.host);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    let evaluate: ((input: Buffer) => Verdict) | null = null;
    let rawTokens = false;
    let authenticated = false;
    // Answers to forwarded requests, in order: the ApiVersions ones are rewritten.
    const forwarded: { apiKey: number; version: number }[] = [];
    frames(upstream, (frame) => {
      const request = forwarded.shift();
      client.write(
        lengthPrefixed(
          request?.apiKey === API_API_VERSIONS ? withSaslApis(frame, request.version, legacy) : frame,
        ),
      );
    });
    const answer = (correlationId: number, body: (w: Writer) => void): void => {
      const w = new Writer();
      w.int32(correlationId);
      body(w);
      client.write(lengthPrefixed(w.toBuffer()));
    };
    frames(client, (frame) => {
      if (rawTokens && evaluate !== null) {
        // After a v0 handshake: a raw token in, a raw token out; a refusal closes.
        const verdict = evaluate(frame);
        if (verdict.status === 'refused') {
          close();
          return;
        }
        if (verdict.status === 'ok') {
          authenticated = true;
          rawTokens = false;
        }
        client.write(lengthPrefixed(verdict.reply));
        return;
      }
      const r = new Reader(frame);
      const apiKey = r.int16();
      const version = r.int16();
      const correlationId = r.int32();
      r.nullableString(); // client id
      if (authenticated || apiKey === API_API_VERSIONS) {
        forwarded.push({ apiKey, version });
        upstream.write(lengthPrefixed(frame));
        return;
      }
      if (apiKey === API_SASL_HANDSHAKE && (!legacy || version === 0)) {
        const asked = r.string();
        const known = mechanisms.includes(asked);
        if (known) {
          evaluate = exchange(asked);
          rawTokens = version === 0;
        }
        answer(correlationId, (w) =>
          w.int16(known ? 0 : UNSUPPORTED_SASL_MECHANISM).array([...mechanisms], (aw, m) => aw.string(m)),
        );
        return;
      }
      if (legacy || apiKey !== API_SASL_AUTHENTICATE || evaluate === null) {
        close(); // Kafka closes a connection that skips authentication
        return;
      }
      // SaslAuthenticate v0-v2 (flexible from v2): the client's bytes in, ours out.
      const flexible = version >= 2;
      if (flexible) r.taggedFields();
      const verdict = evaluate(flexible ? r.compactBytes() : r.bytes());
      if (verdict.status === 'ok') authenticated = true;
      const refused = verdict.status === 'refused';
      answer(correlationId, (w) => {
        if (flexible) w.taggedFields();
        w.int16(refused ? SASL_AUTHENTICATION_FAILED : 0);
        const message = refused ? 'Authentication failed: Invalid username or password' : null;
        if (flexible) w.compactNullableString(message).compactBytes(verdict.reply);
        else w.nullableString(message).bytes(verdict.reply);
        if (version >= 1) w.int64(0); // session lifetime: no limit
        if (flexible) w.taggedFields();
      });
    });
  };

  const proxies = await listenPerBroker(brokers, (broker) =>
    net.createServer((client) => {
      onClient(broker, client);
    }),
  );
  return { ...proxies, logins };
}

/** A stable salt per user, as a broker stores one with the user's credentials. */
function saltOf(user: string): Buffer {
  return createHash('sha256').update(`salt:${user}`).digest().subarray(0, 16);
}

function parse(message: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of message.split(',')) if (part[1] === '=') fields.set(part[0] as string, part.slice(2));
  return fields;
}

/**
 * An ApiVersions answer v0-v2 (non-flexible; ekaf ends on v0 with the mock) with SaslHandshake
 * 0-1 and SaslAuthenticate 0-2 added (SaslHandshake 0 alone for a `legacy` broker). Other
 * versions pass unchanged.
 */
function withSaslApis(frame: Buffer, version: number, legacy: boolean): Buffer {
  if (version > 2) return frame;
  const r = new Reader(frame);
  const correlationId = r.int32();
  const errorCode = r.int16();
  const ranges = r.array((a) => ({ key: a.int16(), min: a.int16(), max: a.int16() }));
  const rest = frame.subarray(r.offset); // throttle time (v1+)
  const keep = ranges.filter(
    (range) => range.key !== API_SASL_HANDSHAKE && range.key !== API_SASL_AUTHENTICATE,
  );
  if (legacy) keep.push({ key: API_SASL_HANDSHAKE, min: 0, max: 0 });
  else keep.push({ key: API_SASL_HANDSHAKE, min: 0, max: 1 }, { key: API_SASL_AUTHENTICATE, min: 0, max: 2 });
  const w = new Writer();
  w.int32(correlationId).int16(errorCode);
  w.array(keep, (aw, range) => aw.int16(range.key).int16(range.min).int16(range.max));
  w.raw(rest);
  return w.toBuffer();
}
