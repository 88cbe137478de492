// ekaf without its native accelerators: in a child process where requiring @node-rs/crc32, snappy
// or lz4-napi throws (a preload that blocks them, as on a platform they ship no binary for), and in
// one started with EKAF_PURE=1, ekaf loads, reports the pure implementations (the CRC's in
// WebAssembly; without WebAssembly, see crc32c-wasm.test.ts), and its CRC and
// compressed output are read back by the native packages in this process. A third child, with
// neither, must report the native ones: the check can tell them apart.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import crc32cJs from 'crc-32/crc32c.js';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Accelerators } from '../../src/protocol/compression.js';
import { seeded } from '../support/seeded.js';

const require = createRequire(import.meta.url);
const snappy = require('snappy') as { uncompressSync(data: Buffer): Buffer };
const lz4 = require('lz4-napi') as { decompressFrameSync(data: Buffer): Buffer };
const zstd = require('@bokuweb/zstd-wasm') as {
  init(): Promise<void>;
  decompress(data: Uint8Array): Uint8Array;
};

const fixture = (name: string): string => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url));

interface ChildResult {
  report: Accelerators;
  crc: number;
  compressed: Record<'gzip' | 'snappy' | 'lz4' | 'zstd', string>;
}

function runChild(input: Buffer, opts: { block: boolean; pure: boolean }): Promise<ChildResult> {
  const args = ['--import', TSX];
  if (opts.block) args.push('--import', fixture('compression-block-addons.ts'));
  args.push(fixture('compression-child.ts'));
  const env = { ...process.env };
  delete env.EKAF_PURE;
  if (opts.pure) env.EKAF_PURE = '1';
  const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(input.toString('base64'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(stdout) as ChildResult);
      else reject(new Error(`child exited ${code}: ${stderr}`));
    });
  });
}

/** 200 KiB of JSON-like records with random fields: several LZ4 blocks, compressible. */
function records(): Buffer {
  const random = seeded(20261202);
  const lines: string[] = [];
  for (let i = 0; lines.join('').length < 200 * 1024; i++)
    lines.push(`{"id":${i},"user":"u${Math.floor(random() * 1e6)}","ok":${random() < 0.5}}\n`);
  return Buffer.from(lines.join(''));
}

describe('ekaf without native addons', () => {
  const input = records();
  // Once: after a second init() of @bokuweb/zstd-wasm (a shared singleton), its decompress
  // returned wrong bytes here (vitest, Node 20); ekaf too initialises it once.
  beforeAll(() => zstd.init());

  it.each([
    { how: 'native packages that cannot be loaded', block: true, pure: false },
    { how: 'EKAF_PURE=1', block: false, pure: true },
  ])('loads and compresses with $how, pure and readable', async ({ block, pure }) => {
    const { report, crc, compressed } = await runChild(input, { block, pure });
    expect(report.pureForced).toBe(pure);
    // The CRC without its native package is the WebAssembly kernel (no addon either).
    expect(report.crc32c.implementation).toBe('wasm');
    for (const name of ['crc32c', 'snappy', 'lz4'] as const) {
      if (name !== 'crc32c') expect(report[name].implementation, name).toBe('pure');
      expect(report[name].reason, name).toMatch(
        block ? /could not be loaded \(.*blocked by the test/ : /EKAF_PURE/,
      );
    }
    expect(report.gzip.implementation).toBe('node-zlib');
    expect(['node-zlib', 'wasm']).toContain(report.zstd.implementation);

    expect(crc).toBe(crc32cJs.buf(input) >>> 0);
    const bytes = (name: keyof ChildResult['compressed']): Buffer => Buffer.from(compressed[name], 'base64');
    expect(snappy.uncompressSync(bytes('snappy')).equals(input)).toBe(true);
    expect(lz4.decompressFrameSync(bytes('lz4')).equals(input)).toBe(true);
    expect(zlib.gunzipSync(bytes('gzip')).equals(input)).toBe(true);
    expect(Buffer.from(zstd.decompress(bytes('zstd'))).equals(input)).toBe(true);
  });

  it('control: with the packages loadable and EKAF_PURE unset, the native ones are used', async () => {
    const { report } = await runChild(Buffer.from('x'), { block: false, pure: false });
    expect(report.pureForced).toBe(false);
    for (const name of ['crc32c', 'snappy', 'lz4'] as const)
      expect(report[name].implementation, name).toBe('native');
  });
});
