// The Java producer as a contestant: test/kafka/java/ProducerBench.java (compiled against the
// cluster version's kafka-clients by test/kafka/java-programs.ts on first use), one JVM per run
// with the flags Kafka's own scripts give its tools (both JIT tiers, G1: CLIENT_BENCH_JVM_FLAGS).
import { javaProgramsClasspath } from '../../test/kafka/java-programs.js';
import { CLIENT_BENCH_JVM_FLAGS, runKafkaTool, type KafkaVersion } from '../../test/kafka/kafka-jvm.js';
import { parseProducerRun, type ProducerRun, type ProducerRunParams } from './producer-run.js';

export async function runJavaProducer(
  version: KafkaVersion,
  p: ProducerRunParams,
  timeoutMs = 300_000,
): Promise<ProducerRun> {
  const classes = await javaProgramsClasspath(version);
  const args = ['--bootstrap', p.bootstrap, '--topic', p.topic, '--file', p.file];
  args.push('--records', String(p.records), '--warmup', String(p.warmup));
  if (p.rate > 0) args.push('--rate', String(p.rate));
  const { stdout } = await runKafkaTool(version, 'ProducerBench', args, {
    classpathPrefix: [classes],
    jvmFlags: CLIENT_BENCH_JVM_FLAGS,
    timeoutMs,
  });
  return parseProducerRun(stdout.toString(), 'ProducerBench (Java)');
}
