// What a single-threaded Node producer cannot do faster than: the least work of `ekaf produce`
// (scenario 2) and of scenario 1b, with no Kafka protocol, no acknowledgements, no partitioning,
// no bookkeeping, timed beside `kcat -P` on the bundled dev cluster.
//
//   npx tsx bench/floor.ts [--records N] [--value-bytes B] [--rounds R] [--node 24]
//
// The floor reads the scenario's file of `key:value` lines in 256 KiB chunks, finds each line's
// end and its ':', writes the record as Kafka encodes it (length, attributes, timestamp and offset
// deltas, key and value with their lengths, no headers) into 16 KiB batch buffers, computes each
// batch's CRC-32C (the native @node-rs/crc32, the fastest ekaf has) and writes the batches to a
// TCP socket whose other end (a child process) reads and discards them. It is a lower bound, not
// a producer: whatever a producer adds (records a caller can hold, partitioning, idempotence,
// requests and their answers, delivery reports) only adds to it. Runs on Node 24 (fetched as the
// bench fetches it: lib/node-binaries.ts), as the bench runs ekaf.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startDevCluster } from '../src/dev-cluster.js';
import { keyedFile } from './lib/data.js';
import { kcatProduce } from './lib/kcat.js';
import { benchNode, nodeBinary, setBenchNode } from './lib/node-binaries.js';
import { timeCommand } from './lib/proc.js';
import { median } from './lib/stats.js';

/** The sink: a child process that accepts one connection, reads until it ends, then exits. */
const SINK = `
const server = require('node:net').createServer((socket) => {
  socket.on('data', () => {});
  socket.on('end', () => { server.close(); });
});
server.listen(0, '127.0.0.1', () => { process.stdout.write(server.address().port + '\\n'); });
`;

/** The floor itself, run as its own process: `node -e FLOOR <file> <port>`. */
const FLOOR = `
const { createReadStream } = require('node:fs');
const { connect } = require('node:net');
const { crc32c } = require(${JSON.stringify(require_('@node-rs/crc32'))});
const [file, port] = process.argv.slice(1);
const BATCH = 16 * 1024;
(async () => {
  const socket = connect(Number(port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const putVarint = (buf, at, value) => {
    let z = (value << 1) ^ (value >> 31);
    while (z & ~0x7f) { buf[at++] = (z & 0x7f) | 0x80; z >>>= 7; }
    buf[at++] = z;
    return at;
  };
  let batch = Buffer.allocUnsafe(BATCH + 4096), at = 61, count = 0, records = 0;
  const seal = () => {
    batch.writeUInt32BE(crc32c(batch.subarray(21, at)), 17);
    socket.write(batch.subarray(0, at));
    batch = Buffer.allocUnsafe(BATCH + 4096); at = 61; count = 0;
  };
  let cut = null;
  for await (let chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    if (cut !== null) { chunk = Buffer.concat([cut, chunk]); cut = null; }
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(10, start);
      if (end === -1) { if (start < chunk.length) cut = chunk.subarray(start); break; }
      let colon = start;
      while (colon < end && chunk[colon] !== 58) colon++;
      const keyBytes = colon - start, valueBytes = end - colon - 1;
      if (at + keyBytes + valueBytes + 32 > BATCH) seal();
      at = putVarint(batch, at, 8 + keyBytes + valueBytes);
      batch[at++] = 0; batch[at++] = 0;
      at = putVarint(batch, at, count++);
      at = putVarint(batch, at, keyBytes);
      chunk.copy(batch, at, start, colon); at += keyBytes;
      at = putVarint(batch, at, valueBytes);
      chunk.copy(batch, at, colon + 1, end); at += valueBytes;
      batch[at++] = 0;
      records++;
      start = end + 1;
    }
  }
  seal();
  await new Promise((resolve) => socket.end(resolve));
  process.stderr.write('floor: ' + records + ' records\\n');
})();
`;

function require_(name: string): string {
  return fileURLToPath(import.meta.resolve(name));
}

async function floorRun(file: string): Promise<number> {
  const node = benchNode().path;
  const sink = spawn(node, ['-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => {
    sink.stdout.once('data', (d: Buffer) => {
      resolve(d.toString().trim());
    });
  });
  const r = await timeCommand(node, ['-e', FLOOR, file, port]);
  sink.kill();
  if (r.code !== 0) throw new Error(`floor exited ${r.code}: ${r.stderr}`);
  return r.ms;
}

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    'value-bytes': { type: 'string', default: '100' },
    rounds: { type: 'string', default: '5' },
    node: { type: 'string', default: '24' },
  },
});
setBenchNode(nodeBinary(Number(values.node)));
const records = Number(values.records);
const file = keyedFile(records, Number(values['value-bytes']));
const cluster = await startDevCluster({ brokers: 3 });
try {
  const floor: number[] = [];
  const kcat: number[] = [];
  for (let round = 1; round <= Number(values.rounds); round++) {
    floor.push(await floorRun(file));
    const topic = `floor-kcat-${round}`;
    await cluster.createTopic(topic, 6);
    kcat.push(((await kcatProduce(cluster.bootstrap, topic, file, records)).seconds ?? NaN) * 1000);
    console.log(
      `round ${round}: floor ${floor.at(-1)?.toFixed(0)} ms, kcat -P ${kcat.at(-1)?.toFixed(0)} ms`,
    );
  }
  const f = median(floor);
  const k = median(kcat);
  console.log(
    `${records.toLocaleString('en-US')} lines of ${values['value-bytes']} B, ${benchNode().version}: ` +
      `floor ${f.toFixed(0)} ms, kcat -P ${k.toFixed(0)} ms (medians): ` +
      `the floor is ${(k / f).toFixed(2)}× kcat's speed`,
  );
} finally {
  await cluster.stop();
}
