// The bundled command's loader (src/cli/code-cache.ts): a CommonJS bundle runs as require would
// run it, its V8 code cache is written once it has run and used after, and a cache that is not
// this bundle's, or that another user could have written, is never run. What reads a cache runs
// in a process of its own (test/support/code-cache-child.ts): within one process V8 reuses
// what it compiled and never reads the file.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeCacheDir, loadWithCodeCache } from '../../src/cli/code-cache.js';

const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
const child = fileURLToPath(new URL('../support/code-cache-child.ts', import.meta.url));

interface ChildLoad {
  status: string;
  cacheFile: string | null;
  marker: string;
  work: number | null;
}

/** Loads `bundle` with the cache in `dir` in a new process; `call` runs its function, `save` saves. */
function loadInChild(bundle: string, dir: string, ...actions: ('call' | 'save')[]): ChildLoad {
  return JSON.parse(execFileSync(tsx, [child, bundle, dir, ...actions], { encoding: 'utf8' })) as ChildLoad;
}

/** A bundle with a function large enough that its bytecode shows in the cache's size. */
function bundleText(marker: string): string {
  const body = Array.from({ length: 300 }, (_, i) => `  total += (n * ${i + 1}) % 7;`).join('\n');
  return [
    `"use strict";`,
    `const path = require("node:path");`,
    `exports.marker = ${JSON.stringify(marker)};`,
    `exports.where = () => [__filename, __dirname, path.basename(__filename)];`,
    `exports.sloppyThis = function () { return this; };`,
    `exports.work = function (n) {\n  let total = 0;\n${body}\n  return total;\n};`,
    `module.exports.replaced = module.exports === exports;`,
  ].join('\n');
}

describe('loadWithCodeCache', () => {
  let root: string;
  let bundle: string;
  let cacheDir: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ekaf-code-cache-test-'));
    bundle = join(root, 'command.cjs');
    cacheDir = join(root, 'cache');
    writeFileSync(bundle, bundleText('first'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('runs the bundle as require would: exports, require, __filename, __dirname, strict mode', () => {
    const loaded = loadWithCodeCache(bundle, { dir: cacheDir });
    expect(loaded.exports.marker).toBe('first');
    expect((loaded.exports.where as () => string[])()).toEqual([bundle, root, 'command.cjs']);
    const unbound = loaded.exports.sloppyThis as () => unknown;
    expect(unbound()).toBeUndefined();
    expect(loaded.exports.replaced).toBe(true);
    expect((loaded.exports.work as (n: number) => number)(3)).toBeGreaterThan(0);
  });

  it('writes the cache once the bundle has run, and uses it on the next start', () => {
    const first = loadInChild(bundle, cacheDir, 'call', 'save');
    expect(first.status).toBe('none');
    const file = first.cacheFile as string;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    const second = loadInChild(bundle, cacheDir, 'call');
    expect(second).toEqual({ ...first, status: 'used' });
    expect(readdirSync(cacheDir)).toEqual([file.slice(cacheDir.length + 1)]);
  });

  it('holds the functions that ran before it was saved, not only the top level', () => {
    const early = loadInChild(bundle, join(root, 'early'), 'save');
    const late = loadInChild(bundle, join(root, 'late'), 'call', 'save');
    const size = (load: ChildLoad): number => statSync(load.cacheFile as string).size;
    expect(size(late)).toBeGreaterThan(size(early) + 1000);
  });

  it('never uses the cache of another text of the same length and time (V8 would: it checks the length)', () => {
    const first = loadInChild(bundle, cacheDir, 'save');
    const other = bundleText('other');
    expect(other.length).toBe(bundleText('first').length);
    const { atime, mtime } = statSync(bundle);
    writeFileSync(bundle, other);
    utimesSync(bundle, atime, mtime); // as npm gives every installed file one time
    const second = loadInChild(bundle, cacheDir);
    expect(second.status).toBe('none');
    expect(second.cacheFile).not.toBe(first.cacheFile);
    expect(second.marker).toBe('other');
  });

  it('runs without a cache V8 refuses, and writes a good one', () => {
    const first = loadInChild(bundle, cacheDir);
    writeFileSync(first.cacheFile as string, Buffer.from('not a code cache, not at all'));
    const second = loadInChild(bundle, cacheDir, 'call', 'save');
    expect(second.status).toBe('rejected');
    expect(second.work).toBe(
      (loadWithCodeCache(bundle, { dir: null }).exports.work as (n: number) => number)(5),
    );
    expect(loadInChild(bundle, cacheDir, 'call')).toEqual({ ...second, status: 'used' });
  });

  it('reads nothing from a directory that others may write, or that is a link', () => {
    const open = join(root, 'open');
    loadInChild(bundle, open, 'save');
    chmodSync(open, 0o777);
    const fromOpen = loadInChild(bundle, open, 'call');
    expect(fromOpen.status).toBe('unsafe-dir');
    expect(fromOpen.cacheFile).toBeNull();
    expect(fromOpen.marker).toBe('first');

    const target = join(root, 'target');
    loadInChild(bundle, target, 'save');
    const link = join(root, 'link');
    symlinkSync(target, link);
    expect(loadInChild(bundle, link).status).toBe('unsafe-dir');
  });

  it('is off with no directory, and writes nothing then', () => {
    const loaded = loadWithCodeCache(bundle, { dir: null });
    expect(loaded.status).toBe('off');
    loaded.save();
    expect(loaded.cacheFile).toBeNull();
    expect(loaded.exports.marker).toBe('first');
  });
});

describe('codeCacheDir', () => {
  it('is EKAF_CODE_CACHE_DIR, else a directory of this user under the temporary directory', () => {
    expect(codeCacheDir({ EKAF_CODE_CACHE_DIR: '/some/where' })).toBe('/some/where');
    expect(codeCacheDir({})).toBe(join(tmpdir(), `ekaf-code-cache-${process.getuid?.() ?? 'user'}`));
  });

  it('is off with EKAF_CODE_CACHE=0 or Node’s NODE_DISABLE_COMPILE_CACHE', () => {
    expect(codeCacheDir({ EKAF_CODE_CACHE: '0', EKAF_CODE_CACHE_DIR: '/x' })).toBeNull();
    expect(codeCacheDir({ NODE_DISABLE_COMPILE_CACHE: '1' })).toBeNull();
  });
});
