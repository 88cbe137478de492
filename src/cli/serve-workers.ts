// `ekaf serve --workers N`: a primary process that forks N gateway workers sharing one port
// (node:cluster), and what each worker runs. A worker is this same executable started again by
// cluster.fork; it recognises itself by EKAF_SERVE_CONFIG, which carries the settings the
// primary resolved (see main.ts).
import cluster from 'node:cluster';
import type { DevCluster } from '../dev-cluster.js';
import { FAILED, OK } from './exit-codes.js';
import { err, out } from './output.js';
import { startGateway, type ServeConfig } from './serve-gateway.js';

/** The environment variable that makes a cluster worker a serve worker (main.ts checks it too). */
export const SERVE_CONFIG_ENV = 'EKAF_SERVE_CONFIG';

/** What the primary puts in SERVE_CONFIG_ENV. */
interface WorkerConfig extends ServeConfig {
  warmTopics: string[];
  /** 0..N-1: a replacement takes the slot, and so the spool, of the worker it replaces. */
  slot: number;
}

/**
 * A worker of `ekaf serve --workers N`: one gateway; it tells the primary its URL. The primary
 * owns shutdown: it turns SIGINT/SIGTERM into one SIGTERM per worker. A worker therefore
 * ignores SIGINT, which a terminal's Ctrl-C sends to the whole process group: taken together
 * with the primary's SIGTERM, serve() would count it as a second signal and exit 1.
 */
export async function serveWorker(): Promise<number> {
  const config = JSON.parse(process.env[SERVE_CONFIG_ENV] ?? '{}') as WorkerConfig;
  const before = new Set(process.listeners('SIGINT'));
  const running = await startGateway(config, config.warmTopics, config.slot);
  for (const listener of process.listeners('SIGINT')) {
    if (!before.has(listener)) process.off('SIGINT', listener);
  }
  process.on('SIGINT', () => undefined);
  process.send?.({ ekaf: 'listening', url: running.gateway.url });
  return new Promise<number>(() => undefined); // serve() exits on SIGTERM
}

/**
 * The primary of `ekaf serve --workers N`: forks N workers that share the port, forwards
 * SIGTERM/SIGINT to them as SIGTERM, and exits 0 when every worker exited 0. A worker that
 * crashes after it started listening is replaced; one that fails before ends everything.
 */
export function runPrimary(
  config: ServeConfig,
  count: number,
  warmTopics: string[],
  devCluster: DevCluster | undefined,
  announce: (url: string) => void,
): Promise<number> {
  return new Promise<number>((resolve) => {
    const listening = new Set<number>();
    let announced = false;
    let shuttingDown = false;
    let failed = false;

    /** Each worker's slot, by worker id. */
    const slots = new Map<number, number>();
    const fork = (slot: number): void => {
      const workerConfig: WorkerConfig = { ...config, warmTopics, slot };
      const worker = cluster.fork({ [SERVE_CONFIG_ENV]: JSON.stringify(workerConfig) });
      slots.set(worker.id, slot);
      worker.on('message', (message: { ekaf?: string; url?: string }) => {
        if (message.ekaf !== 'listening' || message.url === undefined) return;
        listening.add(worker.id);
        if (!announced && listening.size === count) {
          announced = true;
          announce(message.url);
          out(
            `workers:    ${count} (pids ${Object.values(cluster.workers ?? {})
              .map((w) => w?.process.pid)
              .join(', ')})`,
          );
        }
      });
    };

    const shutdown = (): void => {
      const workers = Object.values(cluster.workers ?? {});
      if (shuttingDown) {
        // A second signal: the operator insists.
        err('ekaf: signal again during shutdown: killing the workers');
        for (const worker of workers) worker?.process.kill('SIGKILL');
        process.exit(FAILED);
      }
      shuttingDown = true;
      for (const worker of workers) worker?.process.kill('SIGTERM');
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);

    cluster.on('exit', (worker, code: number | null, exitSignal: string) => {
      // @types/node says string, but it is null when the worker exited by itself.
      const signal = exitSignal as string | null;
      const clean = code === 0 && signal === null;
      const started = listening.delete(worker.id);
      if (!clean) failed = true;
      if (!shuttingDown) {
        const why = signal ?? `exit code ${code}`;
        if (started) {
          err(`ekaf: worker ${worker.process.pid} exited (${why}); starting a new one`);
          failed = false;
          fork(slots.get(worker.id) ?? 0);
        } else {
          err(`ekaf: worker ${worker.process.pid} failed to start (${why}); stopping`);
          failed = true;
          shutdown();
        }
      }
      if (shuttingDown && Object.keys(cluster.workers ?? {}).length === 0) {
        void (devCluster?.stop() ?? Promise.resolve()).then(() => {
          resolve(failed ? FAILED : OK);
        });
      }
    });

    for (let slot = 0; slot < count; slot++) fork(slot);
  });
}
