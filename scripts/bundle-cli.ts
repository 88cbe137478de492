/**
 * `npm run build`'s last step: the `ekaf` command as an installed package runs it
 * (package.json "bin": dist/bin/ekaf.js).
 *
 * - dist/bin/ekaf.js: src/cli/bin.ts, which picks the command (src/cli/main.ts) and loads it.
 * - dist/bin/<command>.cjs: each command's module and all it imports, one CommonJS file each,
 *   which bin.ts runs through V8's code cache (src/cli/code-cache.ts says why: most of
 *   `ekaf produce`'s start-up was compiling). Only what a command needs is loaded: `produce`
 *   does not load the gateway.
 *
 * Why one file per command: Node loads each ES module with a resolution, a stat and a read of
 * its own; the compiled CLI is about a hundred of them (one record to the dev cluster, Node 24:
 * 0.17 s from spawn to exit, 0.13 s bundled, 0.09 s with the code cache; kcat: 0.01 s).
 * Pure JavaScript packages (xstate, long, eventemitter3, prom-client, dagre) are bundled too,
 * so that the code cache holds them; the optional native accelerators, the zstd WebAssembly
 * package and esbuild are required from node_modules when used, as by the library.
 *
 * The visualizer's built assets are copied next to the bundles: the gateway looks for them
 * beside the file its code runs from (src/gateway/visualizer/assets.ts).
 */
import { cpSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUILT_DIR } from '../src/gateway/visualizer/assets.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(ROOT, 'dist', 'bin');
const compiled = (file: string): string => join(ROOT, 'dist', 'src', 'cli', file);

/** Loaded from node_modules at run time: native or optional, or a tool with a binary. */
const NOT_BUNDLED = ['@node-rs/crc32', 'snappy', 'lz4-napi', '@bokuweb/zstd-wasm', 'esbuild'];

rmSync(outdir, { recursive: true, force: true });
const shared = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  outdir,
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
} as const;
const entry = await build({
  ...shared,
  entryPoints: { ekaf: compiled('bin.js') },
  format: 'esm',
  packages: 'external',
});
const commands = await build({
  ...shared,
  entryPoints: {
    produce: compiled('produce.js'),
    serve: compiled('serve.js'),
    'dev-cluster': compiled('dev-cluster.js'),
    'serve-workers': compiled('serve-workers.js'),
  },
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  external: NOT_BUNDLED,
  // The sources are ES modules: import.meta as a CommonJS file has it, and strict mode (the
  // directive must come first, before the banner's lines).
  define: { 'import.meta.url': '__import_meta_url', 'import.meta.resolve': '__import_meta_resolve' },
  banner: {
    js: [
      '"use strict";',
      'const __import_meta_url = require("node:url").pathToFileURL(__filename).href;',
      'const __import_meta_resolve = (specifier) => require("node:url").pathToFileURL(require.resolve(specifier)).href;',
    ].join('\n'),
  },
});
cpSync(join(ROOT, 'dist', 'src', 'gateway', 'visualizer', BUILT_DIR), join(outdir, BUILT_DIR), {
  recursive: true,
});
const files = [entry, commands].flatMap((result) =>
  Object.keys(result.metafile.outputs).filter((file) => /\.c?js$/.test(file)),
);
console.log(`cli: ${relative(ROOT, join(outdir, 'ekaf.js'))} (${files.length} files)`);
