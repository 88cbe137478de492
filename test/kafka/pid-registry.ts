// Which Kafka JVMs this harness started, on disk, so that none outlives its test run.
//
// A test process that crashes (or is SIGKILLed by a timeout) cannot stop its JVMs: they are
// separate processes and keep their ports and 512 MB heaps. Each JVM therefore gets a file
// .cache/kafka/pids/<pid>.json naming the test process that owns it. Before starting a cluster,
// reapOrphans() kills every registered JVM whose owner is gone, after checking that the pid
// still is a java process carrying our mark (a pid can be reused by an unrelated process).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HARNESS_MARK, KAFKA_CACHE } from './kafka-paths.js';

const PID_DIR = join(KAFKA_CACHE, 'pids');

interface PidEntry {
  pid: number;
  /** The test process that started it. */
  owner: number;
  what: string;
  startedAt: string;
}

export function registerPid(pid: number, what: string): void {
  mkdirSync(PID_DIR, { recursive: true });
  const entry: PidEntry = { pid, owner: process.pid, what, startedAt: new Date().toISOString() };
  writeFileSync(join(PID_DIR, `${pid}.json`), JSON.stringify(entry));
}

export function unregisterPid(pid: number): void {
  rmSync(join(PID_DIR, `${pid}.json`), { force: true });
}

/** Whether pid is a live java process started by this harness (by its command line). */
export function isOurJvm(pid: number): boolean {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return false; // gone
  }
  const argv = cmdline.split('\0');
  return (argv[0] ?? '').endsWith('java') && argv.some((arg) => arg.startsWith(HARNESS_MARK));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills the registered JVMs whose owning test process has exited. Returns what it killed. */
export function reapOrphans(): string[] {
  let files: string[];
  try {
    files = readdirSync(PID_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const killed: string[] = [];
  for (const file of files) {
    let entry: PidEntry;
    try {
      entry = JSON.parse(readFileSync(join(PID_DIR, file), 'utf8')) as PidEntry;
    } catch {
      continue; // being written by a concurrent run
    }
    if (entry.owner !== process.pid && isAlive(entry.owner)) continue; // someone else's, still running
    if (isOurJvm(entry.pid)) {
      try {
        process.kill(entry.pid, 'SIGKILL');
        killed.push(`${entry.what} (pid ${entry.pid}, started ${entry.startedAt})`);
      } catch {
        // exited meanwhile
      }
    }
    if (entry.owner !== process.pid) unregisterPid(entry.pid);
  }
  return killed;
}

/** Every pid of ours that is still a live harness JVM, from this process's registrations. */
export function liveJvmsOwnedHere(): number[] {
  let files: string[];
  try {
    files = readdirSync(PID_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files
    .map((f) => {
      try {
        return JSON.parse(readFileSync(join(PID_DIR, f), 'utf8')) as PidEntry;
      } catch {
        return undefined;
      }
    })
    .filter((e): e is PidEntry => e !== undefined && e.owner === process.pid && isOurJvm(e.pid))
    .map((e) => e.pid);
}
