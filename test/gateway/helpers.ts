// Shared by the gateway tests: a mock cluster, a producer and a gateway in front of it, and
// small fetch wrappers.
import http from 'node:http';
import { createProducer, type Producer } from '../../src/producer.js';
import type { ProducerOptions } from '../../src/config.js';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway/server.js';
import { startCluster, type MockCluster } from '../broker/cluster.js';

export interface Stack {
  cluster: MockCluster;
  producer: Producer;
  gateway: Gateway;
  /** The transactional producers the gateway made (POST /tx/batch), in order: the last is in use. */
  txProducers: Producer[];
  stop(): Promise<void>;
}

export async function startStack(
  opts: {
    topics?: { name: string; partitions: number }[];
    producer?: Omit<ProducerOptions, 'brokers'>;
    gateway?: Omit<GatewayOptions, 'producer' | 'transactions'>;
    /** Turns on POST /tx/batch; `producer`: options of the transactional producers. */
    transactions?: {
      transactionalId: string;
      maxQueued?: number;
      producer?: Omit<ProducerOptions, 'brokers'>;
    };
  } = {},
): Promise<Stack> {
  const cluster = await startCluster({ peer: '2.12', brokers: 3, topics: opts.topics ?? [] });
  const producer = createProducer({ brokers: cluster.bootstrap, clientId: 'kafboy-test', ...opts.producer });
  const txProducers: Producer[] = [];
  const tx = opts.transactions;
  const transactions =
    tx === undefined
      ? {}
      : {
          transactions: {
            transactionalId: tx.transactionalId,
            ...(tx.maxQueued === undefined ? {} : { maxQueued: tx.maxQueued }),
            createProducer: (transactionalId: string) => {
              const made = createProducer({
                brokers: cluster.bootstrap,
                clientId: 'kafboy-test-tx',
                ...tx.producer,
                transactionalId,
              });
              txProducers.push(made);
              return made;
            },
          },
        };
  const gateway = await startGateway({ port: 0, ...opts.gateway, ...transactions, producer });
  return {
    cluster,
    producer,
    gateway,
    txProducers,
    stop: async () => {
      await gateway.close();
      await producer.close({ timeoutMs: 2000 });
      await cluster.stop();
    },
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/** A request, its answer read whole; the body is parsed when it is JSON. */
export async function call(
  base: string,
  path: string,
  init: { method?: string; body?: string | Buffer; type?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.type !== undefined) headers['content-type'] = init.type;
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').startsWith('application/json');
  return {
    status: res.status,
    headers: res.headers,
    body: json ? (JSON.parse(text) as unknown) : text,
    text,
  };
}

/**
 * A request as node's client sends it, with the headers fetch() will not let a test set (Host,
 * Sec-Fetch-Site, a repeated header): what a browser or a proxy sends, written out.
 */
export function raw(
  base: string,
  path: string,
  init: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const method = init.method ?? (init.body === undefined ? 'GET' : 'POST');
    const req = http.request(new URL(path, base), { method, headers: init.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

export function postJson(base: string, path: string, doc: unknown, headers?: Record<string, string>) {
  return call(base, path, { body: JSON.stringify(doc), type: 'application/json', headers });
}

/** `{ error: { code, message } }` of an error answer. */
export function errorOf(answer: Answer): { code: string; message: string } {
  return (answer.body as { error: { code: string; message: string } }).error;
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
