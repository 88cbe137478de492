/**
 * `npm run build`'s last step: the `ekaf` command as an installed package runs it
 * (package.json "bin": dist/bin/ekaf.js), ekaf's own modules bundled into a few files.
 *
 * Why: Node loads each ES module with a resolution, a stat and a read of its own; the compiled
 * CLI is about a hundred of them, and loading them was most of `ekaf produce`'s start-up (one
 * record to the dev cluster, Node 24: 0.17 s from spawn to exit, 0.13 s bundled; kcat: 0.01 s).
 * Packages stay outside the bundle (`packages: 'external'`): they are resolved from
 * node_modules as before, the optional native accelerators included. Each command stays in a
 * chunk of its own, loaded when it runs (`splitting`), as src/cli/main.ts intends.
 *
 * The visualizer's built assets are copied next to the bundle: the gateway looks for them
 * beside the file its code runs from (src/gateway/visualizer/assets.ts).
 */
import { cpSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUILT_DIR } from '../src/gateway/visualizer/assets.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(ROOT, 'dist', 'bin');

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: { ekaf: join(ROOT, 'dist', 'src', 'cli.js') },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  outdir,
  chunkNames: '[name]-[hash]',
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});
cpSync(join(ROOT, 'dist', 'src', 'gateway', 'visualizer', BUILT_DIR), join(outdir, BUILT_DIR), {
  recursive: true,
});
const files = Object.keys(result.metafile.outputs).filter((file) => file.endsWith('.js'));
console.log(`cli: ${relative(ROOT, join(outdir, 'ekaf.js'))} (${files.length} files)`);
