// Runs the ekaf CLI as a child process, for the CLI tests: from source
// (node_modules/.bin/tsx src/cli.ts, what `npx tsx` runs), or with `built`, the command an
// installed package runs (dist/bin/ekaf.js, which `npm run build` writes).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsx = `${root}node_modules/.bin/tsx`;
const cli = `${root}src/cli.ts`;
/** package.json's "bin": the bundled command (scripts/bundle-cli.ts). */
export const BUILT_CLI = `${root}dist/bin/ekaf.js`;

/** Which command runs: the sources through tsx, or the built package's. */
interface Command {
  built?: boolean;
}

/** Variables the CLI reads: cleared so that the caller's environment does not leak in. */
const CLI_ENV = [
  'KAFKA_BROKERS',
  'KAFKA_CLIENT_ID',
  'KAFKA_TOPIC',
  'EKAF_PORT',
  'EKAF_HOST',
  'EKAF_AUTH_TOKEN',
  'EKAF_WORKERS',
  'EKAF_MAX_BODY_BYTES',
  'EKAF_REQUEST_TIMEOUT_MS',
  'EKAF_DRAIN_TIMEOUT_MS',
  'EKAF_ACKS',
  'EKAF_COMPRESSION',
  'EKAF_DEV_BROKERS',
  'EKAF_SERVE_CONFIG',
  'KAFKA_TLS',
  'KAFKA_TLS_CA',
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'EKAF_SPOOL_DIR',
  'EKAF_SPOOL_MODE',
  'EKAF_SPOOL_MAX_BYTES',
  'EKAF_SPOOL_FSYNC',
  'EKAF_TRANSACTIONAL_ID',
  'EKAF_ALLOWED_HOSTS',
  'EKAF_ALLOW_TOPICS',
  'EKAF_MAX_TOPICS',
  'EKAF_RESPONSE_TIMEOUT_MS',
  'EKAF_MAX_CONNECTIONS',
  'EKAF_CODE_CACHE',
  'EKAF_CODE_CACHE_DIR',
  'EKAF_CONNECT_TIMEOUT_MS',
  'EKAF_DEV_PORT',
];

function environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !CLI_ENV.includes(name)));
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** In its own process group, so that killGroup also reaches the node process tsx starts. */
function spawnCli(args: string[], env: Record<string, string> | undefined, built = false): ChildProcess {
  const [program, script] = built ? [process.execPath, BUILT_CLI] : [tsx, cli];
  return spawn(program, [script, ...args], {
    cwd: root,
    env: environment(env),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Runs `ekaf <args>` to completion, with `stdin` as its input (empty when absent). With
 * `stdinOpen`, its stdin is written but never ended, as a pipe from a live source: the command
 * must end by itself.
 */
export function runCli(
  args: string[],
  opts: Command & {
    stdin?: string | Buffer;
    stdinOpen?: boolean;
    env?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, opts.env, opts.built);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`ekaf ${args.join(' ')} took more than ${opts.timeoutMs ?? 30_000} ms:\n${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin?.on('error', () => undefined);
    if (opts.stdinOpen === true) child.stdin?.write(opts.stdin ?? '');
    else child.stdin?.end(opts.stdin);
  });
}

/** A long-running `ekaf <args>` (serve, dev-cluster). */
export interface RunningCli {
  /** Resolves with the first capture group of the first stdout line that matches. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends the signal and resolves with the result once the process has exited. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<CliResult>;
  /** Kills it if still running (for afterEach). */
  kill(): void;
  /** What it wrote on stderr so far. */
  stderr(): string;
}

export function startCli(args: string[], opts: Command & { env?: Record<string, string> } = {}): RunningCli {
  const child = spawnCli(args, opts.env, opts.built);
  const lines: string[] = [];
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    lines.push(line);
    stdout += `${line}\n`;
    for (const listener of listeners) listener();
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const closed = new Promise<CliResult>((resolve) => {
    child.once('close', (code, signal) => {
      for (const listener of listeners) listener();
      resolve({ code, signal, stdout, stderr });
    });
  });
  let exited = false;
  void closed.then(() => (exited = true));

  return {
    line(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          for (const line of lines) {
            const m = pattern.exec(line);
            if (m) {
              done();
              resolve(m[1] ?? m[0]);
              return;
            }
          }
          if (exited) {
            done();
            reject(
              new Error(`ekaf ${args.join(' ')} exited before printing ${pattern}:\n${stdout}${stderr}`),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(
              `no line ${pattern} from ekaf ${args.join(' ')} within ${timeoutMs} ms:\n${stdout}${stderr}`,
            ),
          );
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 20_000) {
      if (!exited) child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          killGroup(child);
          reject(
            new Error(`ekaf ${args.join(' ')} did not exit within ${timeoutMs} ms of ${signal}:\n${stderr}`),
          );
        }, timeoutMs);
      });
      try {
        return await Promise.race([closed, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    kill() {
      if (!exited) killGroup(child);
    },
    stderr: () => stderr,
  };
}
