import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Producer } from '../producer.js';
import type { ProducerEvents } from '../events.js';
import { HEALTH_STATES, type Health } from './health.js';

/**
 * The gateway's Prometheus metrics, in a registry of its own: two gateways (or a gateway and
 * the application's own metrics) in one process must not collide in prom-client's global one.
 *
 * Three sources:
 * - producer events, counted as they happen: records delivered, delivery failures, actor
 *   state transitions;
 * - the producer's own counters (`metrics()`, `inspect()`), read at each scrape: buffer
 *   levels, in-flight batches, batch bytes sent and retries per topic, actors by state;
 * - the gateway's requests: records per produce request and produce latency, and the
 *   transactions of `POST /tx/batch` (run by a transactional producer of their own).
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly producer: Producer;
  private readonly recordsProduced: Counter<'topic'>;
  private readonly deliveryFailures: Counter<'topic' | 'code'>;
  private readonly transitions: Counter<'kind' | 'to'>;
  private readonly bytesSent: Counter<'topic'>;
  private readonly retries: Counter<'topic'>;
  private readonly bufferedRecords: Gauge;
  private readonly bufferedBytes: Gauge;
  private readonly maxRecords: Gauge;
  private readonly maxBytes: Gauge;
  private readonly pendingCalls: Gauge;
  private readonly inFlight: Gauge<'topic'>;
  private readonly actors: Gauge<'kind' | 'state'>;
  private readonly spool: Gauge<'measure'>;
  private readonly spoolAge: Gauge;
  private readonly requestRecords: Histogram<'topic' | 'route'>;
  private readonly latency: Histogram<'topic' | 'route'>;
  private readonly requests: Counter<'route' | 'status'>;
  private readonly transactions: Counter<'outcome'>;
  private readonly transactionsQueued: Gauge;
  private readonly health: Gauge<'state'>;
  private readHealth: (() => Health) | undefined;
  private readonly detach: () => void;

  constructor(producer: Producer) {
    this.producer = producer;
    const registers = [this.registry];
    this.recordsProduced = new Counter({
      name: 'ekaf_records_produced_total',
      help: 'Records acknowledged by Kafka (acks 0: sent), by topic.',
      labelNames: ['topic'],
      registers,
    });
    this.deliveryFailures = new Counter({
      name: 'ekaf_delivery_failures_total',
      help: 'Records that failed for good, by topic and ekaf error code.',
      labelNames: ['topic', 'code'],
      registers,
    });
    this.transitions = new Counter({
      name: 'ekaf_actor_transitions_total',
      help: 'Actor state changes, by actor kind and the state entered.',
      labelNames: ['kind', 'to'],
      registers,
    });
    this.bytesSent = new Counter({
      name: 'ekaf_bytes_produced_total',
      help: 'Bytes of record batches sent to Kafka (after compression, each batch once), by topic.',
      labelNames: ['topic'],
      registers,
    });
    this.retries = new Counter({
      name: 'ekaf_batch_retries_total',
      help: 'Batches sent again after a retriable failure, by topic.',
      labelNames: ['topic'],
      registers,
    });
    this.bufferedRecords = new Gauge({
      name: 'ekaf_buffered_records',
      help: 'Records accepted and not yet acknowledged or failed.',
      registers,
    });
    this.bufferedBytes = new Gauge({
      name: 'ekaf_buffered_bytes',
      help: 'Bytes (keys, values, headers) accepted and not yet acknowledged or failed.',
      registers,
    });
    this.maxRecords = new Gauge({
      name: 'ekaf_buffer_max_records',
      help: 'maxBufferedRecords: the most records the producer holds.',
      registers,
    });
    this.maxBytes = new Gauge({
      name: 'ekaf_buffer_max_bytes',
      help: 'maxBufferedBytes: the most bytes the producer holds.',
      registers,
    });
    this.pendingCalls = new Gauge({
      name: 'ekaf_pending_calls',
      help: 'Produce calls not yet settled.',
      registers,
    });
    this.inFlight = new Gauge({
      name: 'ekaf_in_flight_batches',
      help: 'Batches sent and awaiting their answer, by topic.',
      labelNames: ['topic'],
      registers,
    });
    this.actors = new Gauge({
      name: 'ekaf_actors',
      help: 'Actors by kind and state.',
      labelNames: ['kind', 'state'],
      registers,
    });
    this.spool = new Gauge({
      name: 'ekaf_spool',
      help:
        'The durable spool (absent without one), by measure: segments (files), bytes, max_bytes, ' +
        'records (not yet acknowledged), backlog_records (on disk only, to be read back).',
      labelNames: ['measure'],
      registers,
    });
    this.spoolAge = new Gauge({
      name: 'ekaf_spool_oldest_record_age_seconds',
      help: 'Age of the oldest record in the spool not yet acknowledged (0 when none; absent without a spool).',
      registers,
    });
    this.requestRecords = new Histogram({
      name: 'kafboy_produce_request_records',
      help: 'Records per produce request (the batch a client sends), by topic and route.',
      labelNames: ['topic', 'route'],
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 10000],
      registers,
    });
    this.latency = new Histogram({
      name: 'kafboy_produce_latency_seconds',
      help: 'From a produce request handed to the producer to all its records acknowledged, by topic and route.',
      labelNames: ['topic', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.requests = new Counter({
      name: 'kafboy_http_requests_total',
      help: 'HTTP requests answered, by route and status.',
      labelNames: ['route', 'status'],
      registers,
    });
    this.transactions = new Counter({
      name: 'kafboy_transactions_total',
      help:
        'Transactions of POST /tx/batch, by outcome: committed; aborted (nothing of it visible, the ' +
        'producer goes on); failed (could not run or end cleanly: fenced, fatal, not initialized).',
      labelNames: ['outcome'],
      registers,
    });
    this.transactionsQueued = new Gauge({
      name: 'kafboy_transactions_queued',
      help: 'POST /tx/batch requests waiting for their turn (one transaction at a time).',
      registers,
    });
    this.health = new Gauge({
      name: 'kafboy_health',
      help: "The producer's health, one series per state: 1 for the state it is in (ok, degraded, down), 0 for the others.",
      labelNames: ['state'],
      registers,
    });
    this.detach = this.listen();
  }

  /** Where the health comes from (the gateway's live series), read at each scrape. */
  healthOf(read: () => Health): void {
    this.readHealth = read;
  }

  /** A produce request's size, when its records are handed to the producer. */
  observeRequest(topic: string, route: string, records: number): void {
    this.requestRecords.observe({ topic, route }, records);
  }

  /** A produce request's records were all acknowledged, `seconds` after they were handed over. */
  observeLatency(topic: string, route: string, seconds: number): void {
    this.latency.observe({ topic, route }, seconds);
  }

  /** POST /tx/batch is on: every outcome shows, at 0 until counted. */
  showTransactions(): void {
    for (const outcome of TRANSACTION_OUTCOMES) this.transactions.inc({ outcome }, 0);
  }

  countTransaction(outcome: TransactionOutcome): void {
    this.transactions.inc({ outcome });
  }

  setTransactionsQueued(count: number): void {
    this.transactionsQueued.set(count);
  }

  countRequest(route: string, status: number): void {
    this.requests.inc({ route, status: String(status) });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text, with the producer's counters read now. */
  async render(): Promise<string> {
    this.readProducer();
    return this.registry.metrics();
  }

  /** Stops listening to the producer. */
  close(): void {
    this.detach();
  }

  private listen(): () => void {
    const onDelivery: ProducerEvents['delivery'] = ({ topic, reports }) => {
      this.recordsProduced.inc({ topic }, reports.length);
    };
    const onFailed: ProducerEvents['delivery.failed'] = ({ topic, error, failed, reports }) => {
      const delivered = reports.length - failed;
      if (delivered > 0) this.recordsProduced.inc({ topic }, delivered);
      this.deliveryFailures.inc({ topic, code: error.code }, failed);
    };
    const onState: ProducerEvents['state'] = ({ kind, to }) => {
      this.transitions.inc({ kind, to });
    };
    this.producer.on('delivery', onDelivery);
    this.producer.on('delivery.failed', onFailed);
    this.producer.on('state', onState);
    return () => {
      this.producer.off('delivery', onDelivery);
      this.producer.off('delivery.failed', onFailed);
      this.producer.off('state', onState);
    };
  }

  /**
   * Copies the producer's counters into the registry. The per-partition counters only grow
   * (they outlive worker restarts), so a counter reset to their sum stays monotonic.
   */
  private readProducer(): void {
    if (this.readHealth !== undefined) {
      const { state } = this.readHealth();
      for (const each of HEALTH_STATES) this.health.set({ state: each }, each === state ? 1 : 0);
    }
    const m = this.producer.metrics();
    this.bufferedRecords.set(m.bufferedRecords);
    this.bufferedBytes.set(m.bufferedBytes);
    this.maxRecords.set(m.maxBufferedRecords);
    this.maxBytes.set(m.maxBufferedBytes);
    this.pendingCalls.set(m.pendingCalls);
    if (m.spool !== null) {
      this.spool.set({ measure: 'segments' }, m.spool.segments);
      this.spool.set({ measure: 'bytes' }, m.spool.bytes);
      this.spool.set({ measure: 'max_bytes' }, m.spool.maxBytes);
      this.spool.set({ measure: 'records' }, m.spool.liveRecords);
      this.spool.set({ measure: 'backlog_records' }, m.spool.backlogRecords);
      this.spoolAge.set(m.spool.oldestEntryAgeMs / 1000);
    }
    // Reset first: a state no actor is in any more must disappear, not keep its last count.
    this.actors.reset();
    for (const [key, count] of Object.entries(m.actors)) {
      const dot = key.indexOf('.');
      this.actors.set({ kind: key.slice(0, dot), state: key.slice(dot + 1) }, count);
    }
    const byTopic = new Map<string, { bytes: number; retries: number; inFlight: number }>();
    for (const actor of this.producer.inspect()) {
      if (actor.kind !== 'partition') continue;
      const topic = actor.details.topic;
      const sums = byTopic.get(topic) ?? { bytes: 0, retries: 0, inFlight: 0 };
      sums.bytes += num(actor.details.bytesSent);
      sums.retries += num(actor.details.batchesRetried);
      sums.inFlight += num(actor.details.inFlightBatches);
      byTopic.set(topic, sums);
    }
    this.bytesSent.reset();
    this.retries.reset();
    this.inFlight.reset();
    for (const [topic, sums] of byTopic) {
      this.bytesSent.inc({ topic }, sums.bytes);
      this.retries.inc({ topic }, sums.retries);
      this.inFlight.set({ topic }, sums.inFlight);
    }
  }
}

type TransactionOutcome = (typeof TRANSACTION_OUTCOMES)[number];
const TRANSACTION_OUTCOMES = ['committed', 'aborted', 'failed'] as const;

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
