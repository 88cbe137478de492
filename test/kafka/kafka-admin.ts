// The few admin requests the harness sends itself, over ekaf's Connection on the PLAINTEXT
// listener: Metadata (is every broker up, who leads what) and CreateTopics. A request from
// Node takes milliseconds where a JVM tool (kafka-topics) takes 2–3 s to start.
//
// CreateTopics is sent at v4, the last version before the flexible encoding: every pinned broker
// takes it (2.8: v0–v6, 3.9 and 4.x: v2–v7) and its layout is short. ekaf's ApiKey union lists
// only the APIs a producer sends, so the key is cast; the harness sends nothing else ekaf lacks.
import { Connection } from '../../src/network/connection.js';
import { ApiKey, type Api } from '../../src/protocol/api.js';
import { Metadata, type MetadataResponse } from '../../src/protocol/apis/metadata.js';
import type { Reader } from '../../src/protocol/reader.js';
import type { Writer } from '../../src/protocol/writer.js';

/** v9: flexible, with leader epochs; every pinned broker serves it (2.8: v0–v11, 4.4: v0–v13). */
const METADATA_VERSION = 9;
const CREATE_TOPICS_VERSION = 4;
const CREATE_TOPICS_KEY = 19 as ApiKey;
/** Kafka error codes the harness reacts to. */
const TOPIC_ALREADY_EXISTS = 36;
const NOT_CONTROLLER = 41;

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  /** Topic configs, e.g. { 'min.insync.replicas': '2', 'cleanup.policy': 'compact' }. */
  configs?: Record<string, string>;
}

interface CreateTopicsRequest {
  topics: TopicSpec[];
  timeoutMs: number;
}

interface CreateTopicsResponse {
  topics: { name: string; errorCode: number; errorMessage: string | null }[];
}

const CreateTopics: Api<CreateTopicsRequest, CreateTopicsResponse> = {
  key: CREATE_TOPICS_KEY,
  name: 'CreateTopics',
  flexibleFrom: 5,
  encodeRequest(writer: Writer, _version: number, request: CreateTopicsRequest): void {
    writer.array(request.topics, (w, topic) => {
      w.string(topic.name).int32(topic.partitions).int16(topic.replicationFactor);
      w.array([], () => undefined); // no manual assignments
      w.array(Object.entries(topic.configs ?? {}), (c, [name, value]) =>
        c.string(name).nullableString(value),
      );
    });
    writer.int32(request.timeoutMs).bool(false); // validateOnly
  },
  decodeResponse(reader: Reader): CreateTopicsResponse {
    reader.int32(); // throttle time
    const topics = reader.array((r) => ({
      name: r.string(),
      errorCode: r.int16(),
      errorMessage: r.nullableString(),
    }));
    return { topics };
  },
};

/** "host:port" → a connected Connection, closed after fn, whatever it does. */
export async function withConnection<T>(address: string, fn: (conn: Connection) => Promise<T>): Promise<T> {
  const [host, port] = splitAddress(address);
  const conn = new Connection({
    host,
    port: Number(port),
    clientId: 'ekaf-kafka-harness',
    connectTimeoutMs: 2_000,
    requestTimeoutMs: 15_000,
  });
  try {
    await conn.connect();
    return await fn(conn);
  } finally {
    conn.close();
  }
}

function splitAddress(address: string): [string, string] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), address.slice(i + 1)];
}

/**
 * Metadata from the first of `addresses` that answers (topics: null = all). Rejects with the
 * last error when none does.
 */
export async function fetchMetadata(
  addresses: readonly string[],
  topics: string[] | null = null,
): Promise<MetadataResponse> {
  let lastError: unknown = new Error('no address to ask');
  for (const address of addresses) {
    try {
      return await withConnection(address, (conn) =>
        conn.send(Metadata, METADATA_VERSION, { topics, allowAutoTopicCreation: false }),
      );
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

/**
 * Creates topics with one CreateTopics request to the controller (ZooKeeper mode answers
 * NOT_CONTROLLER elsewhere; KRaft brokers forward to theirs). Rejects with the broker's error
 * per topic, including TOPIC_ALREADY_EXISTS.
 */
export async function createTopics(addresses: readonly string[], topics: TopicSpec[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const metadata = await fetchMetadata(addresses);
    const controller =
      metadata.brokers.find((b) => b.nodeId === metadata.controllerId) ?? metadata.brokers[0];
    if (controller === undefined) throw new Error('createTopics: Metadata lists no broker');
    const response = await withConnection(`${controller.host}:${controller.port}`, (conn) =>
      conn.send(CreateTopics, CREATE_TOPICS_VERSION, { topics, timeoutMs: 30_000 }),
    );
    const failed = response.topics.filter((t) => t.errorCode !== 0);
    if (failed.length > 0 && failed.every((t) => t.errorCode === NOT_CONTROLLER) && attempt < 20) {
      topics = topics.filter((t) => failed.some((f) => f.name === t.name));
      await new Promise((resolve) => setTimeout(resolve, 250)); // the controller moved: ask again
      continue;
    }
    if (failed.length > 0) {
      const what = failed.map((t) => {
        const name = t.errorCode === TOPIC_ALREADY_EXISTS ? 'TOPIC_ALREADY_EXISTS' : `error ${t.errorCode}`;
        return `${t.name}: ${name}${t.errorMessage ? ` (${t.errorMessage})` : ''}`;
      });
      throw new Error(`CreateTopics failed: ${what.join('; ')}`);
    }
    return;
  }
}
