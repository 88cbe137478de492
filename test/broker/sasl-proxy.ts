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
const HASHES: Record<string, 'sha256' | 'sha512'> = { 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-512': 'sha512' };

export async function startSaslProxies(
  brokers: readonly ProxiedBroker[],
  users: Record<string, string>,
  mechanisms: readonly string[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'],
): Promise<SaslProxies> {
  const logins = { ok: [] as string[], failed: [] as string[] };

  const onClient = (broker: ProxiedBroker, client: net.Socket): void => {
    const upstream = net.connect(broker.port, broker.host);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    let mechanism: string | null = null;
    let authenticated = false;
    let scram: {
      hash: 'sha256' | 'sha512';
      user: string;
      clientFirstBare: string;
      serverFirst: string;
      nonce: string;
    } | null = null;
    // Answers to forwarded requests, in order: the ApiVersions ones are rewritten.
    const forwarded: { apiKey: number; version: number }[] = [];
    frames(upstream, (frame) => {
      const request = forwarded.shift();
      client.write(
        lengthPrefixed(request?.apiKey === API_API_VERSIONS ? withSaslApis(frame, request.version) : frame),
      );
    });
    const answer = (correlationId: number, body: (w: Writer) => void): void => {
      const w = new Writer();
      w.int32(correlationId);
      body(w);
      client.write(lengthPrefixed(w.toBuffer()));
    };
    frames(client, (frame) => {
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
      if (apiKey === API_SASL_HANDSHAKE) {
        const asked = r.string();
        const known = mechanisms.includes(asked);
        if (known) mechanism = asked;
        answer(correlationId, (w) =>
          w.int16(known ? 0 : UNSUPPORTED_SASL_MECHANISM).array([...mechanisms], (aw, m) => aw.string(m)),
        );
        return;
      }
      if (apiKey !== API_SASL_AUTHENTICATE || mechanism === null) {
        close(); // Kafka closes a connection that skips authentication
        return;
      }
      // SaslAuthenticate v0-v2 (flexible from v2): the client's bytes in, ours out.
      const flexible = version >= 2;
      if (flexible) r.taggedFields();
      const input = flexible ? r.compactBytes() : r.bytes();
      const reply = (errorCode: number, message: string | null, bytes: Buffer): void => {
        answer(correlationId, (w) => {
          if (flexible) w.taggedFields();
          w.int16(errorCode);
          if (flexible) w.compactNullableString(message).compactBytes(bytes);
          else w.nullableString(message).bytes(bytes);
          if (version >= 1) w.int64(0); // session lifetime: no limit
          if (flexible) w.taggedFields();
        });
      };
      const refuse = (who: string): void => {
        logins.failed.push(`${mechanism ?? '?'}:${who}`);
        reply(
          SASL_AUTHENTICATION_FAILED,
          'Authentication failed: Invalid username or password',
          Buffer.alloc(0),
        );
      };
      if (mechanism === 'PLAIN') {
        const [, user = '', password = ''] = input.toString().split('\u0000');
        if (users[user] !== undefined && users[user] === password) {
          authenticated = true;
          logins.ok.push(`PLAIN:${user}`);
          reply(0, null, Buffer.alloc(0));
        } else {
          refuse(user);
        }
        return;
      }
      const hash = HASHES[mechanism] as 'sha256' | 'sha512';
      if (scram === null) {
        // client-first: "n,,n=<user>,r=<nonce>"
        const message = input.toString();
        const clientFirstBare = message.slice(message.indexOf(',', message.indexOf(',') + 1) + 1);
        const fields = parse(clientFirstBare);
        const user = (fields.get('n') ?? '').replaceAll('=2C', ',').replaceAll('=3D', '=');
        const nonce = `${fields.get('r') ?? ''}${randomBytes(18).toString('base64')}`;
        const salt = saltOf(user);
        const serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${ITERATIONS}`;
        scram = { hash, user, clientFirstBare, serverFirst, nonce };
        reply(0, null, Buffer.from(serverFirst));
        return;
      }
      // client-final: "c=biws,r=<nonce>,p=<proof>"
      const state = scram;
      scram = null;
      const message = input.toString();
      const withoutProof = message.slice(0, message.lastIndexOf(',p='));
      const fields = parse(message);
      const password = users[state.user];
      if (password === undefined || fields.get('r') !== state.nonce) {
        refuse(state.user);
        return;
      }
      const salted = pbkdf2Sync(password, saltOf(state.user), ITERATIONS, hash === 'sha256' ? 32 : 64, hash);
      const hmac = (key: Buffer, data: string): Buffer => createHmac(hash, key).update(data).digest();
      const storedKey = createHash(hash).update(hmac(salted, 'Client Key')).digest();
      const authMessage = `${state.clientFirstBare},${state.serverFirst},${withoutProof}`;
      const signature = hmac(storedKey, authMessage);
      const proof = Buffer.from(fields.get('p') ?? '', 'base64');
      if (proof.length !== signature.length) {
        refuse(state.user);
        return;
      }
      const clientKey = Buffer.from(proof.map((byte, i) => byte ^ (signature[i] as number)));
      if (!timingSafeEqual(createHash(hash).update(clientKey).digest(), storedKey)) {
        refuse(state.user);
        return;
      }
      authenticated = true;
      logins.ok.push(`${mechanism}:${state.user}`);
      const serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
      reply(0, null, Buffer.from(`v=${serverSignature.toString('base64')}`));
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
 * 0-1 and SaslAuthenticate 0-2 added. Other versions pass unchanged.
 */
function withSaslApis(frame: Buffer, version: number): Buffer {
  if (version > 2) return frame;
  const r = new Reader(frame);
  const correlationId = r.int32();
  const errorCode = r.int16();
  const ranges = r.array((a) => ({ key: a.int16(), min: a.int16(), max: a.int16() }));
  const rest = frame.subarray(r.offset); // throttle time (v1+)
  const keep = ranges.filter(
    (range) => range.key !== API_SASL_HANDSHAKE && range.key !== API_SASL_AUTHENTICATE,
  );
  keep.push({ key: API_SASL_HANDSHAKE, min: 0, max: 1 }, { key: API_SASL_AUTHENTICATE, min: 0, max: 2 });
  const w = new Writer();
  w.int32(correlationId).int16(errorCode);
  w.array(keep, (aw, range) => aw.int16(range.key).int16(range.min).int16(range.max));
  w.raw(rest);
  return w.toBuffer();
}
