// Reading a V8 .cpuprofile (node --cpu-prof): self time per function, for the profile scripts
// (bench/profile.ts on the mock cluster, bench/profile-kafka.ts on Apache Kafka).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT_DIR } from './proc.js';
import { markdownTable } from './table.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The one .cpuprofile that `node --cpu-prof --cpu-prof-dir <dir>` wrote. */
export function profileIn(dir: string): string {
  const name = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (name === undefined) throw new Error(`no .cpuprofile in ${dir}`);
  return join(dir, name);
}

/**
 * The `top` functions by self time, as a markdown table, and the sampled total in seconds.
 * Functions are named "name file:line" (repository-relative for our files).
 */
export function topSelfTime(file: string, top: number): { table: string; sampledSeconds: number } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (node === undefined) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const where =
      url === ''
        ? ''
        : ` ${url.startsWith('file://') ? relative(ROOT_DIR, new URL(url).pathname) : url}:${lineNumber + 1}`;
    const key = `${functionName === '' ? '(anonymous)' : functionName}${where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const table = markdownTable(
    ['#', 'Self time', '%', 'Function (file:line)'],
    rows.map(([key, us], i) => [
      String(i + 1),
      `${(us / 1000).toFixed(0)} ms`,
      `${((100 * us) / total).toFixed(1)}%`,
      key,
    ]),
  );
  return { table, sampledSeconds: total / 1e6 };
}
