// The command an installed package runs (package.json "bin": dist/bin/ekaf.js, bundled by
// scripts/bundle-cli.ts): built here by `npm run build`, then run with node as npm's bin shim
// runs it. The other CLI tests run the sources through tsx; this one checks what the bundle
// could break: its commands load from their bundles through the code cache, packages resolve from
// node_modules, and the gateway finds the visualizer's assets beside the bundle.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readTopic } from '../broker/kcat.js';
import { useMockCluster } from '../support/cluster-fixture.js';
import { BUILT_CLI, runCli, startCli, type RunningCli } from './run-cli.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('the built ekaf command (dist/bin/ekaf.js)', () => {
  const cluster = useMockCluster({
    topics: [
      { name: 'built', partitions: 3 },
      { name: 'cached', partitions: 3 },
    ],
  });
  let running: RunningCli | undefined;
  beforeAll(async () => {
    await promisify(execFile)('npm', ['run', '--silent', 'build'], { cwd: root, timeout: 240_000 });
  }, 300_000);
  afterEach(() => {
    running?.kill();
    running = undefined;
  });

  it('is the package’s bin', () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { bin: { ekaf: string } };
    expect(`${root}${pkg.bin.ekaf.replace(/^\.\//, '')}`).toBe(BUILT_CLI);
    expect(readFileSync(BUILT_CLI, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it('prints its usage', async () => {
    const result = await runCli(['produce', '--help'], { built: true });
    expect(result.stdout).toMatch(/Usage: ekaf produce/);
    expect(result.code).toBe(0);
  });

  it("a command's usage error exits 2 (each command is a bundle of its own: the error crosses copies of its class)", async () => {
    const result = await runCli(['produce', '-b', '127.0.0.1:9', '-t', 'x', '--acks', 'some'], {
      built: true,
      stdin: '',
    });
    expect(result.stderr).toMatch(/^ekaf produce: .*acks/m);
    expect(result.stderr).toMatch(/Run "ekaf produce --help" for usage/);
    expect(result.code).toBe(2);
  });

  it('produces keyed lines that kcat reads back, each once, in file order per partition', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `key-${i % 97}:value ${i}`);
    const result = await runCli(['produce', '-b', cluster().bootstrap, '-t', 'built', '-K', ':'], {
      built: true,
      stdin: `${lines.join('\n')}\n`,
      timeoutMs: 60_000,
    });
    expect(result.stderr).toMatch(/5000 delivered, 0 failed/);
    expect(result.code).toBe(0);
    const records = await readTopic(cluster().bootstrap, 'built', { timeoutMs: 60_000 });
    const read = records.map((r) => `${r.key?.toString()}:${r.value?.toString()}`);
    expect([...read].sort()).toEqual([...lines].sort());
    const index = (line: string): number => Number(line.split(' ')[1]);
    for (let i = 1; i < records.length; i++) {
      if (records[i - 1]?.partition === records[i]?.partition) {
        expect(index(read[i] ?? '')).toBeGreaterThan(index(read[i - 1] ?? ''));
      }
    }
  });

  it('loads its command through a code cache that its first successful run writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ekaf-built-code-cache-'));
    try {
      const env = { EKAF_CODE_CACHE_DIR: dir };
      expect((await runCli(['produce', '--help'], { built: true, env })).code).toBe(0);
      expect(readdirSync(dir)).toEqual([]); // help runs next to nothing: not worth a cache
      const lines = Array.from({ length: 100 }, (_, i) => `k${i % 7}:cached ${i}`);
      const produce = (): ReturnType<typeof runCli> =>
        runCli(['produce', '-b', cluster().bootstrap, '-t', 'cached', '-K', ':'], {
          built: true,
          env,
          stdin: `${lines.join('\n')}\n`,
          timeoutMs: 60_000,
        });
      const first = await produce();
      expect(first.stderr).toMatch(/100 delivered, 0 failed/);
      const written = readdirSync(dir);
      expect(written).toEqual([expect.stringMatching(/^produce\.cjs-v[\d.]+-\w+-[0-9a-f]{8}-\d+\.v8$/)]);
      const file = join(dir, written[0] as string);
      const made = statSync(file);
      const second = await produce();
      expect(second.stderr).toMatch(/100 delivered, 0 failed/);
      // Used, not written again (a missing or refused cache would be).
      expect(statSync(file).mtimeMs).toBe(made.mtimeMs);
      expect(readdirSync(dir)).toEqual(written);
      const records = await readTopic(cluster().bootstrap, 'cached', { timeoutMs: 60_000 });
      expect(records.map((r) => r.value?.toString()).sort()).toEqual(
        [...lines, ...lines].map((l) => l.split(':')[1]).sort(),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves the gateway and the visualizer’s page and assets', async () => {
    running = startCli(['serve', '--port', '0', '-b', cluster().bootstrap], { built: true });
    const url = await running.line(/^gateway: +(\S+)$/);
    for (const [path, type] of [
      ['/', /text\/html/],
      ['/assets/app.js', /javascript/],
      ['/assets/app.css', /text\/css/],
    ] as const) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toMatch(type);
      expect((await response.text()).length, path).toBeGreaterThan(100);
    }
    const produced = await fetch(`${url}/sync/built`, { method: 'POST', body: 'through the gateway' });
    expect(produced.status).toBe(200);
    expect((await running.stop('SIGTERM')).code).toBe(0);
  });
});
