// Input data: files of "key:value" lines (what kcat -P -l -K: and ekaf produce -K: read), and the
// same records as Buffers for the library runs (views into the file's bytes: no copies).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DATA_DIR = '/tmp/ekaf-bench';

export interface Rec {
  key: Buffer;
  value: Buffer;
}

const ALNUM = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789');

/** A deterministic xorshift32 generator, so every run and every machine reads the same bytes. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** An 8-byte key: "k" and 7 digits. */
function key(i: number): string {
  return `k${String(i % 10_000_000).padStart(7, '0')}`;
}

/**
 * `count` lines of an 8-byte key, ':' and `valueBytes` random alphanumerics (incompressible
 * enough, never ':' or '\n'). Written once per (count, size) and reused.
 */
export function keyedFile(count: number, valueBytes: number): string {
  const path = join(DATA_DIR, `keyed-${count}x${valueBytes}.txt`);
  if (existsSync(path)) return path;
  mkdirSync(DATA_DIR, { recursive: true });
  const lineBytes = 8 + 1 + valueBytes + 1;
  const buf = Buffer.allocUnsafe(count * lineBytes);
  const next = rng(0x5eed + valueBytes);
  let o = 0;
  for (let i = 0; i < count; i++) {
    o += buf.write(key(i), o, 'latin1');
    buf[o++] = 0x3a; // ':'
    for (let j = 0; j < valueBytes; j++) buf[o++] = ALNUM[next() % ALNUM.length] as number;
    buf[o++] = 0x0a;
  }
  writeFileSync(path, buf);
  return path;
}

/**
 * `count` lines of an 8-byte key, ':' and a JSON event (~220 bytes) of the kind a web service
 * logs: repeated field names and values, a few varying numbers. Compresses about 5-8× per batch.
 */
export function jsonFile(count: number): string {
  const path = join(DATA_DIR, `json-${count}.txt`);
  if (existsSync(path)) return path;
  mkdirSync(DATA_DIR, { recursive: true });
  const next = rng(0x1abe1);
  const events = ['page_view', 'click', 'add_to_cart', 'checkout', 'search'];
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const value = JSON.stringify({
      id: i,
      user: `user-${String(next() % 50_000).padStart(6, '0')}`,
      event: events[next() % events.length],
      page: `/products/${next() % 5000}`,
      agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
      ts: 1_700_000_000_000 + i * 7,
      ok: true,
      tags: ['web', 'eu-west-1'],
    });
    lines.push(`${key(i)}:${value}\n`);
  }
  writeFileSync(path, lines.join(''));
  return path;
}

/** The records of a "key:value" file, as Buffer views into its contents. */
export function readRecords(path: string): Rec[] {
  const buf = readFileSync(path);
  const records: Rec[] = [];
  let start = 0;
  while (start < buf.length) {
    let end = buf.indexOf(0x0a, start);
    if (end < 0) end = buf.length;
    const colon = buf.indexOf(0x3a, start);
    records.push({ key: buf.subarray(start, colon), value: buf.subarray(colon + 1, end) });
    start = end + 1;
  }
  return records;
}
