#!/usr/bin/env node
// The `ekaf` executable from the compiled sources: `npx tsx src/cli.ts` from a checkout,
// dist/src/cli.js, and each worker of `ekaf serve --workers N` started from them (cluster.fork
// starts this file again). An installed package runs the bundle instead (package.json "bin":
// dist/bin/ekaf.js, from src/cli/bin.ts). The commands are in src/cli/; only this file runs one,
// so that importing them starts nothing.
import { IMPORTED_COMMANDS } from './cli/commands.js';
import { main } from './cli/main.js';

void main(process.argv.slice(2), IMPORTED_COMMANDS).then((code) => {
  process.exit(code);
});
