#!/usr/bin/env node
// The `ekaf` executable: package.json's bin (dist/src/cli.js), `npx tsx src/cli.ts` from a
// checkout, and each worker of `ekaf serve --workers N` (cluster.fork starts this file again).
// The commands are in src/cli/; only this file runs one, so that importing them starts nothing.
import { main } from './cli/main.js';

void main(process.argv.slice(2)).then((code) => {
  process.exit(code);
});
