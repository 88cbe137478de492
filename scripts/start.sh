#!/usr/bin/env bash
# npm start: the main job, from a fresh clone. Installs the npm packages (npm ci, skipped only
# when node_modules was installed from this very package-lock.json), builds the bundled dev
# cluster (build-harness.sh installs the Debian packages it needs, and skips what is up to
# date), then runs `ekaf serve`: without KAFKA_BROKERS, the dev cluster, the gateway and the
# visualizer. Arguments go to `ekaf serve` (npm start -- --port 9000).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { printf '[start] %s\n' "$*" >&2; }

# npm ci writes node_modules/.package-lock.json (the "hidden lockfile"), listing what it
# installed. node_modules is what npm ci would install when every package of the hidden lockfile
# is the lockfile's entry, and the packages of the lockfile it lacks are all optional and either
# for another platform (lz4-napi's and snappy's binaries for other OS/CPU/libc) or needed by no
# installed package (what only those binaries depend on).
installed_from_lockfile() {
  [[ -f node_modules/.package-lock.json ]] || return 1
  node -e '
    const fs = require("fs");
    const read = (f) => JSON.parse(fs.readFileSync(f, "utf8")).packages ?? {};
    const want = read("package-lock.json");
    const have = read("node_modules/.package-lock.json");
    for (const [path, entry] of Object.entries(have)) {
      if (JSON.stringify(entry) !== JSON.stringify(want[path])) process.exit(1);
    }
    const glibc = process.report.getReport().header.glibcVersionRuntime !== undefined;
    const fits = (list, value) =>
      list === undefined || list.includes(value) ||
      (list.every((v) => v.startsWith("!")) && !list.includes(`!${value}`));
    const forHere = (p) =>
      fits(p.os, process.platform) && fits(p.cpu, process.arch) &&
      (p.libc === undefined || fits(p.libc, glibc ? "glibc" : "musl"));
    const needed = new Set();
    for (const entry of [want[""] ?? {}, ...Object.values(have)]) {
      for (const field of ["dependencies", "optionalDependencies", "devDependencies", "peerDependencies"]) {
        for (const name of Object.keys(entry[field] ?? {})) needed.add(name);
      }
    }
    for (const [path, entry] of Object.entries(want)) {
      if (path === "" || path in have) continue;
      const name = path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
      if (entry.optional !== true || (forHere(entry) && needed.has(name))) process.exit(1);
    }
  '
}

if installed_from_lockfile; then
  say "node_modules matches package-lock.json: skipping npm ci"
else
  say "npm ci"
  npm ci --include=dev --no-audit --no-fund >&2
fi

say "building the bundled dev cluster (librdkafka mock brokers)"
bash scripts/build-harness.sh >&2

say "ekaf serve $*"
exec npx --no-install tsx src/cli.ts serve "$@"
