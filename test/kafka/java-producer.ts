// The Java producer as the reference for placement: Kafka's console producer sends keyed records
// with the Java client's default partitioner (murmur2 of the key bytes, positive, modulo the
// partition count), so reading back where each key landed gives the partition the Java client
// picks. The interop tests compare that with ekaf's murmur2 partitioner.
import { kafkaClasses, runKafkaTool, type KafkaVersion } from './kafka-jvm.js';

/** Splits a stdin line into key and value; keys and values must not contain it, nor '\n'. */
const KEY_SEPARATOR = '\u001f';

export interface JavaProduceOptions {
  /** The Java client's version (default '4.4.0'). */
  version?: KafkaVersion;
  /** One value per key; default: the key itself. */
  values?: string[];
  /** Extra producer configs, e.g. { 'compression.type': 'lz4' }. acks=all is set. */
  producerConfig?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Sends one record per key (UTF-8) with Kafka's console producer, acks=all, and resolves once
 * the tool has flushed and exited. One JVM start (~2–3 s) for the whole batch.
 */
export async function produceWithJava(
  bootstrap: string,
  topic: string,
  keys: readonly string[],
  opts: JavaProduceOptions = {},
): Promise<void> {
  const version = opts.version ?? '4.4.0';
  const values = opts.values ?? keys;
  if (values.length !== keys.length) throw new Error('produceWithJava: one value per key');
  const bad = [...keys, ...values].find((s) => s.includes(KEY_SEPARATOR) || /[\r\n]/.test(s));
  if (bad !== undefined)
    throw new Error(`produceWithJava: ${JSON.stringify(bad)} contains \\x1f, \\r or \\n`);

  // 4.x renamed the line reader's --property to --reader-property.
  const readerFlag = version.startsWith('4.') ? '--reader-property' : '--property';
  const config = { acks: 'all', ...opts.producerConfig };
  const args = [
    '--bootstrap-server',
    bootstrap,
    '--topic',
    topic,
    readerFlag,
    'parse.key=true',
    readerFlag,
    `key.separator=${KEY_SEPARATOR}`,
    ...Object.entries(config).flatMap(([k, v]) => ['--producer-property', `${k}=${v}`]),
  ];
  const input = keys.map((key, i) => `${key}${KEY_SEPARATOR}${values[i] ?? ''}\n`).join('');
  await runKafkaTool(version, kafkaClasses(version).consoleProducer, args, {
    input,
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
}
