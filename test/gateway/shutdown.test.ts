import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useMockCluster } from '../support/cluster-fixture.js';
import { readTopic } from '../broker/kcat.js';

const fixture = fileURLToPath(new URL('./fixtures/serve.ts', import.meta.url));
// tsx itself, as `npx tsx` would find it: npx (npm exec, through a shell) does not pass
// SIGTERM on, while tsx relays it to the node process it runs.
const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

describe('kafboy serve(): SIGTERM while requests are in flight', () => {
  const cluster = useMockCluster({ peer: '2.12', brokers: 3, topics: [{ name: 'drain', partitions: 3 }] });

  it('answers what it accepted, drains the producer, exits 0; every 2xx record is in Kafka', async () => {
    const child = spawn(tsx, [fixture], {
      env: { ...process.env, KAFBOY_BROKERS: cluster().bootstrap },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: if the test fails, tsx and its node child are killed together.
      detached: true,
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    try {
      const lines = createInterface({ input: child.stdout });
      const [first] = (await once(lines, 'line')) as [string];
      expect(first).toMatch(/^listening http:\/\//);
      const url = first.slice('listening '.length);

      // Warm up (metadata, connections), then slow every broker down so that sync requests
      // are still waiting for their acknowledgements when SIGTERM arrives.
      expect((await fetch(`${url}/sync/drain`, post({ value: 'warm' }))).status).toBe(200);
      await cluster().setRtt(-1, 700);

      const values: string[] = [];
      const requests: Promise<{ value: string; status: number }>[] = [];
      for (let i = 0; i < 20; i++) {
        for (const route of ['sync', 'async', 'batch/sync', 'batch/async']) {
          const value = `${route}-${i}`;
          values.push(value);
          requests.push(
            fetch(`${url}/${route}/drain`, post({ value })).then(
              async (res) => {
                await res.text();
                return { value, status: res.status };
              },
              () => ({ value, status: 0 }),
            ),
          );
        }
      }
      // Every request reached the gateway: its records were handed to the producer (the
      // gateway's histogram of request sizes counts each then), the warm-up's included.
      const handedOver = async (): Promise<number> => {
        const text = await (await fetch(`${url}/metrics`)).text();
        const counts = text.matchAll(
          /^kafboy_produce_request_records_count\{[^}]*topic="drain"[^}]*\} (\d+)$/gm,
        );
        return [...counts].reduce((sum, [, n]) => sum + Number(n), 0);
      };
      await expect.poll(handedOver, { timeout: 10_000 }).toBe(1 + requests.length);
      child.kill('SIGTERM');

      const answers = await Promise.all(requests);
      const [code, signal] = await exited;
      expect({ code, signal }, stderr).toEqual({ code: 0, signal: null });
      expect(stderr).toContain('SIGTERM received');

      // All were in flight before the signal: each was answered, none refused or cut off.
      expect(
        answers.filter((a) => a.status < 200 || a.status >= 300),
        stderr,
      ).toEqual([]);
      await cluster().setRtt(-1, 0);
      const stored = (await readTopic(cluster().bootstrap, 'drain')).map((r) => r.value?.toString());
      for (const { value } of answers) expect(stored).toContain(value);
      expect(stored).toHaveLength(values.length + 1);
    } finally {
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }
  });
});

function post(doc: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc) };
}
