// Child processes: every measured run happens in a fresh process, so that heap, RSS and JIT state
// do not leak between ekaf and its peers (or between rounds).
import { fork, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchNode } from './node-binaries.js';
import { nowMs } from './stats.js';

export type Metrics = Record<string, number>;

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT_DIR = join(BENCH_DIR, '..');

/** Messages between bench/worker.ts and the orchestrator. */
export type WorkerMessage =
  | { type: 'result'; metrics: Metrics }
  | { type: 'error'; message: string }
  | { type: 'command'; id: number; line: string };
export interface CommandAnswer {
  type: 'answer';
  id: number;
  ok: boolean;
  text: string;
}

export interface WorkerOptions {
  /** Extra node flags (e.g. --expose-gc, --cpu-prof). tsx is always loaded. */
  execArgv?: string[];
  /** Variables added to the worker's environment (e.g. EKAF_PURE=1 for ekaf's pure path). */
  env?: Record<string, string>;
  /** Runs a dev-cluster command line for the worker (e.g. "broker_down -1"). */
  onCommand?: (line: string) => Promise<string>;
  timeoutMs?: number;
}

/**
 * Runs `workers[fn](params)` of bench/scenarios/<module>.ts in a new node process (with tsx, on
 * the bench's Node: node-binaries.ts) and resolves with the metrics it reports over IPC.
 */
export function runWorker(
  module: string,
  fn: string,
  params: unknown,
  opts: WorkerOptions = {},
): Promise<Metrics> {
  const child = fork(join(BENCH_DIR, 'worker.ts'), [module, fn, JSON.stringify(params)], {
    cwd: ROOT_DIR,
    execPath: benchNode().path,
    execArgv: ['--import', 'tsx', ...(opts.execArgv ?? [])],
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  return new Promise<Metrics>((resolve, reject) => {
    let result: Metrics | undefined;
    let failure: string | undefined;
    const timer = setTimeout(() => {
      failure = `timed out after ${opts.timeoutMs} ms`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 600_000);
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'result') result = message.metrics;
      else if (message.type === 'error') failure = message.message;
      else {
        const answer = (ok: boolean, text: string): void => {
          child.send({ type: 'answer', id: message.id, ok, text } satisfies CommandAnswer);
        };
        const run = opts.onCommand?.(message.line) ?? Promise.reject(new Error('no cluster commands here'));
        run.then(
          (text) => {
            answer(true, text);
          },
          (error: unknown) => {
            answer(false, (error as Error).message);
          },
        );
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (result !== undefined && failure === undefined) resolve(result);
      else
        reject(
          new Error(
            `worker ${module}.${fn} failed (${signal ?? `exit ${code}`}): ${failure ?? 'no result'}\n${stderr.trim()}`,
          ),
        );
    });
  });
}

export interface CommandResult {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
  /** With `cpu: true`: the command's user + system CPU seconds, spawn to exit (/usr/bin/time). */
  cpuSeconds?: number;
}

/**
 * Runs a command to completion; `ms` is its wall-clock time from spawn to exit. With `cpu`, the
 * command runs under /usr/bin/time (GNU time, 10 ms resolution), which reports the CPU of the
 * whole process, every thread, from spawn to exit: what Node cannot read about a child.
 */
export function timeCommand(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cpu?: boolean } = {},
): Promise<CommandResult> {
  const cpuFile =
    opts.cpu === true ? join(tmpdir(), `ekaf-bench-time-${process.pid}-${timeSeq++}`) : undefined;
  const [file, argv] =
    cpuFile === undefined ? [cmd, args] : ['/usr/bin/time', ['-f', '%U %S', '-o', cpuFile, cmd, ...args]];
  return new Promise((resolve, reject) => {
    const started = nowMs();
    const child = spawn(file, argv, {
      cwd: ROOT_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout = (stdout + chunk.toString()).slice(-4000)));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = nowMs() - started;
      if (cpuFile === undefined) {
        resolve({ ms, code, stdout, stderr });
        return;
      }
      // GNU time writes "Command exited with non-zero status N" first when the command failed.
      const times = readFileSync(cpuFile, 'utf8').trim().split('\n').pop() ?? '';
      rmSync(cpuFile, { force: true });
      const [user, system] = times.split(' ').map(Number);
      resolve({ ms, code, stdout, stderr, cpuSeconds: (user ?? NaN) + (system ?? NaN) });
    });
  });
}
let timeSeq = 0;

/** Resident set size of a process in bytes (0 if it is gone). */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

/** Pids of this process's children whose command name starts with `prefix` (from /proc). */
export function childPids(prefix: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may contain spaces, so split after the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && comm.startsWith(prefix)) pids.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}
