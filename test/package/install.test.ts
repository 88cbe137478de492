// Issue 17, finding 8: the package as a user installs it. A copy of this checkout (the files git
// would clone, node_modules linked) is packed with `npm pack` (whose `prepare` script builds),
// the tarball installed into an empty folder with npm, and used as an application would: import
// it as ESM (`ekaf`, `ekaf/gateway`), run the `ekaf` command from node_modules/.bin, produce to
// a mock cluster with both, and read the records back with kcat.
import { execFile, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTopic } from '../broker/kcat.js';
import { useMockCluster } from '../support/cluster-fixture.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

describe('the npm package, packed and installed into an empty folder', () => {
  const cluster = useMockCluster({ brokers: 3, topics: [{ name: 'installed', partitions: 3 }] });
  let work: string;
  /** The application folder the package is installed in. */
  let app: string;
  let tarball: string;
  let bin: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ekaf-package-'));
    // The checkout as git would clone it (tracked and new files, nothing ignored: no dist/).
    const checkout = join(work, 'checkout');
    const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
    });
    for (const file of stdout.split('\0').filter((f) => f !== '' && existsSync(join(root, f)))) {
      mkdirSync(dirname(join(checkout, file)), { recursive: true });
      cpSync(join(root, file), join(checkout, file));
    }
    symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'), 'dir');
    // npm pack runs `prepare` (the build) first: a checkout packs without a build step of its own.
    const packed = await run('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: checkout,
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string }[];
    tarball = join(work, info?.filename ?? 'missing.tgz');
    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
      cwd: app,
      timeout: 300_000,
    });
    bin = join(app, 'node_modules', '.bin', 'ekaf');
  }, 600_000);

  afterAll(() => {
    if (typeof work === 'string') rmSync(work, { recursive: true, force: true });
  });

  it('ships the built library, the command and the visualizer; no tests; source maps carry their sources', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.split('\n').filter((f) => f !== '');
    for (const wanted of [
      'package/package.json',
      'package/dist/src/index.js',
      'package/dist/src/index.d.ts',
      'package/dist/src/gateway/index.js',
      'package/dist/bin/ekaf.js',
      'package/dist/bin/produce.cjs',
      'package/dist/bin/serve.cjs',
    ]) {
      expect(files, wanted).toContain(wanted);
    }
    expect(files.some((f) => f.startsWith('package/dist/src/gateway/visualizer/app/'))).toBe(true);
    expect(
      files.filter((f) => f.startsWith('package/test/') || (f.endsWith('.ts') && !f.endsWith('.d.ts'))),
    ).toEqual([]);
    // A map points at sources that are not shipped unless it carries them.
    const installed = join(app, 'node_modules', 'ekaf');
    const map = JSON.parse(readFileSync(join(installed, 'dist', 'src', 'producer.js.map'), 'utf8')) as {
      sources: string[];
      sourcesContent?: string[];
    };
    expect(map.sourcesContent?.[0]).toContain('export function createProducer');
  });

  it('imports as ESM: ekaf and ekaf/gateway', async () => {
    const script = [
      "import * as ekaf from 'ekaf';",
      "import * as gateway from 'ekaf/gateway';",
      'console.log(JSON.stringify({',
      '  createProducer: typeof ekaf.createProducer,',
      '  serve: typeof gateway.serve,',
      '  startGateway: typeof gateway.startGateway,',
      '  visualizerRoutes: typeof gateway.visualizerRoutes,',
      '}));',
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({
      createProducer: 'function',
      serve: 'function',
      startGateway: 'function',
      visualizerRoutes: 'function',
    });
  });

  it('runs `ekaf --help` from node_modules/.bin', async () => {
    const { stdout } = await run(bin, ['--help'], { cwd: app });
    expect(stdout).toMatch(/^Usage: ekaf <command>/);
  });

  it('produces to a cluster, from a program and from the command; kcat reads every record back', async () => {
    const { bootstrap } = cluster();
    const program = [
      "import { createProducer } from 'ekaf';",
      `const producer = createProducer({ brokers: ${JSON.stringify(bootstrap)}, clientId: 'installed-app' });`,
      "const reports = await producer.produceSync('installed', ['p1', 'p2', 'p3'].map((value) => ({ value })));",
      'await producer.close();',
      'console.log(reports.length);',
    ].join('\n');
    writeFileSync(join(app, 'produce.mjs'), program);
    expect((await run(process.execPath, ['produce.mjs'], { cwd: app })).stdout.trim()).toBe('3');
    const cli = await runWithStdin(bin, ['produce', '-b', bootstrap, '-t', 'installed'], 'c1\nc2\n', app);
    expect(cli.code, cli.stderr).toBe(0);
    const values = (await readTopic(bootstrap, 'installed')).map((r) => r.value?.toString());
    expect(values.sort()).toEqual(['c1', 'c2', 'p1', 'p2', 'p3']);
  });

  it('`ekaf serve` without brokers says the dev cluster is not in the package and what to give instead', async () => {
    const served = await runWithStdin(bin, ['serve', '--port', '0'], '', app);
    expect(served.code).toBe(2);
    expect(served.stderr).toMatch(/the bundled dev cluster is not part of the npm package/);
    expect(served.stderr).toMatch(/-b host:9092 or KAFKA_BROKERS/);
    expect(readdirSync(app)).not.toContain('test');
  });
});

function runWithStdin(
  command: string,
  args: string[],
  stdin: string,
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.KAFKA_BROKERS;
    const child = spawn(command, args, { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}
