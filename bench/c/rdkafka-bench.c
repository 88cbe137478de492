// librdkafka as a benchmark contestant (bench/scenarios/kafka-*.ts, built and run by
// bench/lib/rdkafka-bench.ts): the same "key:value" file and the same two modes as the Java
// program (test/kafka/java/ProducerBench.java), so that the C client is measured by the same rule
// and not through kcat's line reader. librdkafka's defaults (linger.ms 5, batch.num.messages
// 10 000, queue.buffering.max.messages 100 000) with acks=all, enable.idempotence=true and
// partitioner=murmur2_random (the Java client's placement of keyed records).
//
//   rdkafka-bench <bootstrap> <topic> <file> <records> <warmup> <rate> [key=value ...]
//
// rate 0: saturated. rd_kafka_producev() of every record (payloads point into the file's bytes,
// not copied), polling for delivery reports as kcat does, and waiting 1 ms whenever the queue is
// full; then rd_kafka_flush(). rate > 0: paced. Record i is due at start + i/rate; the main
// thread wakes every millisecond and produces every record that is due, while a second thread
// serves delivery reports as they come (rd_kafka_poll). A record's latency is from the time it was
// due to its delivery report. The warm-up (the first `warmup` records, same mode, unmeasured)
// goes to the same topic first.
//
// Prints one JSON line as ProducerBench does: records, warmupRecords, seconds, cpuSeconds (the
// measured phase), processCpuSeconds (the whole process, every thread, at exit), and for paced runs
// p50Ms, p99Ms, p999Ms, maxMs, achievedRate. Exits 1 if any delivery failed.
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct record {
  const char *key;
  size_t key_len;
  const char *value;
  size_t value_len;
};

/** What the delivery-report callback updates (one producer per process). */
static struct {
  atomic_long acked;
  atomic_long failed;
  char first_error[256];
  /** Paced runs: due time of each record (ns) and its latency, or NULL. */
  int64_t *due_ns;
  int64_t *latency_ns;
} reports;

static atomic_int stop_polling;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/** User + system CPU of the whole process (every thread), in seconds. */
static double process_cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what, const char *why) {
  fprintf(stderr, "rdkafka-bench: %s: %s\n", what, why);
  exit(1);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  if (m->err) {
    if (atomic_fetch_add(&reports.failed, 1) == 0)
      snprintf(reports.first_error, sizeof reports.first_error, "%s", rd_kafka_err2str(m->err));
    return;
  }
  if (reports.latency_ns != NULL) {
    intptr_t i = (intptr_t)m->_private;
    reports.latency_ns[i] = now_ns() - reports.due_ns[i];
  }
  atomic_fetch_add(&reports.acked, 1);
}

static void *poll_loop(void *arg) {
  rd_kafka_t *rk = arg;
  while (!atomic_load(&stop_polling)) rd_kafka_poll(rk, 100);
  return NULL;
}

/** Produces record i; waits (polling, or sleeping while the poll thread serves) while the queue is full. */
static void produce(rd_kafka_t *rk, rd_kafka_topic_t *rkt, const struct record *r, intptr_t i, int poll_here) {
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_KEY(r->key, r->key_len),
                                                RD_KAFKA_V_VALUE((void *)r->value, r->value_len),
                                                RD_KAFKA_V_OPAQUE((void *)i), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce", rd_kafka_err2str(err));
    if (poll_here) {
      rd_kafka_poll(rk, 1);
    } else {
      struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
    }
  }
}

static void saturated(rd_kafka_t *rk, rd_kafka_topic_t *rkt, const struct record *records, long n) {
  for (long i = 0; i < n; i++) {
    produce(rk, rkt, &records[i], i, 1);
    if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
  }
  rd_kafka_flush(rk, 300000);
}

/** Records [0, n) at `rate` records/s in 1 ms ticks (the poll thread serves delivery reports). */
static void paced(rd_kafka_t *rk, rd_kafka_topic_t *rkt, const struct record *records, long n, double rate) {
  double ns_per_record = 1e9 / rate;
  int64_t start = now_ns();
  long next = 0;
  while (next < n) {
    int64_t now = now_ns();
    long due = (long)floor((double)(now - start) / ns_per_record) + 1;
    if (due > n) due = n;
    for (; next < due; next++) {
      if (reports.due_ns != NULL) reports.due_ns[next] = start + (int64_t)(next * ns_per_record);
      produce(rk, rkt, &records[next], next, 0);
    }
    struct timespec tick = {0, 1000000};
    nanosleep(&tick, NULL);
  }
  rd_kafka_flush(rk, 300000);
}

static int compare_int64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/** Nearest rank, as bench/lib/stats.ts's percentile(). */
static int64_t percentile(const int64_t *sorted, long n, double p) {
  long rank = (long)ceil(p / 100 * n);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}

/** The first n lines of a "key:value\n" file; the records point into the returned bytes. */
static char *read_records(const char *file, struct record *records, long n) {
  FILE *f = fopen(file, "rb");
  if (f == NULL) die(file, "cannot open");
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *data = malloc(size);
  if (data == NULL || fread(data, 1, size, f) != (size_t)size) die(file, "cannot read");
  fclose(f);
  char *p = data, *end = data + size;
  for (long i = 0; i < n; i++) {
    if (p >= end) die(file, "holds fewer records than asked for");
    char *colon = memchr(p, ':', end - p);
    char *nl = memchr(p, '\n', end - p);
    if (colon == NULL) die(file, "a line without ':'");
    if (nl == NULL) nl = end;
    records[i] = (struct record){p, colon - p, colon + 1, nl - colon - 1};
    p = nl + 1;
  }
  return data;
}

static void set(rd_kafka_conf_t *conf, const char *key, const char *value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key, value, err, sizeof err) != RD_KAFKA_CONF_OK) die(key, err);
}

int main(int argc, char **argv) {
  if (argc < 7) die("usage", "rdkafka-bench <bootstrap> <topic> <file> <records> <warmup> <rate> [key=value ...]");
  long n = atol(argv[4]);
  long warmup = atol(argv[5]);
  double rate = atof(argv[6]);
  if (warmup > n) warmup = n;
  struct record *records = malloc(sizeof *records * n);
  char *data = read_records(argv[3], records, n);

  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", argv[1]);
  set(conf, "acks", "all");
  set(conf, "enable.idempotence", "true");
  set(conf, "partitioner", "murmur2_random");
  set(conf, "client.id", "ekaf-bench-rdkafka");
  for (int a = 7; a < argc; a++) {
    char *eq = strchr(argv[a], '=');
    if (eq == NULL) die(argv[a], "wants key=value");
    *eq = '\0';
    set(conf, argv[a], eq + 1);
  }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == NULL) die("rd_kafka_new", err);
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, argv[2], NULL);

  pthread_t poller;
  if (rate > 0) pthread_create(&poller, NULL, poll_loop, rk);

  if (rate > 0) paced(rk, rkt, records, warmup, rate);
  else saturated(rk, rkt, records, warmup);
  if (atomic_load(&reports.failed) > 0) die("warm-up delivery failed", reports.first_error);
  atomic_store(&reports.acked, 0);

  if (rate > 0) {
    reports.due_ns = calloc(n, sizeof(int64_t));
    reports.latency_ns = calloc(n, sizeof(int64_t));
  }
  double cpu0 = process_cpu_seconds();
  int64_t t0 = now_ns();
  if (rate > 0) paced(rk, rkt, records, n, rate);
  else saturated(rk, rkt, records, n);
  double seconds = (now_ns() - t0) / 1e9;
  double cpu = process_cpu_seconds() - cpu0;
  if (atomic_load(&reports.failed) > 0) die("delivery failed", reports.first_error);
  if (atomic_load(&reports.acked) != n) die("flush", "not every record was acknowledged in time");

  if (rate > 0) {
    atomic_store(&stop_polling, 1);
    pthread_join(poller, NULL);
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);

  printf("{\"records\":%ld,\"warmupRecords\":%ld,\"seconds\":%.6f,\"cpuSeconds\":%.6f", n, warmup, seconds, cpu);
  if (rate > 0) {
    qsort(reports.latency_ns, n, sizeof(int64_t), compare_int64);
    printf(",\"p50Ms\":%.4f,\"p99Ms\":%.4f,\"p999Ms\":%.4f,\"maxMs\":%.4f,\"achievedRate\":%.1f",
           percentile(reports.latency_ns, n, 50) / 1e6, percentile(reports.latency_ns, n, 99) / 1e6,
           percentile(reports.latency_ns, n, 99.9) / 1e6, reports.latency_ns[n - 1] / 1e6, n / seconds);
  }
  // Last, so that rd_kafka_destroy() is inside it: the whole process, from its start.
  printf(",\"processCpuSeconds\":%.6f}\n", process_cpu_seconds());
  free(data);
  free(records);
  return 0;
}
