// The bundled `ekaf` command loads each of its commands (a CommonJS bundle, scripts/bundle-cli.ts)
// through V8's code cache, written after the command has run.
//
// Why: most of `ekaf produce`'s start-up was V8 compiling ekaf's functions, each the first time
// it is called (lazy compilation): one record to the dev cluster, Node 24, 120 ms from spawn to
// exit against 36 ms for `node -e 0`. Node's own compile cache (module.enableCompileCache) keeps
// only what is compiled when a module is loaded, not the functions that run after, and saved 5 ms.
// A cache made once the command has run holds the bytecode of everything it ran: 88 ms.
//
// The cache is a file per bundle text (its CRC-32), Node version and architecture, in a directory
// of this user's (EKAF_CODE_CACHE_DIR, else <tmpdir>/ekaf-code-cache-<uid>) that nobody else may
// write: V8 runs what the file holds. The name must tell bundles apart by their text: V8 checks a
// cache's version and flags but, of the source, only its length. A cache V8 refuses
// (`rejected`: other flags) leaves the bundle to compile as if there were none, and is written
// again. EKAF_CODE_CACHE=0 (or Node's NODE_DISABLE_COMPILE_CACHE=1) turns it off, and so does a
// Node without zlib.crc32 (before 20.15).
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Script, constants as vmConstants } from 'node:vm';
import * as zlib from 'node:zlib';

/** zlib.crc32 (Node 20.15+, 22.2+): native, 0.1 ms for a bundle; undefined before. */
const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** What became of the cache: used, made (none or rejected before), or why there is none. */
export type CodeCacheStatus = 'used' | 'none' | 'rejected' | 'off' | 'unsafe-dir';

export interface CachedBundle {
  /** The bundle's `module.exports`. */
  readonly exports: Record<string, unknown>;
  readonly status: CodeCacheStatus;
  /** The cache file, or null when the cache is off or its directory is unsafe. */
  readonly cacheFile: string | null;
  /**
   * Writes the cache if it was missing or rejected: call once the command has run, so that it
   * holds what ran. Never throws (a read-only or full disk only costs the next start-up).
   */
  save(): void;
}

export interface CodeCacheOptions {
  /** Where cache files go; null turns the cache off. Default: codeCacheDir(). */
  dir?: string | null;
}

/** The cache directory the environment asks for, or null when the cache is off. */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.EKAF_CODE_CACHE === '0' || (env.NODE_DISABLE_COMPILE_CACHE ?? '') !== '') return null;
  const chosen = env.EKAF_CODE_CACHE_DIR;
  if (chosen !== undefined && chosen !== '') return chosen;
  return join(tmpdir(), `ekaf-code-cache-${process.getuid?.() ?? 'user'}`);
}

/**
 * Runs the CommonJS bundle `file` as Node would require it (its own `require`, `module`,
 * `__filename`, `__dirname`), compiled with its code cache when there is a usable one.
 */
export function loadWithCodeCache(file: string, options: CodeCacheOptions = {}): CachedBundle {
  const dir = options.dir === undefined ? codeCacheDir() : options.dir;
  const bytes = readFileSync(file);
  const source = bytes.toString('utf8');
  let cacheFile: string | null = null;
  let status: CodeCacheStatus = 'off';
  let cachedData: Buffer | undefined;
  if (dir !== null && crc32 !== undefined) {
    if (ownedPrivateDir(dir)) {
      cacheFile = join(dir, cacheName(file, bytes, crc32));
      cachedData = readIfPresent(cacheFile);
      status = 'none';
    } else {
      status = 'unsafe-dir';
    }
  }
  // The wrapper opens on the bundle's first line, so that line numbers in stack traces hold.
  // A bundle keeps import() where the specifier is computed (an optional package): Node's loader.
  const mainLoader = (vmConstants as { USE_MAIN_CONTEXT_DEFAULT_LOADER?: number } | undefined)
    ?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cachedData === undefined ? {} : { cachedData }),
    ...(mainLoader === undefined ? {} : { importModuleDynamically: mainLoader }),
  });
  if (cachedData !== undefined) status = script.cachedDataRejected === true ? 'rejected' : 'used';
  const module = { exports: {} as Record<string, unknown> };
  const wrapper = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: unknown,
    filename: string,
    dirname: string,
  ) => void;
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  let saved = false;
  return {
    get exports() {
      return module.exports;
    },
    status,
    cacheFile,
    save() {
      if (saved || cacheFile === null || status === 'used') return;
      saved = true;
      writeAtomically(cacheFile, script.createCachedData());
    },
  };
}

/**
 * One file per bundle text, Node version and architecture. Not the file's size and time: npm
 * gives every installed file the same time, and two builds may have the same size.
 */
function cacheName(file: string, bytes: Buffer, crc: (data: Uint8Array) => number): string {
  const text = crc(bytes).toString(16).padStart(8, '0');
  return `${basename(file)}-${process.version}-${process.arch}-${text}-${bytes.length}.v8`;
}

/**
 * Whether `dir` is a directory of this user's that no one else can write (made so if missing):
 * a cache file is code V8 runs, so one that another user could have put there is not read.
 */
function ownedPrivateDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(dir);
    if (!stat.isDirectory()) return false;
    const uid = process.getuid?.();
    if (uid !== undefined && stat.uid !== uid) return false;
    return process.platform === 'win32' || (stat.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

function readIfPresent(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Written beside, then renamed: another process never reads half a file. */
function writeAtomically(file: string, data: Buffer): void {
  const partial = `${file}.${process.pid}.partial`;
  try {
    writeFileSync(partial, data, { mode: 0o600 });
    renameSync(partial, file);
  } catch {
    // Not written: the next start-up compiles as this one did.
  }
}
