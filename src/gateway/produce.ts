import type { ServerResponse } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from '../config.js';
import { EkafError } from '../errors.js';
import type { DeliveryReport, ProduceRecord, Producer } from '../producer.js';
import { HttpError, RETRY_AFTER_SECONDS } from './errors.js';
import type { GatewayMetrics } from './metrics.js';
import { sendJson } from './respond.js';

/** The four produce routes: `/sync`, `/async`, `/batch/sync`, `/batch/async`. */
export type ProduceRoute = 'sync' | 'async' | 'batch/sync' | 'batch/async';

export interface ProduceDeps {
  producer: Producer;
  metrics: GatewayMetrics;
  logger: Logger;
  requestTimeoutMs: number;
}

/**
 * Hands a request's records to the producer and answers:
 * - sync routes: 200 `{ reports }` once every record is acknowledged (in request order);
 * - async routes: 202 `{ accepted }` as soon as the producer took the records. Their outcome
 *   goes to the metrics and, for failures, to the log: the client has had its answer.
 */
export async function produce(
  deps: ProduceDeps,
  route: ProduceRoute,
  topic: string,
  records: ProduceRecord[],
  res: ServerResponse,
): Promise<void> {
  deps.metrics.observeRequest(topic, route, records.length);
  if (route === 'sync' || route === 'batch/sync') {
    const reports = await produceSync(deps, route, topic, records, res);
    sendJson(res, 200, { reports });
    return;
  }
  const { producer, metrics, logger } = deps;
  const started = performance.now();
  const callback = (error: EkafError | null): void => {
    if (error === null) {
      metrics.observeLatency(topic, route, (performance.now() - started) / 1000);
      return;
    }
    logger.warn(`kafboy: records accepted by POST /${route}/${topic} failed: ${error.message}`, {
      topic,
      code: error.code,
      records: records.length,
    });
  };
  // Throws synchronously when the call is refused (invalid, buffer full, closed): nothing of
  // it was accepted, and the error table turns that into 400 / 503.
  if (route === 'async') producer.produceAsync(topic, records, callback);
  else producer.produceAsyncBatched(topic, records, callback);
  sendJson(res, 202, { accepted: records.length });
}

async function produceSync(
  { producer, metrics, requestTimeoutMs }: ProduceDeps,
  route: ProduceRoute,
  topic: string,
  records: ProduceRecord[],
  res: ServerResponse,
): Promise<DeliveryReport[]> {
  // Aborting only cancels a wait for room in a full buffer; accepted records cannot be recalled.
  const controller = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) controller.abort(new Error('the client went away'));
  };
  res.once('close', onClose);
  const started = performance.now();
  const options = { signal: controller.signal };
  const call =
    route === 'sync'
      ? producer.produceSync(topic, records, options)
      : producer.produceSyncBatched(topic, records, options);
  const settled = call.then(
    (reports) => {
      metrics.observeLatency(topic, route, (performance.now() - started) / 1000);
      return { reports };
    },
    (error: unknown) => ({ error }),
  );
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      resolve('timeout');
    }, requestTimeoutMs);
  });
  try {
    const result = await Promise.race([settled, timedOut]);
    if (result !== 'timeout') {
      if ('error' in result) throw result.error;
      return result.reports;
    }
    // Out of time. If the call was still waiting for room in the buffer, the abort rejects it
    // at once (within this turn's microtasks): nothing was accepted, say so and invite a retry.
    // Otherwise the records are with the producer and cannot be recalled.
    controller.abort(new Error('requestTimeoutMs elapsed'));
    const late = await Promise.race([settled, nextTurn().then(() => undefined)]);
    if (late !== undefined && 'error' in late && isCode(late.error, 'ERR_ABORTED')) {
      throw new HttpError(
        503,
        'ERR_BUFFER_FULL',
        `the producer buffer stayed full for ${requestTimeoutMs} ms (requestTimeoutMs): nothing was accepted`,
        { 'Retry-After': RETRY_AFTER_SECONDS },
      );
    }
    if (late !== undefined) {
      if ('error' in late) throw late.error;
      return late.reports;
    }
    throw new HttpError(
      504,
      'ERR_GATEWAY_TIMEOUT',
      `no acknowledgement from Kafka within ${requestTimeoutMs} ms (requestTimeoutMs). The records ` +
        'stay accepted and will still be delivered or fail (see /metrics); retrying may write them twice',
    );
  } finally {
    clearTimeout(timer);
    res.off('close', onClose);
  }
}

function isCode(error: unknown, code: string): boolean {
  return error instanceof EkafError && error.code === code;
}
