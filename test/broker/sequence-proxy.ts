import net from 'node:net';
import { isFlexible } from '../../src/protocol/api.js';
import { Produce } from '../../src/protocol/apis/produce.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { frames, lengthPrefixed, listenPerBroker, type BrokerProxies } from './framing.js';

/**
 * TCP proxies in front of the brokers of a librdkafka mock cluster that add what the mock leaves
 * out for a producer without a transactional id: the broker's idempotence check. Kafka keeps,
 * per producer id and partition, the sequence number it expects next; a batch whose sequence was
 * already written is a duplicate and is not appended again (DUPLICATE_SEQUENCE_NUMBER), one past
 * a gap is OUT_OF_ORDER_SEQUENCE_NUMBER. Point the mock's `set_host_port` at the proxies, so that
 * metadata sends every client through them.
 *
 * To know exactly what the broker wrote, the proxies
 * - forward one request at a time per client connection, and one batch at a time per partition
 *   (a batch waits while an earlier one of its partition is unanswered, on any connection): the
 *   answer of each says whether it was written;
 * - keep the broker connection open after the client left (a request timeout) until the pending
 *   answers arrive, so that a late answer still counts;
 * - when the broker connection itself dies with batches unanswered (a broker going down), ask a
 *   broker for the partition's end offset (ListOffsets) before the next batch of that partition,
 *   and count which of them were written (the proxy knows the end offset before them).
 *
 * Faults for chaos runs: `dropAnswers(n)` makes the next n Produce answers never reach the client:
 * the client connection is closed instead (the broker did write what it answered);
 * `corruptAnswers(n)` sends the next n Produce answers mangled instead (truncated, with an
 * impossible size, or under another correlation id): a hostile broker.
 *
 * Batches without a producer id pass through unchecked (and unserialised).
 *
 * This is our reading of the broker, not evidence of idempotence: where a test needs Kafka's
 * sequence check it runs on Apache Kafka (test/kafka/). It keeps the mock's chaos faults (answers
 * dropped or mangled on cue, which Kafka cannot be steered into) honest about duplicates.
 */
export interface SequenceProxies extends BrokerProxies {
  /** Batches answered as duplicates without reaching the broker. */
  readonly duplicates: number;
  /** Batches answered OUT_OF_ORDER_SEQUENCE_NUMBER (a gap: an earlier batch was not written). */
  readonly outOfOrder: number;
  /** Unanswered batches found written (or not) by their partition's end offset. */
  readonly resolved: { written: number; notWritten: number };
  /** The next `count` Produce answers are dropped, their client connections closed. */
  dropAnswers(count: number): void;
  /** The next `count` Produce answers are sent mangled, their client connections then closed. */
  corruptAnswers(count: number): void;
}

export interface ProxiedBroker {
  id: number;
  host: string;
  port: number;
}

const API_PRODUCE = 0;
const API_LIST_OFFSETS = 2;
const DUPLICATE_SEQUENCE_NUMBER = 46;
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;

/** Expected sequence numbers of one producer (id and epoch) in one partition. */
interface ProducerState {
  epoch: number;
  nextSequence: number;
}

/** One partition's log as the proxies know it. */
interface PartitionState {
  /** Offset after the last record written, or -1 before the proxies asked. */
  logEnd: number;
  /** The batch forwarded and not yet answered, if any: others wait for it. */
  inFlight: Promise<void> | null;
  /** Batches whose answer was lost with their broker connection, oldest first. */
  unanswered: { producer: ProducerState; baseSequence: number; count: number }[];
}

interface BatchRef {
  topic: string;
  partition: number;
  producerKey: string | null;
  producerId: bigint;
  epoch: number;
  baseSequence: number;
  count: number;
}

export async function startSequenceProxies(brokers: readonly ProxiedBroker[]): Promise<SequenceProxies> {
  const producers = new Map<string, ProducerState>();
  const partitions = new Map<string, PartitionState>();
  const stats = {
    duplicates: 0,
    outOfOrder: 0,
    written: 0,
    notWritten: 0,
    dropAnswers: 0,
    corruptAnswers: 0,
    corrupted: 0,
  };
  let nextCorrelation = 1;

  const partitionState = (topic: string, partition: number): PartitionState => {
    const key = `${topic}|${partition}`;
    let state = partitions.get(key);
    if (state === undefined) {
      state = { logEnd: -1, inFlight: null, unanswered: [] };
      partitions.set(key, state);
    }
    return state;
  };

  /** The partition's end offset from whichever broker leads it (the others answer an error). */
  const endOffset = async (topic: string, partition: number): Promise<number> => {
    for (let attempt = 0; attempt < 600; attempt++) {
      for (const broker of brokers) {
        const offset = await listOffset(broker, topic, partition, nextCorrelation++).catch(() => -1);
        if (offset >= 0) return offset;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`sequence proxy: no broker gives the end offset of ${topic}/${partition}`);
  };

  /** Settles the partition's unanswered batches from its end offset. */
  const resolveUnanswered = async (
    topic: string,
    partition: number,
    state: PartitionState,
  ): Promise<void> => {
    if (state.unanswered.length === 0 && state.logEnd >= 0) return;
    const end = await endOffset(topic, partition);
    if (state.logEnd < 0) {
      state.logEnd = end;
      if (state.unanswered.length === 0) return;
    }
    let written = end - state.logEnd;
    for (const batch of state.unanswered) {
      if (written >= batch.count) {
        // The broker wrote it: its sequence numbers are taken.
        batch.producer.nextSequence = batch.baseSequence + batch.count;
        written -= batch.count;
        stats.written++;
      } else {
        stats.notWritten++;
      }
    }
    if (written !== 0) {
      throw new Error(
        `sequence proxy: ${topic}/${partition} ends at ${end}, which its unanswered batches do not explain`,
      );
    }
    state.logEnd = end;
    state.unanswered = [];
  };

  const onClient = (brokerPort: number, client: net.Socket): void => {
    const upstream = net.connect(brokerPort, '127.0.0.1');
    // The request being handled: its answer from the broker, or the broker connection's end.
    let awaiting: { resolve: (frame: Buffer | null) => void } | null = null;
    // Set from socket events; read through functions (flow analysis cannot see the events).
    const closed = { client: false, upstream: false };
    const clientGone = (): boolean => closed.client;
    const eitherGone = (): boolean => closed.client || closed.upstream;
    let chain = Promise.resolve();

    upstream.on('error', () => undefined);
    client.on('error', () => undefined);
    upstream.on('close', () => {
      closed.upstream = true;
      awaiting?.resolve(null);
      awaiting = null;
      client.destroy();
    });
    client.on('close', () => {
      closed.client = true;
      // Keep the broker connection while an answer is due: it tells what was written.
      if (awaiting === null) upstream.destroy();
    });
    frames(upstream, (frame) => {
      const waiting = awaiting;
      awaiting = null;
      waiting?.resolve(frame);
      // One request at a time: nothing else is due once the client is gone.
      if (clientGone()) upstream.destroy();
    });

    /** Applies a pending answer fault; true when the answer did not go out as it is. */
    const sabotaged = (answer: Buffer): boolean => {
      if (stats.dropAnswers > 0) {
        stats.dropAnswers--;
        client.destroy();
        return true;
      }
      if (stats.corruptAnswers > 0) {
        stats.corruptAnswers--;
        client.end(mangle(answer, stats.corrupted++));
        return true;
      }
      return false;
    };

    /** The broker's answer, or null when its connection died after the request was sent. */
    const forward = (frame: Buffer): Promise<Buffer | null> =>
      new Promise((resolve) => {
        awaiting = { resolve };
        upstream.write(lengthPrefixed(frame));
      });

    const handle = async (frame: Buffer): Promise<void> => {
      // A client gone, or a broker gone, before this request's turn: it is never sent.
      if (eitherGone()) return;
      const request = parseRequest(frame);
      if (request === null) {
        // Not a checked Produce: forwarded as is, answered as the broker answers (unless an
        // unchecked Produce answer is to be sabotaged).
        const answer = await forward(frame);
        if (answer === null || clientGone()) return;
        if (frame.readInt16BE(0) === API_PRODUCE && sabotaged(answer)) return;
        client.write(lengthPrefixed(answer));
        return;
      }
      // Claim every partition of the request, waiting while another request holds one of them
      // (an earlier batch unanswered, on any connection).
      const states = request.batches.map((b) => partitionState(b.topic, b.partition));
      for (;;) {
        const busy = states.map((state) => state.inFlight).filter((p): p is Promise<void> => p !== null);
        if (busy.length === 0) break;
        await Promise.all(busy);
      }
      let release = (): void => undefined;
      const claim = new Promise<void>((resolve) => {
        release = resolve;
      });
      for (const state of states) state.inFlight = claim;
      let reply: Buffer | null = null;
      let anyForwarded = false;
      try {
        if (eitherGone()) return;
        for (const batch of request.batches) {
          await resolveUnanswered(batch.topic, batch.partition, partitionState(batch.topic, batch.partition));
        }
        const local = new Map<BatchRef, number>();
        const forwarded: BatchRef[] = [];
        for (const batch of request.batches) {
          const producer = producerState(producers, batch);
          if (batch.baseSequence === producer.nextSequence) forwarded.push(batch);
          else if (batch.baseSequence < producer.nextSequence) local.set(batch, DUPLICATE_SEQUENCE_NUMBER);
          else local.set(batch, OUT_OF_ORDER_SEQUENCE_NUMBER);
        }
        for (const code of local.values()) {
          if (code === DUPLICATE_SEQUENCE_NUMBER) stats.duplicates++;
          else stats.outOfOrder++;
        }
        let answers = new Map<string, PartitionAnswer>();
        if (forwarded.length > 0) {
          if (eitherGone()) return;
          anyForwarded = true;
          const answer = await forward(rewriteRequest(request, forwarded));
          if (answer === null) {
            // Sent, answer lost with the broker connection: settled by the end offset later.
            for (const batch of forwarded) {
              partitionState(batch.topic, batch.partition).unanswered.push({
                producer: producerState(producers, batch),
                baseSequence: batch.baseSequence,
                count: batch.count,
              });
            }
            return;
          }
          answers = decodeAnswer(answer, request.version);
          for (const batch of forwarded) {
            const result = answers.get(`${batch.topic}|${batch.partition}`);
            if (result === undefined || result.errorCode !== 0) continue; // not written
            producerState(producers, batch).nextSequence = batch.baseSequence + batch.count;
            partitionState(batch.topic, batch.partition).logEnd = result.baseOffset + batch.count;
          }
        }
        reply = encodeAnswer(request, answers, local);
      } finally {
        for (const state of states) state.inFlight = null;
        release();
      }
      if (clientGone() || (anyForwarded && sabotaged(reply))) return;
      client.write(lengthPrefixed(reply));
    };

    frames(client, (frame) => {
      chain = chain
        .then(() => handle(frame))
        .catch((error: unknown) => {
          console.error(error);
          client.destroy();
          upstream.destroy();
        });
    });
  };

  const proxies = await listenPerBroker(brokers, (broker) =>
    net.createServer((client) => {
      onClient(broker.port, client);
    }),
  );
  return {
    ...proxies,
    get duplicates() {
      return stats.duplicates;
    },
    get outOfOrder() {
      return stats.outOfOrder;
    },
    get resolved() {
      return { written: stats.written, notWritten: stats.notWritten };
    },
    dropAnswers(count) {
      stats.dropAnswers += count;
    },
    corruptAnswers(count) {
      stats.corruptAnswers += count;
    },
  };
}

function producerState(producers: Map<string, ProducerState>, batch: BatchRef): ProducerState {
  const key = batch.producerKey as string;
  let state = producers.get(key);
  if (state === undefined || state.epoch !== batch.epoch) {
    // A new producer id or epoch starts its sequences at 0.
    state = { epoch: batch.epoch, nextSequence: 0 };
    producers.set(key, state);
  }
  return state;
}

interface ParsedProduce {
  version: number;
  correlationId: number;
  /** The request header as sent (api key … client id, and v2's tagged fields). */
  header: Buffer;
  transactionalId: string | null;
  acks: number;
  timeoutMs: number;
  batches: (BatchRef & { records: Buffer })[];
}

/** A Produce request whose batches all carry a producer id; null for anything else. */
function parseRequest(frame: Buffer): ParsedProduce | null {
  const r = new Reader(frame);
  const apiKey = r.int16();
  const version = r.int16();
  const correlationId = r.int32();
  r.nullableString(); // client id
  if (apiKey !== API_PRODUCE) return null;
  const flexible = isFlexible(Produce, version);
  if (flexible) r.taggedFields();
  const header = frame.subarray(0, r.offset);
  const transactionalId = r.flexNullableString(flexible);
  const acks = r.int16();
  const timeoutMs = r.int32();
  const batches: ParsedProduce['batches'] = [];
  r.flexArray(flexible, (t) => {
    const topic = t.flexString(flexible);
    t.flexArray(flexible, (p) => {
      const partition = p.int32();
      const records = p.flexNullableBytes(flexible);
      p.flexTaggedFields(flexible);
      if (records === null || records.length < 61) return;
      const producerId = records.readBigInt64BE(43);
      batches.push({
        topic,
        partition,
        producerId,
        producerKey: `${producerId}|${topic}|${partition}`,
        epoch: records.readInt16BE(51),
        baseSequence: records.readInt32BE(53),
        count: records.readInt32BE(57),
        records,
      });
    });
    t.flexTaggedFields(flexible);
  });
  if (acks === 0 || batches.length === 0 || batches.some((b) => b.producerId < 0n)) return null;
  return { version, correlationId, header, transactionalId, acks, timeoutMs, batches };
}

/** The same request with only `keep` of its batches. */
function rewriteRequest(request: ParsedProduce, keep: readonly BatchRef[]): Buffer {
  const w = new Writer();
  w.raw(request.header);
  const topics = [...new Set(keep.map((b) => b.topic))];
  Produce.encodeRequest(w, request.version, {
    transactionalId: request.transactionalId,
    acks: request.acks as -1 | 1,
    timeoutMs: request.timeoutMs,
    topics: topics.map((name) => ({
      name,
      partitions: request.batches
        .filter((b) => b.topic === name && keep.includes(b))
        .map((b) => ({ partition: b.partition, records: b.records })),
    })),
  });
  return w.toBuffer();
}

interface PartitionAnswer {
  errorCode: number;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
}

/** The broker's answers by "topic|partition". */
function decodeAnswer(frame: Buffer, version: number): Map<string, PartitionAnswer> {
  const r = new Reader(frame);
  r.int32(); // correlation id
  if (isFlexible(Produce, version)) r.taggedFields();
  const response = Produce.decodeResponse(r, version);
  const answers = new Map<string, PartitionAnswer>();
  for (const topic of response.topics) {
    for (const p of topic.partitions) {
      answers.set(`${topic.name}|${p.partition}`, {
        errorCode: p.errorCode,
        baseOffset: p.baseOffset.toNumber(),
        logAppendTimeMs: p.logAppendTimeMs.toNumber(),
        logStartOffset: p.logStartOffset?.toNumber() ?? -1,
      });
    }
  }
  return answers;
}

/** The answer to the whole request: the broker's for what it got, ours for the rest. */
function encodeAnswer(
  request: ParsedProduce,
  answers: Map<string, PartitionAnswer>,
  local: Map<BatchRef, number>,
): Buffer {
  const version = request.version;
  const flexible = isFlexible(Produce, version);
  const topics = [...new Set(request.batches.map((b) => b.topic))];
  const w = new Writer();
  w.int32(request.correlationId).flexTaggedFields(flexible);
  w.flexArray(flexible, topics, (tw, name) => {
    const batches = request.batches.filter((b) => b.topic === name);
    tw.flexString(flexible, name).flexArray(flexible, batches, (pw, batch) => {
      const answer = answers.get(`${batch.topic}|${batch.partition}`) ?? {
        errorCode: local.get(batch) ?? OUT_OF_ORDER_SEQUENCE_NUMBER,
        baseOffset: -1,
        logAppendTimeMs: -1,
        logStartOffset: -1,
      };
      pw.int32(batch.partition)
        .int16(answer.errorCode)
        .int64(answer.baseOffset)
        .int64(answer.logAppendTimeMs);
      if (version >= 5) pw.int64(answer.logStartOffset);
      if (version >= 8) pw.flexArray(flexible, [], () => undefined).flexNullableString(flexible, null);
      pw.flexTaggedFields(flexible);
    });
    tw.flexTaggedFields(flexible);
  });
  w.int32(0).flexTaggedFields(flexible); // throttle time
  return w.toBuffer();
}

/** ListOffsets v1 (latest) for one partition, straight to a broker: its end offset, or -1. */
function listOffset(
  broker: ProxiedBroker,
  topic: string,
  partition: number,
  correlationId: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(broker.port, broker.host);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('ListOffsets timed out'));
    }, 2000);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    frames(socket, (frame) => {
      clearTimeout(timer);
      socket.destroy();
      const r = new Reader(frame);
      r.int32(); // correlation id
      let offset = -1;
      r.array((t) => {
        t.string();
        t.array((p) => {
          p.int32();
          const errorCode = p.int16();
          p.int64(); // timestamp
          const end = p.int64().toNumber();
          if (errorCode === 0) offset = end;
        });
      });
      resolve(offset);
    });
    const w = new Writer();
    w.int16(API_LIST_OFFSETS).int16(1).int32(correlationId).nullableString('sequence-proxy');
    w.int32(-1); // replica id: a client
    w.array([topic], (tw, name) => {
      tw.string(name).array([partition], (pw, index) => pw.int32(index).int64(-1)); // -1: latest
    });
    socket.write(lengthPrefixed(w.toBuffer()));
  });
}

/** An answer frame (without its size) mangled three ways in turn, as a hostile broker might. */
function mangle(answer: Buffer, n: number): Buffer {
  switch (n % 3) {
    case 0: // truncated: the size of the whole answer, half of it, then the connection ends
      return lengthPrefixed(answer).subarray(0, 4 + Math.floor(answer.length / 2));
    case 1: {
      // an impossible size
      const size = Buffer.alloc(4);
      size.writeInt32BE(0x7fffffff, 0);
      return Buffer.concat([size, answer]);
    }
    default: {
      // another request's correlation id
      const copy = lengthPrefixed(answer);
      copy.writeInt32BE(copy.readInt32BE(4) + 1000, 4);
      return copy;
    }
  }
}
