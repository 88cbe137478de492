// CPU time (user + system) as the kernel accounts it: the figure that survives a noisy 2-core
// machine, where wall-clock throughput depends on what else runs. Every reading covers the whole
// process, every thread (Node's GC and libuv threads, a JVM's sender, GC and JIT threads,
// librdkafka's broker threads).
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Metrics } from './proc.js';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks (`getconf CLK_TCK`). */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds a running process has used since it started; 0 when it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": after the last ')', utime and stime are fields 12 and 13.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Sum of processCpuSeconds over several processes (e.g. the brokers of a cluster). */
export function totalCpuSeconds(pids: readonly (number | undefined)[]): number {
  return pids.reduce<number>((sum, pid) => sum + (pid === undefined ? 0 : processCpuSeconds(pid)), 0);
}

/** This Node process's CPU seconds since it started (for a worker: from spawn until now). */
export function selfCpuSeconds(): number {
  const u = process.resourceUsage();
  return (u.userCPUTime + u.systemCPUTime) / 1e6;
}

/** This Node process's CPU seconds since `start` (a process.cpuUsage() reading). */
export function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

/** CPU seconds per million records. */
export function perMillion(cpuSeconds: number, records: number): number {
  return (cpuSeconds / records) * 1e6;
}

/** The metric of a throughput run's measured phase: { cpuPerM }. */
export function cpuMetric(cpuSeconds: number, records: number): Metrics {
  return { cpuPerM: perMillion(cpuSeconds, records) };
}

export const CPU_PER_M_METRIC = { key: 'cpuPerM', label: 'CPU s/M rec', higherIsBetter: false } as const;

/**
 * Samples the machine's 1-minute load average (/proc/loadavg) every 10 s until stop(): on a
 * 2-core machine shared with other work, a load well above 2 means every timing (throughput,
 * latency) waited for a core, and only the CPU figures still compare.
 */
export function sampleLoad(): { stop(): string } {
  const samples: number[] = [];
  const read = (): void => {
    try {
      samples.push(Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]));
    } catch {
      // not Linux: no figure
    }
  };
  read();
  const timer = setInterval(read, 10_000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      read();
      if (samples.length === 0) return 'load average unknown';
      const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
      return `load average ${mean.toFixed(1)} (max ${Math.max(...samples).toFixed(1)}) on ${cpus().length} cores`;
    },
  };
}
