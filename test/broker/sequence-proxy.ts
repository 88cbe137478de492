import net from 'node:net';
import { isFlexible } from '../../src/protocol/api.js';
import { Produce } from '../../src/protocol/apis/produce.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';

/**
 * A TCP proxy in front of one librdkafka mock broker that adds what the mock leaves out for a
 * producer without a transactional id: the broker's idempotence check. Kafka keeps, per
 * producer id and partition, the sequence number it expects next; a batch whose sequence was
 * already written is a duplicate and is not appended again (DUPLICATE_SEQUENCE_NUMBER), one
 * beyond the expected number is OUT_OF_ORDER_SEQUENCE_NUMBER. Everything else passes through
 * untouched. Put it in front of the broker with the mock's `set_host_port`, so that metadata
 * sends every client through it.
 *
 * Scope (enough for the tests that use it): it checks Produce requests with one partition; it
 * keeps its state across connections, as a broker does; batches without a producer id pass.
 */
export interface SequenceProxy {
  port: number;
  /** Batches answered as duplicates without reaching the broker. */
  readonly duplicates: number;
  close(): Promise<void>;
}

const DUPLICATE_SEQUENCE_NUMBER = 46;
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;

interface ProducerState {
  epoch: number;
  nextSequence: number;
}

/** What one client connection is waiting for, in order: a broker answer, or one of ours. */
type Pending =
  | { kind: 'upstream'; produce?: { state: ProducerState; before: number; version: number } }
  | { kind: 'local'; frame: Buffer };

export async function startSequenceProxy(upstream: { host: string; port: number }): Promise<SequenceProxy> {
  const producers = new Map<string, ProducerState>();
  const sockets = new Set<net.Socket>();
  let duplicates = 0;

  const server = net.createServer((client) => {
    const broker = net.connect(upstream.port, upstream.host);
    sockets.add(client).add(broker);
    const pending: Pending[] = [];
    const closeBoth = (): void => {
      client.destroy();
      broker.destroy();
    };
    client.on('error', closeBoth).on('close', closeBoth);
    broker.on('error', closeBoth).on('close', closeBoth);

    // Answers go back in request order: ours wait for the broker's answers sent before them.
    const flush = (): void => {
      while (pending[0]?.kind === 'local') client.write((pending.shift() as { frame: Buffer }).frame);
    };
    frames(broker, (frame) => {
      const entry = pending.shift();
      if (entry?.kind === 'upstream' && entry.produce !== undefined) {
        const { state, before, version } = entry.produce;
        // The broker refused the batch: it did not advance the sequence after all.
        if (produceFailed(frame, version)) state.nextSequence = before;
      }
      client.write(lengthPrefixed(frame));
      flush();
    });
    frames(client, (frame) => {
      const local = checkSequence(frame, producers, pending);
      if (local === null) {
        broker.write(lengthPrefixed(frame));
      } else {
        duplicates += local.duplicate ? 1 : 0;
        pending.push({ kind: 'local', frame: local.frame });
        flush();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get duplicates() {
      return duplicates;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/**
 * Checks a request frame. Returns the answer to send instead of forwarding it, or null to
 * forward it (noting in `pending` that the broker will answer).
 */
function checkSequence(
  frame: Buffer,
  producers: Map<string, ProducerState>,
  pending: Pending[],
): { frame: Buffer; duplicate: boolean } | null {
  const r = new Reader(frame);
  const apiKey = r.int16();
  const version = r.int16();
  const correlationId = r.int32();
  r.nullableString(); // client id
  if (apiKey !== Produce.key) {
    pending.push({ kind: 'upstream' });
    return null;
  }
  const flexible = isFlexible(Produce, version);
  if (flexible) r.taggedFields();
  r.flexNullableString(flexible); // transactional id
  r.int16(); // acks
  r.int32(); // timeout
  const topics = r.flexArray(flexible, (t) => {
    const name = t.flexString(flexible);
    const partitions = t.flexArray(flexible, (p) => {
      const partition = { index: p.int32(), records: p.flexNullableBytes(flexible) };
      p.flexTaggedFields(flexible);
      return partition;
    });
    t.flexTaggedFields(flexible);
    return { name, partitions };
  });
  const topic = topics[0];
  const partition = topic?.partitions[0];
  const batch = partition?.records;
  if (topics.length !== 1 || topic?.partitions.length !== 1 || !batch || batch.length < 61) {
    pending.push({ kind: 'upstream' });
    return null;
  }
  const producerId = batch.readBigInt64BE(43);
  const epoch = batch.readInt16BE(51);
  const baseSequence = batch.readInt32BE(53);
  const count = batch.readInt32BE(57);
  if (producerId < 0n) {
    pending.push({ kind: 'upstream' });
    return null;
  }
  const key = `${producerId}|${topic.name}|${partition.index}`;
  let state = producers.get(key);
  if (state === undefined || state.epoch !== epoch) {
    // A new producer id or epoch starts its sequences at 0.
    state = { epoch, nextSequence: 0 };
    producers.set(key, state);
  }
  if (baseSequence === state.nextSequence) {
    pending.push({ kind: 'upstream', produce: { state, before: state.nextSequence, version } });
    state.nextSequence += count;
    return null;
  }
  const error = baseSequence < state.nextSequence ? DUPLICATE_SEQUENCE_NUMBER : OUT_OF_ORDER_SEQUENCE_NUMBER;
  return {
    frame: produceAnswer(version, correlationId, topic.name, partition.index, error),
    duplicate: error === DUPLICATE_SEQUENCE_NUMBER,
  };
}

/** A Produce response for one partition with `errorCode`, in the request's version. */
function produceAnswer(
  version: number,
  correlationId: number,
  topic: string,
  partition: number,
  errorCode: number,
): Buffer {
  const flexible = isFlexible(Produce, version);
  const w = new Writer();
  const size = w.reserveInt32();
  w.int32(correlationId).flexTaggedFields(flexible);
  w.flexArray(flexible, [topic], (tw, name) => {
    tw.flexString(flexible, name).flexArray(flexible, [partition], (pw, index) => {
      pw.int32(index).int16(errorCode).int64(-1).int64(-1);
      if (version >= 5) pw.int64(-1);
      if (version >= 8) pw.flexArray(flexible, [], () => undefined).flexNullableString(flexible, null);
      pw.flexTaggedFields(flexible);
    });
    tw.flexTaggedFields(flexible);
  });
  w.int32(0).flexTaggedFields(flexible);
  w.int32At(size, w.offset - 4);
  return w.toBuffer();
}

/** Whether a broker's Produce answer (the frame after its size) reports an error. */
function produceFailed(frame: Buffer, version: number): boolean {
  const r = new Reader(frame);
  r.int32(); // correlation id
  if (isFlexible(Produce, version)) r.taggedFields();
  const response = Produce.decodeResponse(r, version);
  return response.topics.some((t) => t.partitions.some((p) => p.errorCode !== 0));
}

/** Calls `onFrame` with each complete frame (without its size) read from `socket`. */
function frames(socket: net.Socket, onFrame: (frame: Buffer) => void): void {
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
      const size = buffered.readInt32BE(0);
      onFrame(buffered.subarray(4, 4 + size));
      buffered = buffered.subarray(4 + size);
    }
  });
}

function lengthPrefixed(frame: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(frame.length, 0);
  return Buffer.concat([size, frame]);
}
