#!/usr/bin/env node
// The `ekaf` executable an installed package runs (package.json "bin": dist/bin/ekaf.js, bundled
// from this file by scripts/bundle-cli.ts). Each command is a CommonJS bundle beside it
// (produce.cjs, serve.cjs, dev-cluster.cjs, serve-workers.cjs), loaded through V8's code cache
// (code-cache.ts), and the cache written once the command has run and succeeded. src/cli.ts is the same
// executable from the compiled sources.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadWithCodeCache, type CachedBundle } from './code-cache.js';
import type * as DevCluster from './dev-cluster.js';
import { OK } from './exit-codes.js';
import { main, type CommandModules } from './main.js';
import type * as Produce from './produce.js';
import type * as Serve from './serve.js';
import type * as ServeWorkers from './serve-workers.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const loaded: CachedBundle[] = [];

/** The bundle `name`.cjs's exports (each bundle is one module of src/cli/ and what it imports). */
function bundle(name: string): unknown {
  const loadedBundle = loadWithCodeCache(join(HERE, `${name}.cjs`));
  loaded.push(loadedBundle);
  return loadedBundle.exports;
}

const BUNDLED_COMMANDS: CommandModules = {
  commands: {
    serve: () => {
      const { serveCommand, SERVE_HELP } = bundle('serve') as typeof Serve;
      return Promise.resolve({ run: serveCommand, help: SERVE_HELP });
    },
    produce: () => {
      const { produceCommand, PRODUCE_HELP } = bundle('produce') as typeof Produce;
      return Promise.resolve({ run: produceCommand, help: PRODUCE_HELP });
    },
    'dev-cluster': () => {
      const { devClusterCommand, DEV_CLUSTER_HELP } = bundle('dev-cluster') as typeof DevCluster;
      return Promise.resolve({ run: devClusterCommand, help: DEV_CLUSTER_HELP });
    },
  },
  serveWorker: () => Promise.resolve((bundle('serve-workers') as typeof ServeWorkers).serveWorker),
};

const argv = process.argv.slice(2);
/** Only a command that ran and succeeded makes a cache worth keeping: help runs next to nothing. */
const ranFully = (code: number): boolean =>
  code === OK && !argv.some((arg) => arg === '-h' || arg === '--help' || arg === 'help');

void main(argv, BUNDLED_COMMANDS).then((code) => {
  if (ranFully(code)) for (const ran of loaded) ran.save();
  process.exit(code);
});
