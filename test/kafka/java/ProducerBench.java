// The Java producer as a benchmark contestant (bench/scenarios/kafka-*.ts, through
// bench/lib/java-bench.ts): the same "key:value" file as every other client, the Java client's
// defaults (linger.ms 5, batch.size 16384, buffer.memory 32 MB, max.in.flight 5, murmur2 on the
// key) with acks=all and enable.idempotence=true. Not part of ekaf.
//
//   ProducerBench --bootstrap B --topic T --file F --records N --warmup W [--rate R] [--config k=v]
//
// Reads the first N lines of F ("key:value", no ':' in keys) into byte arrays before any clock
// starts. Warm-up: the first W records, sent (paced at R when given) and flushed, unmeasured, to
// the same topic. Then:
//   saturated (no --rate): send() of all N records, each with a callback, then flush(); the time
//     and the process CPU (all threads: the sender, GC, JIT) are taken around that;
//   paced (--rate R records/s): record i is due at start + i/R; every millisecond the thread wakes
//     and sends every record that is due. A record's latency is from the time it was due to its
//     callback, so falling behind the rate shows as latency (no coordinated omission).
// Prints one JSON line: records, warmupRecords, seconds, cpuSeconds (measured phase),
// processCpuSeconds (the whole JVM from its start to after close()), and for paced runs
// p50Ms/p99Ms/p999Ms/maxMs (nearest rank) and the achieved rate. Exits 1 if any send failed.
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class ProducerBench {
  private static final long TICK_NS = 1_000_000;

  private final KafkaProducer<byte[], byte[]> producer;
  private final String topic;
  private final byte[][] keys;
  private final byte[][] values;
  private final AtomicLong failures = new AtomicLong();
  private final AtomicReference<Exception> firstFailure = new AtomicReference<>();

  private ProducerBench(KafkaProducer<byte[], byte[]> producer, String topic, byte[][] keys, byte[][] values) {
    this.producer = producer;
    this.topic = topic;
    this.keys = keys;
    this.values = values;
  }

  public static void main(String[] argv) throws Exception {
    Map<String, String> opts = new HashMap<>();
    Properties config = new Properties();
    for (int i = 0; i < argv.length; i += 2) {
      if (i + 1 >= argv.length) fail("option " + argv[i] + " has no value");
      if (argv[i].equals("--config")) {
        String[] kv = argv[i + 1].split("=", 2);
        if (kv.length != 2) fail("--config wants key=value, got " + argv[i + 1]);
        config.put(kv[0], kv[1]);
      } else {
        opts.put(argv[i], argv[i + 1]);
      }
    }
    int records = Integer.parseInt(required(opts, "--records"));
    int warmup = Integer.parseInt(opts.getOrDefault("--warmup", "0"));
    double rate = Double.parseDouble(opts.getOrDefault("--rate", "0"));
    byte[][] keys = new byte[records][];
    byte[][] values = new byte[records][];
    readRecords(required(opts, "--file"), keys, values);

    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, required(opts, "--bootstrap"));
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    config.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "ekaf-bench-java");
    KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
    ProducerBench bench = new ProducerBench(producer, required(opts, "--topic"), keys, values);

    // Warm-up: the JIT compiles the send path; metadata is fetched and every leader connected.
    if (rate > 0) bench.paced(Math.min(warmup, records), rate, null);
    else bench.saturated(Math.min(warmup, records));
    bench.checkFailures();

    long[] latencies = rate > 0 ? new long[records] : null;
    long cpu0 = processCpuNanos();
    long t0 = System.nanoTime();
    if (rate > 0) bench.paced(records, rate, latencies);
    else bench.saturated(records);
    long ns = System.nanoTime() - t0;
    long cpu = processCpuNanos() - cpu0;
    bench.checkFailures();
    producer.close();

    StringBuilder out = new StringBuilder("{");
    out.append("\"records\":").append(records);
    out.append(",\"warmupRecords\":").append(warmup);
    out.append(",\"seconds\":").append(ns / 1e9);
    out.append(",\"cpuSeconds\":").append(cpu / 1e9);
    if (latencies != null) {
      Arrays.sort(latencies);
      out.append(",\"p50Ms\":").append(percentile(latencies, 50) / 1e6);
      out.append(",\"p99Ms\":").append(percentile(latencies, 99) / 1e6);
      out.append(",\"p999Ms\":").append(percentile(latencies, 99.9) / 1e6);
      out.append(",\"maxMs\":").append(latencies[latencies.length - 1] / 1e6);
      out.append(",\"achievedRate\":").append(records / (ns / 1e9));
    }
    // Last, so that close() is inside it: the whole JVM, from its start.
    out.append(",\"processCpuSeconds\":").append(processCpuNanos() / 1e9);
    System.out.println(out.append('}'));
  }

  /** send() of records [0, n), then flush(): send() blocks while buffer.memory is full. */
  private void saturated(int n) {
    for (int i = 0; i < n; i++) {
      producer.send(new ProducerRecord<>(topic, keys[i], values[i]), (metadata, error) -> {
        if (error != null) failed(error);
      });
    }
    producer.flush();
  }

  /** Records [0, n) at `rate` records/s, in 1 ms ticks; latencies[i] from due time to callback. */
  private void paced(int n, double rate, long[] latencies) {
    double nsPerRecord = 1e9 / rate;
    long start = System.nanoTime();
    int next = 0;
    while (next < n) {
      long now = System.nanoTime();
      int due = (int) Math.min(n, Math.floor((now - start) / nsPerRecord) + 1);
      for (; next < due; next++) {
        final int i = next;
        final long dueAt = start + (long) (i * nsPerRecord);
        producer.send(new ProducerRecord<>(topic, keys[i], values[i]), (metadata, error) -> {
          if (error != null) failed(error);
          else if (latencies != null) latencies[i] = System.nanoTime() - dueAt;
        });
      }
      LockSupport.parkNanos(TICK_NS);
    }
    producer.flush();
  }

  private void failed(Exception error) {
    failures.incrementAndGet();
    firstFailure.compareAndSet(null, error);
  }

  private void checkFailures() {
    if (failures.get() > 0) {
      fail(failures.get() + " sends failed, the first: " + firstFailure.get());
    }
  }

  /** Nearest rank, as bench/lib/stats.ts's percentile(). */
  private static long percentile(long[] sorted, double p) {
    int rank = (int) Math.ceil(p / 100 * sorted.length);
    return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
  }

  /** CPU time of the whole JVM (every thread), as the OS accounts it. */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** The first keys.length lines of a "key:value\n" file, split at the first ':'. */
  private static void readRecords(String file, byte[][] keys, byte[][] values) throws Exception {
    byte[] data = Files.readAllBytes(Paths.get(file));
    int start = 0;
    for (int r = 0; r < keys.length; r++) {
      if (start >= data.length) fail(file + " holds only " + r + " records, " + keys.length + " wanted");
      int colon = start;
      while (data[colon] != ':') colon++;
      int end = colon + 1;
      while (end < data.length && data[end] != '\n') end++;
      keys[r] = Arrays.copyOfRange(data, start, colon);
      values[r] = Arrays.copyOfRange(data, colon + 1, end);
      start = end + 1;
    }
  }

  private static String required(Map<String, String> opts, String name) {
    String v = opts.get(name);
    if (v == null) fail("missing " + name);
    return v;
  }

  private static void fail(String message) {
    System.err.println("ProducerBench: " + message);
    System.exit(1);
  }
}
