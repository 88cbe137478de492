import { createProducer, type Producer } from '../producer.js';
import type { ProducerOptions } from '../config.js';
import { startGateway, type Gateway, type GatewayOptions } from './server.js';
import type { GatewayTransactions } from './transactions.js';

export interface ServeOptions extends Omit<GatewayOptions, 'producer' | 'transactions'> {
  producerOptions: ProducerOptions;
  /**
   * Turns on `POST /tx/batch`: a transactional producer made from `producerOptions` (without the
   * spool, which transactions refuse) and this `transactionalId`, this process's own.
   */
  transactions?: Omit<GatewayTransactions, 'createProducer'>;
  /** How long shutdown waits for the producer to deliver what it holds, in ms. Default 30 000. */
  drainTimeoutMs?: number;
}

export interface Served {
  gateway: Gateway;
  producer: Producer;
  /** Graceful stop, as on SIGTERM, without exiting the process. Calling it again returns the same promise. */
  stop(): Promise<void>;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Runs kafboy as a service: a producer, a gateway in front of it, and SIGTERM / SIGINT
 * handlers that shut both down in the one order that loses nothing:
 *
 * 1. the gateway stops accepting connections and lets requests in flight finish (a sync
 *    produce ends within `requestTimeoutMs`, with its reports or a 504; a transaction once
 *    committed or aborted), then closes its transactional producer;
 * 2. the producer drains: everything accepted (async requests answered 202 included) is
 *    delivered, for up to `drainTimeoutMs`, then what is left fails;
 * 3. the process exits 0.
 *
 * A second signal during shutdown exits at once (code 1): the operator insisted.
 */
export async function serve(options: ServeOptions): Promise<Served> {
  const { producerOptions, drainTimeoutMs = 30_000, transactions, ...gatewayOptions } = options;
  const logger = gatewayOptions.logger;
  const producer = createProducer(producerOptions);
  let gateway: Gateway;
  try {
    gateway = await startGateway({
      ...gatewayOptions,
      producer,
      ...(transactions === undefined
        ? {}
        : {
            transactions: {
              ...transactions,
              createProducer: (transactionalId) =>
                createProducer(transactionalOptions(producerOptions, transactionalId)),
            },
          }),
    });
  } catch (error) {
    await producer.close({ timeoutMs: 0 });
    throw error;
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const signal of SIGNALS) process.off(signal, onSignal);
      process.on('SIGTERM', onSecondSignal);
      process.on('SIGINT', onSecondSignal);
      logger?.info('kafboy: shutting down: no new connections, finishing requests in flight');
      await gateway.close();
      logger?.info(`kafboy: draining the producer (up to ${drainTimeoutMs} ms)`);
      await producer.close({ timeoutMs: drainTimeoutMs });
      logger?.info('kafboy: stopped');
    })();
    return stopping;
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    logger?.info(`kafboy: ${signal} received`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger?.error(`kafboy: shutdown failed: ${(error as Error).message}`, { error });
        process.exit(1);
      },
    );
  };
  const onSecondSignal = (signal: NodeJS.Signals): void => {
    logger?.warn(`kafboy: ${signal} again during shutdown: exiting now`);
    process.exit(1);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);

  return { gateway, producer, stop };
}

/** The producer options of the gateway's transactional producer. */
function transactionalOptions(options: ProducerOptions, transactionalId: string): ProducerOptions {
  const transactional: ProducerOptions = { ...options, transactionalId };
  delete transactional.spool;
  return transactional;
}
