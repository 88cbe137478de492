// librdkafka as a contestant: bench/c/rdkafka-bench.c against the system's librdkafka (Debian's
// librdkafka-dev, the library kcat uses), compiled with gcc -O2 on first use and kept per source
// hash in .cache/bench/.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BENCH_DIR, ROOT_DIR, timeCommand } from './proc.js';
import { parseProducerRun, type ProducerRun, type ProducerRunParams } from './producer-run.js';

const SOURCE = join(BENCH_DIR, 'c', 'rdkafka-bench.c');

let built: Promise<string> | undefined;

/** The path of the compiled driver, compiling it when its source changed. */
export function rdkafkaBenchBinary(): Promise<string> {
  built ??= (async () => {
    const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 12);
    const dir = join(ROOT_DIR, '.cache', 'bench');
    const binary = join(dir, `rdkafka-bench-${hash}`);
    if (existsSync(binary)) return binary;
    mkdirSync(dir, { recursive: true });
    const tmp = `${binary}.${process.pid}.tmp`;
    const args = ['-O2', '-Wall', '-Wextra', '-o', tmp, SOURCE, '-lrdkafka', '-lpthread', '-lm'];
    try {
      await promisify(execFile)('gcc', args);
    } catch (error) {
      throw new Error(
        `gcc ${args.join(' ')} failed (it needs gcc and librdkafka-dev): ${(error as Error).message}`,
      );
    }
    renameSync(tmp, binary);
    return binary;
  })();
  return built;
}

/** `config`: librdkafka properties over the driver's (e.g. { 'batch.size': '16384' }). */
export async function runRdkafkaProducer(
  p: ProducerRunParams,
  config: Record<string, string> = {},
): Promise<ProducerRun> {
  const binary = await rdkafkaBenchBinary();
  const args = [p.bootstrap, p.topic, p.file, String(p.records), String(p.warmup), String(p.rate)];
  for (const [k, v] of Object.entries(config)) args.push(`${k}=${v}`);
  const r = await timeCommand(binary, args);
  if (r.code !== 0) throw new Error(`rdkafka-bench ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return parseProducerRun(r.stdout, 'rdkafka-bench');
}
