// Scenario 7: the kafboy gateway, HTTP requests per second on POST /async/:topic (202 once the
// producer accepted the record; delivery continues behind) with a small JSON body
// {"key":"user-42","value":{"event":"click","page":"/home"}}. The gateway is the real command,
// `node --import tsx src/cli.ts serve -b <cluster> -p <port> [--workers 2]`, in its own
// process(es); autocannon (programmatic API) runs in another process: 50 connections, no
// pipelining, a 2 s unmeasured warm-up, then a 10 s measurement. On this 2-core machine the
// load generator, the gateway worker(s) and the mock brokers share the cores, so two workers
// cannot double the rate. Only non-2xx-free runs count.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { benchNode } from '../lib/node-binaries.js';
import { ROOT_DIR, runWorker, type Metrics } from '../lib/proc.js';
import type { Contestant, RunContext, Scenario } from '../lib/scenario.js';

const BODY = JSON.stringify({ key: 'user-42', value: { event: 'click', page: '/home' } });

interface Params {
  url: string;
  seconds: number;
  connections: number;
}

export const workers = {
  async autocannon(p: Params): Promise<Metrics> {
    const { default: autocannon } = await import('autocannon');
    const options = {
      url: p.url,
      method: 'POST',
      body: BODY,
      headers: { 'content-type': 'application/json' },
      connections: p.connections,
      pipelining: 1,
    };
    await autocannon({ ...options, duration: 2 });
    const r = await autocannon({ ...options, duration: p.seconds });
    if (r.non2xx > 0 || r.errors > 0) {
      throw new Error(`${r.non2xx} non-2xx answers, ${r.errors} errors, ${r.timeouts} timeouts`);
    }
    return {
      reqPerSec: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      requests: r.requests.total,
    };
  },
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no port'));
        else resolve(address.port);
      });
    });
  });
}

/** Starts `ekaf serve`, waits for its URL and one accepted produce, runs autocannon, stops it. */
async function gatewayRun(ctx: RunContext, workerCount: number, seconds: number): Promise<Metrics> {
  const topic = await ctx.freshTopic(`gw${workerCount}`);
  const port = await freePort();
  const args = ['--import', 'tsx', 'src/cli.ts', 'serve', '-b', ctx.cluster.bootstrap, '-p', String(port)];
  if (workerCount > 1) args.push('--workers', String(workerCount));
  const child = spawn(benchNode().path, args, { cwd: ROOT_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  try {
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`ekaf serve did not start: ${stderr}`));
      }, 30_000);
      createInterface({ input: child.stdout }).on('line', (line) => {
        // With --workers, the URL is printed once every worker listens.
        const m = /^gateway:\s+(\S+)/.exec(line);
        if (m?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      void exited.then(() => {
        reject(new Error(`ekaf serve exited: ${stderr}`));
      });
    });
    const url = new URL(`/async/${topic}`, base).href;
    // Metadata is lazy: make sure every worker resolved the topic before measuring.
    for (let i = 0; i < 20; i++) {
      const res = await fetch(url, {
        method: 'POST',
        body: BODY,
        headers: { 'content-type': 'application/json' },
      });
      if (res.status !== 202) throw new Error(`warm-up: HTTP ${res.status} ${await res.text()}`);
    }
    const metrics = await runWorker('gateway', 'autocannon', { url, seconds, connections: 50 });
    return { ...metrics, workers: workerCount };
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
}

export const scenario: Scenario = {
  id: '7',
  name: 'Gateway: POST /async/:topic, small JSON body (autocannon, 50 connections)',
  cases(quick) {
    const seconds = quick ? 3 : 10;
    const contestant = (n: number): Contestant => ({
      name: n === 1 ? 'ekaf serve (1 process)' : `ekaf serve --workers ${n}`,
      run: (ctx) => gatewayRun(ctx, n, seconds),
    });
    return [
      {
        id: '7',
        title: `${seconds} s of POST /async/:topic`,
        contestants: [contestant(1), contestant(2)],
        metrics: [
          { key: 'reqPerSec', label: 'req/s', higherIsBetter: true },
          { key: 'p50', label: 'ms p50', higherIsBetter: false },
          { key: 'p99', label: 'ms p99', higherIsBetter: false },
        ],
      },
    ];
  },
};
