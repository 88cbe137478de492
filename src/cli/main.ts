// ekaf's command line: `ekaf serve` (the HTTP gateway and its visualizer), `ekaf produce`
// (lines to records, like `kcat -P`) and `ekaf dev-cluster` (the bundled local cluster).
// Options come from the command line, then from environment variables, then from defaults.
// This module picks the command and turns what it threw into an exit code (exit-codes.ts);
// src/cli.ts runs it, so that importing it starts nothing.
//
// A command's module is imported only when that command runs (or its help is asked for): the
// gateway, its metrics and the visualizer are most of what there is to load, and `ekaf produce`
// needs none of them. `ekaf --help` loads nothing but this file (0.05 s instead of 0.26 s).
import { EKAF_VERSION } from '../version.js';
import { FAILED, OK, USAGE, UsageError } from './exit-codes.js';
import { err, out } from './output.js';

const MAIN_HELP = `Usage: ekaf <command> [options]

An actor-model Kafka producer runtime: HTTP gateway, line producer, local dev cluster.

Commands:
  serve         Run the HTTP gateway and its live visualizer (a local dev cluster if no brokers)
  produce       Produce one record per input line, like kcat -P
  dev-cluster   Run the bundled local Kafka cluster (librdkafka's mock brokers) until stopped

Options:
  -h, --help      Show help (also: ekaf <command> --help, ekaf help <command>)
  -V, --version   Print ekaf's version

Exit codes: 0 success, 1 failure, 2 usage error.
`;

/** A command runs with its arguments and resolves with the exit code. */
interface Command {
  run: (args: string[]) => Promise<number>;
  help: string;
}

/** Each command's module, loaded on demand. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => {
    const { serveCommand, SERVE_HELP } = await import('./serve.js');
    return { run: serveCommand, help: SERVE_HELP };
  },
  produce: async () => {
    const { produceCommand, PRODUCE_HELP } = await import('./produce.js');
    return { run: produceCommand, help: PRODUCE_HELP };
  },
  'dev-cluster': async () => {
    const { devClusterCommand, DEV_CLUSTER_HELP } = await import('./dev-cluster.js');
    return { run: devClusterCommand, help: DEV_CLUSTER_HELP };
  },
};

/**
 * Set by `ekaf serve --workers N` (serve-workers.ts) in the environment of the workers it forks.
 * Repeated there rather than imported, so that checking for it loads nothing.
 */
const SERVE_WORKER_ENV = 'EKAF_SERVE_CONFIG';

/** Runs `ekaf <argv>`; resolves with the exit code (some commands only end by a signal). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name === undefined ? undefined : COMMANDS[name];
  try {
    // A worker of `ekaf serve --workers N` is this executable forked again, with the primary's
    // argv: it must not parse them as a new `ekaf serve`.
    if (process.env[SERVE_WORKER_ENV] !== undefined) {
      const [{ default: cluster }, { serveWorker }] = await Promise.all([
        import('node:cluster'),
        import('./serve-workers.js'),
      ]);
      if (cluster.isWorker) return await serveWorker();
    }
    if (name === undefined) {
      process.stderr.write(MAIN_HELP);
      return USAGE;
    }
    if (name === '-h' || name === '--help') {
      process.stdout.write(MAIN_HELP);
      return OK;
    }
    if (name === '-V' || name === '--version') {
      out(EKAF_VERSION);
      return OK;
    }
    if (name === 'help') {
      const topic = rest[0] === undefined ? undefined : COMMANDS[rest[0]];
      if (rest[0] !== undefined && topic === undefined) throw new UsageError(`unknown command "${rest[0]}"`);
      process.stdout.write(topic === undefined ? MAIN_HELP : (await topic()).help);
      return OK;
    }
    if (command === undefined) {
      throw new UsageError(
        name.startsWith('-') ? `unknown option ${name} (a command comes first)` : `unknown command "${name}"`,
      );
    }
    return await (await command()).run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      const where = command === undefined ? 'ekaf' : `ekaf ${name ?? ''}`;
      err(`${where}: ${error.message}`);
      err(`Run "${where} --help" for usage.`);
      return USAGE;
    }
    err(
      `ekaf${name === undefined ? '' : ` ${name}`}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return FAILED;
  }
}
