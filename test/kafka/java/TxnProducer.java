// A transactional Java producer for ekaf's real-Kafka tests and benchmarks (test/kafka/
// java-txn-producer.ts compiles and drives it). Not part of ekaf: the Java client as the reference.
//
//   TxnProducer run         init, W warm-up transactions (unmeasured), then T transactions of M
//                           records; prints one JSON line {transactions, records, seconds,
//                           recordsPerSecond, initSeconds, ...} and exits.
//   TxnProducer hang        init, begin, M records (and offsets with --send-offsets), flush,
//                           prints "SENT", then blocks forever (ignores stdin): to be SIGKILLed,
//                           or fenced by another instance with the same transactional id.
//   TxnProducer interactive as hang up to "SENT", then one command per stdin line, each answered
//                           with one JSON line: "commit" (or an empty line), "abort", "begin",
//                           "send <n>" (n records, flushed), "exit" (closes the producer).
//                           End of stdin halts the JVM at once (nothing more is sent).
//
// Options: --bootstrap B --transactional-id ID --topics t1,t2 (record r of a transaction goes to
// topics[r % topics]) --transactions T --records M --record-size S --warmup-transactions W
// --label L (default: the transactional id) --send-offsets 'group=G;topic:partition=offset,...'
// --config key=value (repeatable; acks=all and enable.idempotence=true are set).
//
// Record r of transaction t (counted from 0 in this process, warm-up included): key "k" and the
// 7-digit number of the record within the process, value "<label>:<t>:<r>" padded with '.' to
// S bytes (longer when the label does not fit). Replies carry the exception's class names.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class TxnProducer {
  private final KafkaProducer<byte[], byte[]> producer;
  private final List<String> topics;
  private final String label;
  private final int recordSize;
  private long transaction = -1;
  private long recordInProcess = 0;

  private TxnProducer(KafkaProducer<byte[], byte[]> producer, List<String> topics, String label, int recordSize) {
    this.producer = producer;
    this.topics = topics;
    this.label = label;
    this.recordSize = recordSize;
  }

  public static void main(String[] argv) throws Exception {
    if (argv.length < 1) fail("usage: TxnProducer run|hang|interactive --option value ...");
    String mode = argv[0];
    Map<String, String> opts = new HashMap<>();
    Properties config = new Properties();
    for (int i = 1; i < argv.length; i += 2) {
      if (i + 1 >= argv.length) fail("option " + argv[i] + " has no value");
      if (argv[i].equals("--config")) {
        String[] kv = argv[i + 1].split("=", 2);
        if (kv.length != 2) fail("--config wants key=value, got " + argv[i + 1]);
        config.put(kv[0], kv[1]);
      } else {
        opts.put(argv[i], argv[i + 1]);
      }
    }
    String id = required(opts, "--transactional-id");
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, required(opts, "--bootstrap"));
    config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    config.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "ekaf-java-txn-" + id);
    List<String> topics = Arrays.asList(required(opts, "--topics").split(","));
    int records = Integer.parseInt(opts.getOrDefault("--records", "1"));
    int recordSize = Integer.parseInt(opts.getOrDefault("--record-size", "100"));
    String label = opts.getOrDefault("--label", id);

    long t0 = System.nanoTime();
    KafkaProducer<byte[], byte[]> kafka =
        new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
    TxnProducer p = new TxnProducer(kafka, topics, label, recordSize);
    kafka.initTransactions();
    double initSeconds = (System.nanoTime() - t0) / 1e9;

    switch (mode) {
      case "run": {
        int transactions = Integer.parseInt(opts.getOrDefault("--transactions", "1"));
        int warmup = Integer.parseInt(opts.getOrDefault("--warmup-transactions", "0"));
        for (int t = 0; t < warmup; t++) p.oneTransaction(records);
        long start = System.nanoTime();
        for (int t = 0; t < transactions; t++) p.oneTransaction(records);
        double seconds = (System.nanoTime() - start) / 1e9;
        kafka.close();
        long total = (long) transactions * records;
        System.out.println(
            "{\"transactions\":" + transactions + ",\"records\":" + total + ",\"seconds\":" + seconds
                + ",\"recordsPerSecond\":" + (total / seconds) + ",\"initSeconds\":" + initSeconds
                + ",\"warmupTransactions\":" + warmup + ",\"recordSize\":" + recordSize + "}");
        System.out.flush();
        return;
      }
      case "hang":
      case "interactive": {
        kafka.beginTransaction();
        p.transaction++;
        p.sendAndFlush(records);
        String offsets = opts.get("--send-offsets");
        if (offsets != null) p.sendOffsets(offsets);
        System.out.println("SENT");
        System.out.flush();
        if (mode.equals("hang")) {
          for (;;) Thread.sleep(Long.MAX_VALUE);
        }
        p.interact();
        return;
      }
      default:
        fail("unknown mode " + mode);
    }
  }

  private void oneTransaction(int records) {
    producer.beginTransaction();
    transaction++;
    for (int r = 0; r < records; r++) producer.send(record(r));
    producer.commitTransaction(); // flushes first
  }

  private ProducerRecord<byte[], byte[]> record(int r) {
    String topic = topics.get(r % topics.size());
    byte[] key = String.format("k%07d", recordInProcess++ % 10_000_000).getBytes(StandardCharsets.US_ASCII);
    return new ProducerRecord<>(topic, key, value(label, transaction, r, recordSize));
  }

  static byte[] value(String label, long t, int r, int size) {
    byte[] head = (label + ":" + t + ":" + r).getBytes(StandardCharsets.UTF_8);
    if (head.length >= size) return head;
    byte[] v = Arrays.copyOf(head, size);
    Arrays.fill(v, head.length, size, (byte) '.');
    return v;
  }

  /** Sends n records of the open transaction, flushes, and throws the first failure. */
  private void sendAndFlush(int n) throws Exception {
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    for (int r = 0; r < n; r++) sent.add(producer.send(record(r)));
    producer.flush();
    for (Future<RecordMetadata> f : sent) f.get();
  }

  /** "group=G;topic:partition=offset,topic:partition=offset" */
  private void sendOffsets(String spec) {
    String[] parts = spec.split(";", 2);
    if (parts.length != 2 || !parts[0].startsWith("group=")) fail("--send-offsets: " + spec);
    Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
    for (String entry : parts[1].split(",")) {
      int colon = entry.lastIndexOf(':');
      int eq = entry.lastIndexOf('=');
      if (colon < 0 || eq < colon) fail("--send-offsets entry: " + entry);
      offsets.put(
          new TopicPartition(entry.substring(0, colon), Integer.parseInt(entry.substring(colon + 1, eq))),
          new OffsetAndMetadata(Long.parseLong(entry.substring(eq + 1))));
    }
    producer.sendOffsetsToTransaction(offsets, new ConsumerGroupMetadata(parts[0].substring("group=".length())));
  }

  private void interact() throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      String command = line.trim().isEmpty() ? "commit" : line.trim();
      try {
        if (command.equals("commit")) producer.commitTransaction();
        else if (command.equals("abort")) producer.abortTransaction();
        else if (command.equals("begin")) {
          producer.beginTransaction();
          transaction++;
        } else if (command.startsWith("send ")) sendAndFlush(Integer.parseInt(command.substring(5).trim()));
        else if (command.equals("exit")) {
          producer.close();
          reply(command, null);
          return;
        } else throw new IllegalArgumentException("unknown command");
        reply(command, null);
      } catch (Exception e) {
        reply(command, e);
      }
    }
    Runtime.getRuntime().halt(0); // end of stdin: gone without a word to the brokers
  }

  private static void reply(String command, Exception error) {
    StringBuilder s = new StringBuilder("{\"command\":").append(json(command));
    if (error == null) {
      s.append(",\"ok\":true}");
    } else {
      Throwable e = error instanceof ExecutionException && error.getCause() != null ? error.getCause() : error;
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) root = root.getCause();
      s.append(",\"ok\":false,\"error\":").append(json(e.getClass().getName()))
          .append(",\"rootCause\":").append(json(root.getClass().getName()))
          .append(",\"message\":").append(json(String.valueOf(e.getMessage()))).append('}');
    }
    System.out.println(s);
    System.out.flush();
  }

  static String json(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }

  private static String required(Map<String, String> opts, String name) {
    String v = opts.get(name);
    if (v == null) fail("missing " + name);
    return v;
  }

  private static void fail(String message) {
    System.err.println("TxnProducer: " + message);
    System.exit(2);
  }
}
