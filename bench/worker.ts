// Entry point of one measured run, in its own process: `node --import tsx bench/worker.ts
// <module> <fn> <params-json>` runs `workers[fn](params, cluster)` of bench/scenarios/<module>.ts
// and sends its metrics to the orchestrator (bench/run.ts) over IPC. Started by lib/proc.ts.
import type { CommandAnswer, Metrics, WorkerMessage } from './lib/proc.js';

export type ClusterCommand = (line: string) => Promise<string>;
export type WorkerFn = (params: never, cluster: ClusterCommand) => Promise<Metrics>;

const [module, fn, json] = process.argv.slice(2);
const send = (message: WorkerMessage): Promise<void> =>
  new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else
      process.send(message, undefined, {}, () => {
        resolve();
      });
  });

let nextId = 0;
const waiting = new Map<number, { resolve: (text: string) => void; reject: (e: Error) => void }>();
process.on('message', (message: CommandAnswer) => {
  const w = waiting.get(message.id);
  waiting.delete(message.id);
  if (message.ok) w?.resolve(message.text);
  else w?.reject(new Error(message.text));
});
const cluster: ClusterCommand = (line) =>
  new Promise((resolve, reject) => {
    const id = nextId++;
    waiting.set(id, { resolve, reject });
    void send({ type: 'command', id, line });
  });

try {
  if (module === undefined || fn === undefined || json === undefined)
    throw new Error('usage: worker.ts <module> <fn> <json>');
  const mod = (await import(`./scenarios/${module}.ts`)) as { workers: Record<string, WorkerFn> };
  const run = mod.workers[fn];
  if (run === undefined) throw new Error(`no worker ${fn} in ${module}`);
  const metrics = await run(JSON.parse(json) as never, cluster);
  await send({ type: 'result', metrics });
} catch (error) {
  await send({ type: 'error', message: (error as Error).stack ?? String(error) });
}
// Leftover sockets or timers of a client must not keep the run alive.
process.exit(0);
