// A consumer group's committed offsets, read and written with the Java clients, for ekaf's
// real-Kafka tests (test/kafka/group-offsets.ts compiles and drives it). Not part of ekaf.
//
//   GroupOffsets read   --bootstrap B --group G [--require-stable true] [--topics t1,t2] [--timeout-ms N]
//       Prints one JSON line:
//         {"status":"ok","offsets":{"topic:partition":offset,...}}   (metadata and epochs left out)
//         {"status":"pending","error":class,"message":...}          requireStable, and offsets of
//                                                                      an open transaction
//         {"status":"error","error":class,"message":...}            (exit code 1)
//       Without requireStable: Admin.listConsumerGroupOffsets, which the broker answers with the
//       last committed offsets (those of an open transaction are not there yet).
//       With requireStable: the broker answers UNSTABLE_OFFSET_COMMIT for a partition with
//       offsets in an open transaction. Admin's requireStable(true) drops such a partition from
//       its answer silently (seen on 4.4.0), so this asks a read_committed KafkaConsumer's
//       committed() instead, for every partition of the topics (default: all) and of the group:
//       it retries UNSTABLE_OFFSET_COMMIT until the timeout, and its TimeoutException is "pending".
//   GroupOffsets commit --bootstrap B --group G --offsets topic:partition=offset,...
//       KafkaConsumer.commitSync of those offsets (no subscription: a simple group). {"status":"ok"}
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnstableOffsetCommitException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public final class GroupOffsets {
  public static void main(String[] argv) throws Exception {
    if (argv.length < 1) fail("usage: GroupOffsets read|commit --option value ...");
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 1; i + 1 < argv.length; i += 2) opts.put(argv[i], argv[i + 1]);
    String bootstrap = required(opts, "--bootstrap");
    String group = required(opts, "--group");
    int timeoutMs = Integer.parseInt(opts.getOrDefault("--timeout-ms", "10000"));
    switch (argv[0]) {
      case "read":
        boolean stable = Boolean.parseBoolean(opts.getOrDefault("--require-stable", "false"));
        System.exit(read(bootstrap, group, stable, opts.getOrDefault("--topics", ""), timeoutMs));
        return;
      case "commit":
        commit(bootstrap, group, required(opts, "--offsets"), timeoutMs);
        System.out.println("{\"status\":\"ok\"}");
        return;
      default:
        fail("unknown mode " + argv[0]);
    }
  }

  private static int read(String bootstrap, String group, boolean requireStable, String topics, int timeoutMs)
      throws Exception {
    Properties config = new Properties();
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(timeoutMs));
    config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(Math.min(timeoutMs, 5000)));
    config.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "100");
    Map<TopicPartition, OffsetAndMetadata> offsets;
    try (Admin admin = Admin.create(config)) {
      // Admin without requireStable: the last committed offsets, those of an open transaction left out.
      offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      if (requireStable) {
        // Admin's requireStable(true) would not do: it drops a partition answered
        // UNSTABLE_OFFSET_COMMIT from its map without a word. A read_committed consumer sends
        // requireStable and retries that error until its timeout: ask it, for every partition
        // of the topics (all topics by default) and of the group's offsets.
        Set<String> names = topics.isEmpty() ? admin.listTopics().names().get() : new TreeSet<>(Arrays.asList(topics.split(",")));
        Set<TopicPartition> partitions = new HashSet<>(offsets.keySet());
        for (TopicDescription d : admin.describeTopics(names).allTopicNames().get().values()) {
          for (TopicPartitionInfo p : d.partitions()) partitions.add(new TopicPartition(d.name(), p.partition()));
        }
        offsets = committedStable(bootstrap, group, partitions, timeoutMs);
      }
    } catch (ExecutionException | KafkaException e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      boolean pending = requireStable
          && (cause instanceof UnstableOffsetCommitException || cause instanceof TimeoutException);
      System.out.println("{\"status\":\"" + (pending ? "pending" : "error") + "\",\"error\":"
          + json(cause.getClass().getName()) + ",\"message\":" + json(String.valueOf(cause.getMessage())) + "}");
      return pending ? 0 : 1;
    }
    Map<String, Long> sorted = new TreeMap<>();
    for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
      // No offset committed for the partition: a null value.
      if (e.getValue() != null) sorted.put(e.getKey().topic() + ":" + e.getKey().partition(), e.getValue().offset());
    }
    StringBuilder s = new StringBuilder("{\"status\":\"ok\",\"offsets\":{");
    String sep = "";
    for (Map.Entry<String, Long> e : sorted.entrySet()) {
      s.append(sep).append(json(e.getKey())).append(':').append(e.getValue());
      sep = ",";
    }
    System.out.println(s.append("}}"));
    return 0;
  }

  /** KafkaConsumer.committed() with isolation.level=read_committed: OffsetFetch with requireStable. */
  private static Map<TopicPartition, OffsetAndMetadata> committedStable(
      String bootstrap, String group, Set<TopicPartition> partitions, int timeoutMs) {
    Properties config = new Properties();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    config.put(ConsumerConfig.RETRY_BACKOFF_MS_CONFIG, "100");
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      return consumer.committed(partitions, Duration.ofMillis(timeoutMs));
    }
  }

  private static void commit(String bootstrap, String group, String spec, int timeoutMs) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
    for (String entry : spec.split(",")) {
      int colon = entry.lastIndexOf(':');
      int eq = entry.lastIndexOf('=');
      if (colon < 0 || eq < colon) fail("--offsets entry: " + entry);
      offsets.put(
          new TopicPartition(entry.substring(0, colon), Integer.parseInt(entry.substring(colon + 1, eq))),
          new OffsetAndMetadata(Long.parseLong(entry.substring(eq + 1))));
    }
    Properties config = new Properties();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    config.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(timeoutMs));
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.commitSync(offsets);
    }
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
    System.err.println("GroupOffsets: " + message);
    System.exit(2);
  }
}
