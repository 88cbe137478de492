// What a heap grew by, by constructor: `npx tsx bench/heap-diff.ts <before> <after> [--per N]
// [--top 30]`. Reads two V8 heap snapshots of the same process (v8.writeHeapSnapshot, or
// `node --heapsnapshot-signal`), takes the objects of the second that the first did not have
// (V8 keeps an object's id across snapshots), and sums their own sizes by kind and constructor
// name, largest first; `--per N` divides by N (bytes per partition worker, say). Scenario 13
// writes such a pair with EKAF_HEAP_SNAPSHOTS=<dir> (bench/scenarios/scaling.ts, firstProduce).
//
// Self sizes, not retained sizes: an object counts for its own fields, and what it points to
// appears under its own name (a Map's entries under "(object elements)" or "system / Map…").
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { markdownTable } from './lib/table.js';

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

interface Nodes {
  ids: Set<number>;
  each(visit: (id: number, kind: string, name: string, size: number) => void): void;
}

function readNodes(path: string): Nodes {
  const heap = JSON.parse(readFileSync(path, 'utf8')) as HeapSnapshot;
  const fields = heap.snapshot.meta.node_fields;
  const width = fields.length;
  const [typeAt, nameAt, idAt, sizeAt] = ['type', 'name', 'id', 'self_size'].map((f) => fields.indexOf(f));
  const types = heap.snapshot.meta.node_types[0];
  const ids = new Set<number>();
  for (let i = 0; i < heap.nodes.length; i += width) ids.add(heap.nodes[i + (idAt as number)] as number);
  return {
    ids,
    each(visit) {
      for (let i = 0; i < heap.nodes.length; i += width) {
        visit(
          heap.nodes[i + (idAt as number)] as number,
          types[heap.nodes[i + (typeAt as number)] as number] as string,
          heap.strings[heap.nodes[i + (nameAt as number)] as number] as string,
          heap.nodes[i + (sizeAt as number)] as number,
        );
      }
    },
  };
}

/** Strings and numbers group by kind (their "name" is their value); objects by constructor. */
function groupOf(kind: string, name: string): string {
  if (kind === 'string' || kind === 'concatenated string' || kind === 'sliced string' || kind === 'number')
    return kind;
  return `${kind}: ${name.length > 60 ? `${name.slice(0, 57)}...` : name}`;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { per: { type: 'string', default: '1' }, top: { type: 'string', default: '30' } },
});
const [beforePath, afterPath] = positionals;
if (beforePath === undefined || afterPath === undefined)
  throw new Error('usage: heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [--per N] [--top N]');
const per = Number(values.per);
const before = readNodes(beforePath).ids;
const groups = new Map<string, { count: number; bytes: number }>();
let total = 0;
readNodes(afterPath).each((id, kind, name, size) => {
  if (before.has(id)) return;
  const key = groupOf(kind, name);
  const group = groups.get(key) ?? { count: 0, bytes: 0 };
  group.count++;
  group.bytes += size;
  groups.set(key, group);
  total += size;
});
const rows = [...groups.entries()]
  .sort((a, b) => b[1].bytes - a[1].bytes)
  .slice(0, Number(values.top))
  .map(([key, g]) => [
    (g.bytes / per).toFixed(1),
    (g.count / per).toFixed(2),
    `${((100 * g.bytes) / total).toFixed(1)}%`,
    key,
  ]);
console.log(`new objects: ${(total / per).toFixed(1)} B${per === 1 ? '' : ` per ${per}th`}\n`);
console.log(
  markdownTable([`B${per === 1 ? '' : ' / N'}`, `count${per === 1 ? '' : ' / N'}`, '%', 'kind: name'], rows),
);
