// Where the real-Kafka harness keeps things, and how its JVMs are recognised.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Jars per version (scripts/kafka-jars.sh), storage templates, logging configs, the pid registry. */
export const KAFKA_CACHE = join(REPO_ROOT, '.cache', 'kafka');

/** The system property that marks a JVM as started by this harness; its value is the owner's pid. */
export const HARNESS_MARK = '-Dekaf.kafka.harness=';
