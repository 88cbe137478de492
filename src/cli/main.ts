// ekaf's command line: `ekaf serve` (the HTTP gateway and its visualizer), `ekaf produce`
// (lines to records, like `kcat -P`) and `ekaf dev-cluster` (the bundled local cluster).
// Options come from the command line, then from environment variables, then from defaults.
// This module picks the command and turns what it threw into an exit code (exit-codes.ts);
// src/cli.ts and the bundle's bin.ts run it, so that importing it starts nothing.
//
// A command's module is loaded only when that command runs (or its help is asked for): the
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
export interface Command {
  run: (args: string[]) => Promise<number>;
  help: string;
}

/**
 * Where main finds each command's module, loaded only when that command runs: imported from
 * the compiled sources (src/cli.ts, commands.ts) or from the bundle (bin.ts).
 */
export interface CommandModules {
  /** By name: serve, produce, dev-cluster. */
  commands: Readonly<Record<string, () => Promise<Command>>>;
  /** What a worker of `ekaf serve --workers N` runs. */
  serveWorker: () => Promise<() => Promise<number>>;
}

/**
 * Set by `ekaf serve --workers N` (serve-workers.ts) in the environment of the workers it forks.
 * Repeated there rather than imported, so that checking for it loads nothing.
 */
const SERVE_WORKER_ENV = 'EKAF_SERVE_CONFIG';

/** Runs `ekaf <argv>`; resolves with the exit code (some commands only end by a signal). */
export async function main(argv: string[], modules: CommandModules): Promise<number> {
  const [name, ...rest] = argv;
  const commands = modules.commands;
  const command = name === undefined || !Object.hasOwn(commands, name) ? undefined : commands[name];
  try {
    // A worker of `ekaf serve --workers N` is this executable forked again, with the primary's
    // argv: it must not parse them as a new `ekaf serve`.
    if (process.env[SERVE_WORKER_ENV] !== undefined) {
      const [{ default: cluster }, serveWorker] = await Promise.all([
        import('node:cluster'),
        modules.serveWorker(),
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
      const topic =
        rest[0] === undefined || !Object.hasOwn(commands, rest[0]) ? undefined : commands[rest[0]];
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
    if (UsageError.is(error)) {
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
