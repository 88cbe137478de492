// Our own small Java programs (test/kafka/java/*.java: the transactional producer, the group
// offsets reader), compiled with javac against a version's jars from .cache/kafka (see
// scripts/kafka-jars.sh) the first time a test needs them, and kept per source hash in
// .cache/kafka/java/<version>-<hash>. javac comes with the JDK (openjdk-17-jdk-headless).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaClasspath, type KafkaVersion } from './kafka-jvm.js';
import { KAFKA_CACHE, REPO_ROOT } from './kafka-paths.js';

export const JAVA_SOURCE_DIR = join(REPO_ROOT, 'test', 'kafka', 'java');

const compiling = new Map<KafkaVersion, Promise<string>>();

/**
 * The directory of the compiled programs for `version` (to put first on the classpath),
 * compiling them when their sources changed. Concurrent callers share one javac run; concurrent
 * processes each compile into their own directory and the first rename wins.
 */
export function javaProgramsClasspath(version: KafkaVersion): Promise<string> {
  let p = compiling.get(version);
  if (p === undefined) {
    p = compile(version);
    compiling.set(version, p);
    p.catch(() => compiling.delete(version));
  }
  return p;
}

async function compile(version: KafkaVersion): Promise<string> {
  const sources = readdirSync(JAVA_SOURCE_DIR)
    .filter((f) => f.endsWith('.java'))
    .sort();
  const hash = createHash('sha256');
  for (const f of sources)
    hash
      .update(f)
      .update('\0')
      .update(readFileSync(join(JAVA_SOURCE_DIR, f)));
  const dir = join(KAFKA_CACHE, 'java', `${version}-${hash.digest('hex').slice(0, 12)}`);
  if (existsSync(join(dir, '.complete'))) return dir;

  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const args = ['--release', '17', '-nowarn', '-cp', kafkaClasspath(version), '-d', tmp];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('javac', [...args, ...sources.map((f) => join(JAVA_SOURCE_DIR, f))], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', (err) => {
      reject(
        new Error(
          `cannot run javac (it comes with the JDK: apt-get install openjdk-17-jdk-headless, ` +
            `or run \`bash scripts/kafka-jars.sh\` as root): ${err.message}`,
        ),
      );
    });
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`javac failed for Kafka ${version}'s jars (exit ${code}):\n${output}`));
    });
  });
  writeFileSync(join(tmp, '.complete'), sources.join('\n'));
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process made it meanwhile
  }
  return dir;
}
