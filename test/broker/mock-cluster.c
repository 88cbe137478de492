/*
 * mock-cluster: librdkafka's mock Kafka cluster behind a line protocol.
 *
 * The mock brokers speak the real Kafka protocol on 127.0.0.1, so tests can
 * point a client at them and inject faults through stdin:
 *
 *   stdout: "ready <bootstrap servers>" once, then one answer per command:
 *           "ok[ <data>]" or "error <message>".
 *   stdin:  one command per line (see the table at the bottom).
 *
 * EOF on stdin ends the program, so the cluster dies with the test that
 * spawned it. Built against librdkafka 2.0.2 (Debian) and 2.12.0 (source) by
 * scripts/build-harness.sh; only functions present in both are used unguarded.
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 64
#define MAX_BROKERS 64

/* rd_kafka_mock_broker_set_host_port() is in 2.12 but not in 2.0.2; the
 * guard is the lowest version we have checked it in. */
#define HAVE_SET_HOST_PORT (RD_KAFKA_VERSION >= 0x020c0000)

static rd_kafka_mock_cluster_t *mcluster;
static int quit;

/* Advertised address of each broker, index = id - 1. The mock has no getter,
 * so it is parsed from the bootstrap list (which the mock builds in broker id
 * order, checked by harness.test.ts against Metadata) and updated by
 * set_host_port. */
static struct {
        char host[256];
        int port;
} brokers[MAX_BROKERS];
static int broker_cnt;

static void reply(const char *status, const char *fmt, ...) {
        va_list ap;
        fputs(status, stdout);
        if (fmt) {
                fputc(' ', stdout);
                va_start(ap, fmt);
                vfprintf(stdout, fmt, ap);
                va_end(ap);
        }
        fputc('\n', stdout);
        fflush(stdout); /* the parent reads line by line through a pipe */
}

/* Replies ok or error for a librdkafka return code. */
static void reply_err(rd_kafka_resp_err_t err) {
        if (err)
                reply("error", "%s", rd_kafka_err2str(err));
        else
                reply("ok", NULL);
}

/* Strict decimal parse: the whole token must be a number in [min, max]. */
static int parse_int(const char *s, long min, long max, long *out) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max)
                return -1;
        *out = v;
        return 0;
}

static int int16_arg(const char *s, long *out) {
        return parse_int(s, -32768, 32767, out);
}

static int int32_arg(const char *s, long *out) {
        return parse_int(s, -2147483647L - 1, 2147483647L, out);
}

/* Parses "<err>:<rtt_ms>". */
static int err_rtt_arg(const char *s, long *err, long *rtt) {
        char buf[64];
        char *colon;
        if (strlen(s) >= sizeof(buf))
                return -1;
        strcpy(buf, s);
        if (!(colon = strchr(buf, ':')))
                return -1;
        *colon = '\0';
        return int32_arg(buf, err) || parse_int(colon + 1, 0, 3600000, rtt) ? -1 : 0;
}

/* Fills brokers[] from "host:port,host:port,...". */
static int load_brokers(const char *bootstraps) {
        const char *p = bootstraps;
        for (broker_cnt = 0; *p && broker_cnt < MAX_BROKERS; broker_cnt++) {
                size_t len = strcspn(p, ",");
                const char *colon = NULL;
                for (const char *q = p; q < p + len; q++)
                        if (*q == ':')
                                colon = q; /* the last one: the host may be IPv6 */
                if (!colon || (size_t)(colon - p) >= sizeof(brokers[0].host))
                        return -1;
                memcpy(brokers[broker_cnt].host, p, (size_t)(colon - p));
                brokers[broker_cnt].host[colon - p] = '\0';
                brokers[broker_cnt].port = atoi(colon + 1);
                p += len + (p[len] == ',');
        }
        return 0;
}

/*
 * Commands. argv[0] is the command name and argc is already checked against
 * the table. Each one replies exactly once, or returns -1 (without replying)
 * when an argument does not parse, and the dispatcher prints the usage.
 */

static int cmd_bootstraps(int argc, char **argv) {
        (void)argc, (void)argv;
        reply("ok", "%s", rd_kafka_mock_cluster_bootstraps(mcluster));
        return 0;
}

static int cmd_brokers(int argc, char **argv) {
        char line[MAX_BROKERS * 300] = "";
        size_t of = 0;
        (void)argc, (void)argv;
        for (int i = 0; i < broker_cnt; i++)
                of += (size_t)snprintf(line + of, sizeof(line) - of, "%s%d=%s:%d", i ? " " : "", i + 1,
                                       brokers[i].host, brokers[i].port);
        reply("ok", "%s", line);
        return 0;
}

static int cmd_create_topic(int argc, char **argv) {
        long partitions, rf;
        (void)argc;
        if (int32_arg(argv[2], &partitions) || int32_arg(argv[3], &rf))
                return -1;
        reply_err(rd_kafka_mock_topic_create(mcluster, argv[1], (int)partitions, (int)rf));
        return 0;
}

static int cmd_broker_down(int argc, char **argv) {
        long id;
        (void)argc;
        if (int32_arg(argv[1], &id))
                return -1;
        reply_err(rd_kafka_mock_broker_set_down(mcluster, (int32_t)id));
        return 0;
}

static int cmd_broker_up(int argc, char **argv) {
        long id;
        (void)argc;
        if (int32_arg(argv[1], &id))
                return -1;
        reply_err(rd_kafka_mock_broker_set_up(mcluster, (int32_t)id));
        return 0;
}

static int cmd_set_rtt(int argc, char **argv) {
        long id, ms;
        (void)argc;
        if (int32_arg(argv[1], &id) || parse_int(argv[2], 0, 3600000, &ms))
                return -1;
        reply_err(rd_kafka_mock_broker_set_rtt(mcluster, (int32_t)id, (int)ms));
        return 0;
}

static int cmd_set_leader(int argc, char **argv) {
        long partition, id;
        (void)argc;
        if (int32_arg(argv[2], &partition) || int32_arg(argv[3], &id))
                return -1;
        reply_err(rd_kafka_mock_partition_set_leader(mcluster, argv[1], (int32_t)partition, (int32_t)id));
        return 0;
}

static int cmd_push_errors(int argc, char **argv) {
        rd_kafka_resp_err_t errs[MAX_ARGS];
        long api_key, err;
        if (int16_arg(argv[1], &api_key))
                return -1;
        for (int i = 2; i < argc; i++) {
                if (int32_arg(argv[i], &err))
                        return -1;
                errs[i - 2] = (rd_kafka_resp_err_t)err;
        }
        /* Returns void: nothing to check. */
        rd_kafka_mock_push_request_errors_array(mcluster, (int16_t)api_key, (size_t)(argc - 2), errs);
        reply("ok", NULL);
        return 0;
}

static int cmd_push_broker_errors(int argc, char **argv) {
        long id, api_key, err, rtt;
        if (int32_arg(argv[1], &id) || int16_arg(argv[2], &api_key))
                return -1;
        for (int i = 3; i < argc; i++)
                if (err_rtt_arg(argv[i], &err, &rtt))
                        return -1;
        /* Only a varargs form exists, so push one tuple per call: each call
         * appends to the broker's stack, so the order is the same as one call
         * with all of them. */
        for (int i = 3; i < argc; i++) {
                err_rtt_arg(argv[i], &err, &rtt);
                rd_kafka_resp_err_t r = rd_kafka_mock_broker_push_request_error_rtts(
                    mcluster, (int32_t)id, (int16_t)api_key, 1, (rd_kafka_resp_err_t)err, (int)rtt);
                if (r) {
                        reply_err(r);
                        return 0;
                }
        }
        reply("ok", NULL);
        return 0;
}

static int cmd_clear_errors(int argc, char **argv) {
        long api_key;
        (void)argc;
        if (int16_arg(argv[1], &api_key))
                return -1;
        /* Returns void. Clears the cluster-wide stack, not the brokers'. */
        rd_kafka_mock_clear_request_errors(mcluster, (int16_t)api_key);
        reply("ok", NULL);
        return 0;
}

static int cmd_set_apiversion(int argc, char **argv) {
        long api_key, min, max;
        (void)argc;
        if (int16_arg(argv[1], &api_key) || int16_arg(argv[2], &min) || int16_arg(argv[3], &max))
                return -1;
        reply_err(rd_kafka_mock_set_apiversion(mcluster, (int16_t)api_key, (int16_t)min, (int16_t)max));
        return 0;
}

static int cmd_topic_error(int argc, char **argv) {
        long err;
        (void)argc;
        if (int32_arg(argv[2], &err))
                return -1;
        /* Returns void. The mock uses it in Metadata and AddPartitionsToTxn
         * responses only. */
        rd_kafka_mock_topic_set_error(mcluster, argv[1], (rd_kafka_resp_err_t)err);
        reply("ok", NULL);
        return 0;
}

#if HAVE_SET_HOST_PORT
static int cmd_set_host_port(int argc, char **argv) {
        long id, port;
        (void)argc;
        if (parse_int(argv[1], 1, broker_cnt, &id) || parse_int(argv[3], 1, 65535, &port) ||
            strlen(argv[2]) >= sizeof(brokers[0].host))
                return -1;
        /* Returns void. It changes what Metadata advertises; the listener
         * stays where it is (so a proxy can sit in front of it). */
        rd_kafka_mock_broker_set_host_port(mcluster, (int32_t)id, argv[2], (int)port);
        strcpy(brokers[id - 1].host, argv[2]);
        brokers[id - 1].port = (int)port;
        reply("ok", NULL);
        return 0;
}
#endif

static int cmd_quit(int argc, char **argv) {
        (void)argc, (void)argv;
        quit = 1;
        reply("ok", NULL);
        return 0;
}

static const struct command {
        const char *name;
        int min_args, max_args; /* not counting the name */
        int (*fn)(int argc, char **argv);
        const char *usage;
} commands[] = {
    {"bootstraps", 0, 0, cmd_bootstraps, ""},
    {"brokers", 0, 0, cmd_brokers, ""},
    {"create_topic", 3, 3, cmd_create_topic, "<name> <partitions> <replication_factor>"},
    {"broker_down", 1, 1, cmd_broker_down, "<broker_id|-1>"},
    {"broker_up", 1, 1, cmd_broker_up, "<broker_id|-1>"},
    {"set_rtt", 2, 2, cmd_set_rtt, "<broker_id|-1> <ms>"},
    {"set_leader", 3, 3, cmd_set_leader, "<topic> <partition> <broker_id|-1>"},
    {"push_errors", 2, MAX_ARGS, cmd_push_errors, "<api_key> <err> [<err> ...]"},
    {"push_broker_errors", 3, MAX_ARGS, cmd_push_broker_errors,
     "<broker_id> <api_key> <err>:<rtt_ms> [<err>:<rtt_ms> ...]"},
    {"clear_errors", 1, 1, cmd_clear_errors, "<api_key>"},
    {"set_apiversion", 3, 3, cmd_set_apiversion, "<api_key> <min|-1> <max|-1>"},
    {"topic_error", 2, 2, cmd_topic_error, "<topic> <err>"},
#if HAVE_SET_HOST_PORT
    {"set_host_port", 3, 3, cmd_set_host_port, "<broker_id> <host> <port>"},
#endif
    {"quit", 0, 0, cmd_quit, ""},
};

static void dispatch(char *line) {
        char *argv[MAX_ARGS + 2];
        int argc = 0;
        for (char *tok = strtok(line, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
                if (argc == MAX_ARGS + 1) {
                        reply("error", "too many arguments");
                        return;
                }
                argv[argc++] = tok;
        }
        if (argc == 0) {
                reply("error", "empty command");
                return;
        }
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
                const struct command *c = &commands[i];
                if (strcmp(argv[0], c->name))
                        continue;
                if (argc - 1 < c->min_args || argc - 1 > c->max_args || c->fn(argc, argv))
                        reply("error", "usage: %s %s", c->name, c->usage);
                return;
        }
        reply("error", "unknown command: %s", argv[0]);
}

/* The mock logs through the rd_kafka_t it was created with. */
static void log_quiet(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
        (void)rk, (void)level, (void)fac, (void)buf;
}

int main(int argc, char **argv) {
        long n = 3;
        int debug = 0;
        char errstr[512];
        char line[4096];

        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--brokers") && i + 1 < argc && !parse_int(argv[i + 1], 1, MAX_BROKERS, &n)) {
                        i++;
                } else if (!strcmp(argv[i], "--debug")) {
                        debug = 1;
                } else {
                        fprintf(stderr, "usage: %s [--brokers 1..%d] [--debug]\n", argv[0], MAX_BROKERS);
                        return 2;
                }
        }

        /* A producer handle with no bootstrap servers: it never connects
         * anywhere, it only hosts the mock cluster. */
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (debug) {
                if (rd_kafka_conf_set(conf, "debug", "mock,protocol,broker", errstr, sizeof(errstr)))
                        fprintf(stderr, "debug: %s\n", errstr);
        } else {
                rd_kafka_conf_set_log_cb(conf, log_quiet);
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                return 1;
        }
        if (!(mcluster = rd_kafka_mock_cluster_new(rk, (int)n))) {
                fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
                rd_kafka_destroy(rk);
                return 1;
        }
        const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mcluster);
        if (load_brokers(bootstraps) || broker_cnt != n) {
                fprintf(stderr, "cannot parse the bootstrap list: %s\n", bootstraps);
                return 1;
        }

        reply("ready", "%s", bootstraps);

        while (!quit && fgets(line, sizeof(line), stdin)) {
                if (!strchr(line, '\n') && !feof(stdin)) {
                        /* Skip the rest of an over-long line and answer once. */
                        int c;
                        while ((c = getchar()) != EOF && c != '\n')
                                ;
                        reply("error", "line too long");
                        continue;
                }
                dispatch(line);
        }

        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(rk);
        return 0;
}
