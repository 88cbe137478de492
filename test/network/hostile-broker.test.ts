import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { DecodeError, EkafError } from '../../src/errors.js';
import { Connection } from '../../src/network/connection.js';
import { encodeRequestFrame } from '../../src/network/request-frame.js';
import { responseHeaderVersion, type Api } from '../../src/protocol/api.js';
import { ApiVersions } from '../../src/protocol/apis/api-versions.js';
import { InitProducerId } from '../../src/protocol/apis/init-producer-id.js';
import { Metadata } from '../../src/protocol/apis/metadata.js';
import { Produce } from '../../src/protocol/apis/produce.js';
import { readResponseHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { RecordBatchBuilder } from '../../src/protocol/record-batch.js';
import { runChaos } from '../broker/chaos.js';
import { apiVersionsV0Body, responseFrame, startFakeBroker } from '../support/fake-broker.js';
import { seeded } from '../support/seeded.js';
import { useMockCluster } from '../support/cluster-fixture.js';

/**
 * A hostile broker: responses truncated, oversized, mutated or random. The seeds are real
 * responses of librdkafka's mock broker to every API and version ekaf speaks; each is mutated
 * many times and fed to the decoders (every outcome must be a value or a DecodeError, never
 * another exception, never a hang), then to a live Connection (every request must settle with a
 * value or a typed error, and the connection must close on a bad frame).
 */

type AnyApi = Api<unknown, unknown>;
interface Seed {
  api: AnyApi;
  version: number;
  /** The response frame after its size: correlation id, header tags (v1), body. */
  frame: Buffer;
}

/** The mutations' seed; EKAF_HOSTILE_SEED=<n> replays another. */
const SEED = Number(process.env.EKAF_HOSTILE_SEED ?? 0x5eed_f422);
const DECODER_CASES = 12_000;
const CONNECTION_CASES = 400;

function requestFor(api: AnyApi): unknown {
  if (api === ApiVersions) return { clientSoftwareName: 'ekaf-fuzz', clientSoftwareVersion: '0.1.0' };
  if (api === Metadata) return { topics: ['fuzz'], allowAutoTopicCreation: false };
  if (api === InitProducerId) {
    return { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 };
  }
  const builder = new RecordBatchBuilder();
  for (let i = 0; i < 3; i++)
    builder.append({ key: null, value: Buffer.from(`v${i}`), headers: [], timestamp: 1 });
  return {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topics: [{ name: 'fuzz', partitions: [{ partition: 0, records: builder.seal() }] }],
  };
}

/** Sends one request frame on a plain socket and returns the response frame (after its size). */
function exchange(port: number, frame: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffered = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        socket.destroy();
        resolve(buffered.subarray(4, 4 + buffered.readInt32BE(0)));
      }
    });
    socket.write(frame);
  });
}

/** Decodes a response frame as the connection does: header, then body; trailing bytes ignored. */
function decodeFrame(api: AnyApi, version: number, frame: Buffer): unknown {
  const reader = new Reader(frame);
  readResponseHeader(reader, responseHeaderVersion(api, version));
  return api.decodeResponse(reader, version);
}

/** One mutation of `frame`, chosen by `random`. */
function mutate(frame: Buffer, random: () => number, seeds: readonly Seed[]): Buffer {
  const at = (n: number): number => Math.floor(random() * n);
  const copy = Buffer.from(frame);
  switch (at(7)) {
    case 0: // truncated
      return copy.subarray(0, at(copy.length));
    case 1: {
      // a few bytes flipped
      for (let i = 1 + at(8); i > 0 && copy.length > 0; i--) copy[at(copy.length)] = at(256);
      return copy;
    }
    case 2: {
      // a length or count field made huge, negative or zero
      if (copy.length < 4) return copy;
      const values = [0x7fffffff, -1, -2, 0, 0x10000, 0x7ffffffe, copy.length * 2];
      copy.writeInt32BE(values[at(values.length)] as number, at(copy.length - 3));
      return copy;
    }
    case 3: {
      // a varint made endless (continuation bits all the way)
      const from = at(copy.length);
      for (let i = from; i < Math.min(copy.length, from + 6); i++) copy[i] = 0xff;
      return copy;
    }
    case 4: {
      // bytes inserted or removed in the middle
      const cut = at(copy.length);
      return random() < 0.5
        ? Buffer.concat([
            copy.subarray(0, cut),
            Buffer.from(Array.from({ length: 1 + at(16) }, () => at(256))),
            copy.subarray(cut),
          ])
        : Buffer.concat([copy.subarray(0, cut), copy.subarray(Math.min(copy.length, cut + 1 + at(16)))]);
    }
    case 5: {
      // another response's bytes under this one's API (a confused or lying broker)
      const other = seeds[at(seeds.length)] as Seed;
      return Buffer.from(other.frame);
    }
    default:
      // random bytes
      return Buffer.from(Array.from({ length: at(300) }, () => at(256)));
  }
}

describe('a hostile broker', () => {
  const cluster = useMockCluster({ peer: '2.12', brokers: 1, topics: [{ name: 'fuzz', partitions: 1 }] });
  const seeds: Seed[] = [];

  beforeAll(async () => {
    console.log(`hostile broker: seed ${SEED} (EKAF_HOSTILE_SEED=<n> replays another)`);
    const broker = cluster().brokers[0];
    if (broker === undefined) throw new Error('no broker');
    const ranges: [AnyApi, number, number][] = [
      [ApiVersions, 0, 3],
      [Metadata, 1, 12],
      [Produce, 3, 10],
      [InitProducerId, 0, 4],
    ];
    let correlationId = 1;
    for (const [api, min, max] of ranges) {
      for (let version = min; version <= max; version++) {
        const frame = await exchange(
          broker.port,
          encodeRequestFrame(api, version, correlationId++, 'ekaf-fuzz', requestFor(api)),
        );
        seeds.push({ api, version, frame });
      }
    }
  });

  it(`decoders take ${DECODER_CASES} mutated responses: a value or a DecodeError, nothing else, no hang`, () => {
    expect(seeds.length).toBe(4 + 12 + 8 + 5);
    // The seeds themselves decode, but for two answers the mock gets wrong (README, "Supported
    // Kafka versions"): ApiVersions v3 (malformed) and Produce v5 (no LogStartOffset).
    for (const seed of seeds) {
      if ((seed.api === ApiVersions && seed.version === 3) || (seed.api === Produce && seed.version === 5))
        continue;
      expect(
        () => decodeFrame(seed.api, seed.version, seed.frame),
        `${seed.api.name} v${seed.version}`,
      ).not.toThrow();
    }
    const random = seeded(SEED);
    const outcomes = { decoded: 0, decodeErrors: 0 };
    const started = performance.now();
    let slowest = 0;
    for (let i = 0; i < DECODER_CASES; i++) {
      const seed = seeds[i % seeds.length] as Seed;
      const frame = mutate(seed.frame, random, seeds);
      const t0 = performance.now();
      try {
        decodeFrame(seed.api, seed.version, frame);
        outcomes.decoded++;
      } catch (error) {
        if (!(error instanceof DecodeError)) {
          throw new Error(
            `case ${i} (seed ${SEED}): ${seed.api.name} v${seed.version} threw ${String(error)} for ${frame.toString('hex')}`,
          );
        }
        outcomes.decodeErrors++;
      }
      slowest = Math.max(slowest, performance.now() - t0);
    }
    // Both outcomes occur (the mutations are neither all harmless nor all fatal), and no input
    // made a decoder spin: a bounded decoder takes microseconds on frames of a few hundred bytes.
    expect(outcomes.decoded).toBeGreaterThan(500);
    expect(outcomes.decodeErrors).toBeGreaterThan(5000);
    expect(slowest).toBeLessThan(250);
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  it(`a connection fed ${CONNECTION_CASES} hostile answers settles every request with a value or a typed error`, async () => {
    const random = seeded(SEED + 1);
    const metadata = seeds.filter((s) => s.api === Metadata);
    // A broker that answers ApiVersions well, then Metadata with a mutated frame or a framing attack.
    let attack: (socket: net.Socket, correlationId: number, version: number) => void = () => undefined;
    const fake = await startFakeBroker((header, socket) => {
      if (header.apiKey === ApiVersions.key) {
        socket.write(
          responseFrame(
            header.correlationId,
            apiVersionsV0Body(0, [
              [3, 1, 12],
              [18, 0, 0],
            ]),
          ),
        );
      } else {
        attack(socket, header.correlationId, header.apiVersion);
      }
    });
    const outcomes = { values: 0, decode: 0, timeout: 0, connection: 0, tooLarge: 0 };
    try {
      for (let i = 0; i < CONNECTION_CASES; i++) {
        const seed = metadata[i % metadata.length] as Seed;
        const kind = Math.floor(random() * 6);
        attack = (socket, correlationId, version) => {
          const withId = (frame: Buffer): Buffer => {
            const copy = Buffer.from(frame);
            if (copy.length >= 4) copy.writeInt32BE(correlationId, 0);
            return copy;
          };
          const size = (n: number): Buffer => {
            const b = Buffer.alloc(4);
            b.writeInt32BE(n, 0);
            return b;
          };
          const own = metadata.find((s) => s.version === version) ?? seed;
          switch (kind) {
            case 0: {
              // a mutated body, correctly framed
              const body = withId(mutate(own.frame, random, seeds));
              socket.write(Buffer.concat([size(body.length), body]));
              break;
            }
            case 1: // a size beyond maxResponseBytes
              socket.write(Buffer.concat([size(0x7fffffff), withId(own.frame)]));
              break;
            case 2: // a negative size
              socket.write(size(-1 - Math.floor(random() * 1000)));
              break;
            case 3: // half a frame, then the socket closes
              socket.end(
                Buffer.concat([size(own.frame.length), withId(own.frame)]).subarray(
                  0,
                  4 + Math.floor(own.frame.length / 2),
                ),
              );
              break;
            case 4: // random bytes, no framing at all
              socket.write(
                Buffer.from(
                  Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256)),
                ),
              );
              break;
            default: // nothing: the request times out
              break;
          }
        };
        const connection = new Connection({
          host: '127.0.0.1',
          port: fake.port,
          clientId: 'ekaf-fuzz',
          requestTimeoutMs: 200,
          maxResponseBytes: 1024 * 1024,
        });
        await connection.connect();
        await connection.send(ApiVersions, 0, { clientSoftwareName: 'x', clientSoftwareVersion: '0' });
        const version = 1 + (i % 12);
        const result = await connection
          .send(Metadata, version, { topics: ['fuzz'], allowAutoTopicCreation: false })
          .then(
            () => 'value' as const,
            (error: unknown) => error,
          );
        if (result === 'value') {
          outcomes.values++;
        } else {
          expect(result, `case ${i} (seed ${SEED + 1}), attack ${kind}`).toBeInstanceOf(EkafError);
          const code = (result as EkafError).code;
          if (code === 'ERR_DECODE') outcomes.decode++;
          else if (code === 'ERR_REQUEST_TIMEOUT') outcomes.timeout++;
          else if (code === 'ERR_RESPONSE_TOO_LARGE') outcomes.tooLarge++;
          else outcomes.connection++;
          // A bad answer leaves nothing usable: the connection is closed.
          expect(connection.isOpen, `case ${i}: connection still open after ${code}`).toBe(false);
        }
        connection.close();
      }
    } finally {
      await fake.close();
    }
    expect(outcomes.decode).toBeGreaterThan(0);
    expect(outcomes.timeout).toBeGreaterThan(0);
    expect(outcomes.tooLarge).toBeGreaterThan(0);
    expect(outcomes.connection).toBeGreaterThan(0);
    expect(
      outcomes.values + outcomes.decode + outcomes.timeout + outcomes.tooLarge + outcomes.connection,
    ).toBe(CONNECTION_CASES);
  });

  it('a producer whose answers come mangled reconnects and retries: nothing lost, duplicated or reordered', async () => {
    // The chaos run with one kind of fault: every ~200 ms the next 1-3 Produce answers are
    // truncated, sized 2 GiB, or sent under another correlation id (by the sequence proxies).
    const report = await runChaos({
      seed: SEED,
      records: 60_000,
      rate: 10_000,
      faultEveryMs: 200,
      faults: ['corrupt-answers'],
    });
    const summary = JSON.stringify(report, null, 1);
    expect(report.faults.length, summary).toBeGreaterThanOrEqual(15);
    expect(report.acknowledged, summary).toBe(60_000);
    expect(report.lost, summary).toBe(0);
    expect(report.duplicated, summary).toBe(0);
    expect(report.outOfOrder, summary).toBe(0);
    // Mangled answers to batches the broker had written: their retries were recognised.
    expect(report.proxies.duplicates, summary).toBeGreaterThan(0);
  }, 120_000);
});
