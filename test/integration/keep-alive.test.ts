// Issue 17, finding 8: "a producer created and never used keeps Node alive forever". A script
// that made a producer may end without close() once nothing it accepted is on its way (sockets
// and the machines' timers are unreferenced), and Node waits for what is (a referenced handle
// while records are held): src/runtime/keep-alive.ts.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { countRecords } from '../broker/kcat.js';
import { useMockCluster } from '../support/cluster-fixture.js';

const CHILD = fileURLToPath(new URL('../support/keep-alive-child.ts', import.meta.url));
/** Past this the child is killed, and the test fails: it did not end by itself. */
const LIMIT_MS = 20_000;

function runChild(
  brokers: string,
  mode: string,
): Promise<{ code: number | null; stdout: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, brokers, mode], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, ms: Date.now() - started });
    });
  });
}

describe('when a producer lets Node exit', () => {
  const cluster = useMockCluster({ brokers: 3, topics: [{ name: 'keep-alive', partitions: 3 }] });

  it('made and never used, even with an unreachable broker: the script ends', async () => {
    const result = await runChild('127.0.0.1:9', 'unused');
    expect(result.stdout).toBe('end of script\n');
    expect(result.code).toBe(0);
  });

  it('its records acknowledged, connections still open: the script ends', async () => {
    const result = await runChild(cluster().bootstrap, 'acknowledged');
    expect(result.stdout).toBe('acknowledged 3\nend of script\n');
    expect(result.code).toBe(0);
  });

  it('a transaction awaited: it commits, then the script ends', async () => {
    const result = await runChild(cluster().bootstrap, 'transaction');
    expect(result.stdout).toBe('committed\nend of script\n');
    expect(result.code).toBe(0);
  });

  it('records produced and not awaited: Node waits for their delivery, then ends', async () => {
    const before = await countRecords(cluster().bootstrap, 'keep-alive');
    const result = await runChild(cluster().bootstrap, 'fire-and-forget');
    expect(result.stdout).toBe('end of script\ncallback ok 1000\n');
    expect(result.code).toBe(0);
    expect(await countRecords(cluster().bootstrap, 'keep-alive')).toBe(before + 1000);
  });

  it('records that cannot be delivered: Node waits until they fail (deliveryTimeoutMs 3000), then ends', async () => {
    const result = await runChild('127.0.0.1:9', 'fire-and-forget');
    expect(result.stdout).toBe('end of script\ncallback ERR_DELIVERY_TIMEOUT 1000\n');
    expect(result.ms).toBeGreaterThanOrEqual(3000);
    expect(result.code).toBe(0);
  });
});
