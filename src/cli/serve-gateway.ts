// What one `ekaf serve` process runs: a gateway with the visualizer's routes, built from the
// settings the command line resolved. The single-process path and each worker of
// `--workers N` start it the same way, so that they cannot drift apart.
import { join } from 'node:path';
import type { ProducerOptions, SpoolOption } from '../config.js';
import { serve, type ServeOptions, type Served } from '../gateway/serve.js';
import { visualizerRoutes } from '../gateway/visualizer.js';
import { stderrLogger } from './output.js';
import { securityOptions, type TlsSetting } from './security-settings.js';

/** What a serve worker needs; the primary passes it to workers as JSON in EKAF_SERVE_CONFIG. */
export interface ServeConfig {
  brokers: string;
  clientId?: string;
  port: number;
  host: string;
  authToken?: string;
  /** Host names answered without a token (GatewayOptions.allowedHosts). */
  allowedHosts?: string[];
  /** The only topics written or configured (GatewayOptions.allowTopics). */
  allowTopics?: string[];
  /** Most distinct topics written or configured (GatewayOptions.maxTopics). */
  maxTopics?: number;
  maxBodyBytes?: number;
  requestTimeoutMs?: number;
  responseTimeoutMs?: number;
  maxConnections?: number;
  drainTimeoutMs?: number;
  /** TLS settings (the CA file is read by each worker); SASL comes from each worker's env. */
  tls: TlsSetting;
  /** The durable spool; with workers, each uses a directory of its own under `dir`. */
  spool?: SpoolOption;
  /** POST /tx/batch: each process's transactional id is `<prefix>-<worker index>`. */
  transactionalIdPrefix?: string;
}

/** Starts the gateway with its visualizer; `warmTopics` are resolved at once (readiness). */
export function startGateway(config: ServeConfig, warmTopics: string[], slot?: number): Promise<Served> {
  const spool =
    config.spool === undefined
      ? {}
      : // A worker's spool survives it: its replacement (same slot) recovers what it left.
        {
          spool:
            slot === undefined
              ? config.spool
              : { ...config.spool, dir: join(config.spool.dir, `worker-${slot}`) },
        };
  const producerLogger = stderrLogger('warn');
  const gatewayLogger = stderrLogger('info');
  // The counts of repeated warnings held back (warning-dedup.ts) are printed as the process
  // exits, which serve() does on SIGTERM/SIGINT: an outage's last count is not lost.
  process.once('exit', () => {
    producerLogger.flush();
    gatewayLogger.flush();
  });
  const producerOptions: ProducerOptions = {
    brokers: config.brokers,
    ...(config.clientId === undefined ? {} : { clientId: config.clientId }),
    ...securityOptions(config.tls),
    ...spool,
    logger: producerLogger,
  };
  const options: ServeOptions = {
    producerOptions,
    port: config.port,
    host: config.host,
    logger: gatewayLogger,
    extraRoutes: visualizerRoutes(),
  };
  if (warmTopics.length > 0) options.warmTopics = warmTopics;
  if (config.authToken !== undefined) options.authToken = config.authToken;
  if (config.allowedHosts !== undefined) options.allowedHosts = config.allowedHosts;
  if (config.allowTopics !== undefined) options.allowTopics = config.allowTopics;
  if (config.maxTopics !== undefined) options.maxTopics = config.maxTopics;
  if (config.maxBodyBytes !== undefined) options.maxBodyBytes = config.maxBodyBytes;
  if (config.requestTimeoutMs !== undefined) options.requestTimeoutMs = config.requestTimeoutMs;
  if (config.drainTimeoutMs !== undefined) options.drainTimeoutMs = config.drainTimeoutMs;
  if (config.responseTimeoutMs !== undefined) options.responseTimeoutMs = config.responseTimeoutMs;
  if (config.maxConnections !== undefined) options.maxConnections = config.maxConnections;
  if (config.transactionalIdPrefix !== undefined) {
    // Stable per slot: a worker's replacement takes its id, fencing what is left of it and
    // aborting the transaction it left open.
    options.transactions = { transactionalId: `${config.transactionalIdPrefix}-${slot ?? 0}` };
  }
  return serve(options);
}
