#!/usr/bin/env bash
# Builds the mock Kafka cluster used by the integration tests, against two
# librdkafka versions, so the client is tested against two real peers:
#
#   test/broker/build/mock-cluster-2.0   Debian's librdkafka 2.0.2 (shared)
#   test/broker/build/mock-cluster-2.12  librdkafka 2.12.0 from source (static)
#
# The 2.12 source comes from the npm registry (node-rdkafka ships it), because
# the registry and apt are the only network we have. Every step is skipped
# when its output is up to date; the 2.12 build is cached in .cache/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/test/broker/mock-cluster.c"
out="$root/test/broker/build"
cache="$root/.cache/librdkafka-2.12"
rdk="$cache/librdkafka"  # the extracted package/deps/librdkafka

npm_spec="node-rdkafka@3.6.1"
tarball="node-rdkafka-3.6.1.tgz"
# Pinned so a changed tarball is noticed rather than silently built.
tarball_sha256="148f7e7b65c510314c70762d8f1be052c8fe1fdf03a128e6c78083a729a57a30"

# Warnings on for our file only; librdkafka's headers are -isystem.
cflags=(-std=c11 -O2 -Wall -Wextra)

step() { printf '[build-harness] %s\n' "$*"; }
die() {
  printf '[build-harness] error: %s\n' "$*" >&2
  exit 1
}
# Runs a step on one line: "[build-harness] <what> ... done (<n>s)". The
# commands' own output goes to logs, so nothing comes between the two halves.
timed() {
  local what="$1" start=$SECONDS
  shift
  printf '[build-harness] %s ... ' "$what"
  "$@"
  printf 'done (%ss)\n' "$((SECONDS - start))"
}
# True when $1 exists and is newer than every other argument.
up_to_date() {
  local target="$1" dep
  [[ -e "$target" ]] || return 1
  shift
  for dep in "$@"; do
    [[ "$target" -nt "$dep" ]] || return 1
  done
}

# --- Debian packages: the 2.0.2 headers/library, kcat (the independent
# consumer the tests read back with) and a C toolchain.
debian_deps_present() {
  [[ -f /usr/include/librdkafka/rdkafka_mock.h ]] && command -v kcat >/dev/null &&
    command -v gcc >/dev/null && command -v make >/dev/null
}
install_debian_deps() {
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq librdkafka-dev kcat build-essential >/dev/null
}
if debian_deps_present; then
  step "debian packages present (librdkafka-dev, kcat, gcc, make)"
elif [[ $(id -u) -eq 0 ]]; then
  timed "installing librdkafka-dev kcat build-essential with apt-get" install_debian_deps
  debian_deps_present || die "apt-get install did not provide librdkafka-dev/kcat/gcc/make"
else
  die "missing librdkafka-dev, kcat or a C toolchain; run as root, or:
  sudo apt-get update && sudo apt-get install -y librdkafka-dev kcat build-essential"
fi

mkdir -p "$out" "$cache"

# --- Peer 2.0: link against the system library.
bin20="$out/mock-cluster-2.0"
build_20() {
  gcc "${cflags[@]}" -o "$bin20.tmp" "$src" -lrdkafka
  mv "$bin20.tmp" "$bin20" # never leave a half-written binary that looks up to date
}
if up_to_date "$bin20" "$src" "${BASH_SOURCE[0]}"; then
  step "$bin20 is up to date"
else
  timed "compiling mock-cluster-2.0 against Debian librdkafka $(pkg-config --modversion rdkafka 2>/dev/null || echo 2.0.x)" build_20
fi

# --- Peer 2.12: librdkafka from the node-rdkafka tarball, built once.
fetch_tarball() {
  # npm pack of a registry spec only downloads the tarball, it runs no scripts.
  (cd "$cache" && npm pack --silent "$npm_spec" >/dev/null)
}
if [[ -f "$cache/$tarball" ]]; then
  step "$tarball already downloaded"
else
  timed "downloading $npm_spec from the npm registry (npm pack)" fetch_tarball
fi
echo "$tarball_sha256  $cache/$tarball" | sha256sum --check --quiet ||
  die "$cache/$tarball does not match the pinned sha256; delete it and retry"

extract() {
  rm -rf "$rdk"
  mkdir -p "$rdk"
  tar -xzf "$cache/$tarball" -C "$rdk" --strip-components=3 package/deps/librdkafka
  touch "$rdk/.extracted" # written last: an interrupted extraction is redone
}
if [[ -f "$rdk/.extracted" ]]; then
  step "librdkafka source already extracted"
else
  timed "extracting librdkafka source" extract
fi

configure() {
  # Minimal and offline: no TLS, SASL, HTTP or external compression libraries
  # (the mock never compresses), and no --install-deps (it downloads).
  (cd "$rdk" && ./configure --no-download --disable-ssl --disable-gssapi --disable-curl \
    --disable-zstd --disable-zlib --disable-lz4-ext --disable-syslog --disable-debug-symbols \
    >"$cache/configure.log" 2>&1) || die "configure failed, see $cache/configure.log"
}
if [[ -f "$rdk/Makefile.config" && -f "$rdk/config.h" ]]; then
  step "librdkafka 2.12 already configured"
else
  timed "configuring librdkafka 2.12" configure
fi

lib212="$rdk/src/librdkafka.a"
make_lib() {
  make -C "$rdk/src" -j2 librdkafka.a >"$cache/make.log" 2>&1 || die "make failed, see $cache/make.log"
}
if [[ -f "$lib212" ]]; then
  step "librdkafka.a 2.12 already built (cached in .cache/)"
else
  timed "compiling librdkafka.a 2.12 (make -j2, 30-60 s)" make_lib
fi

bin212="$out/mock-cluster-2.12"
build_212() {
  # The headers are included as <librdkafka/...>, like the Debian ones.
  mkdir -p "$cache/include/librdkafka"
  cp "$rdk/src/rdkafka.h" "$rdk/src/rdkafka_mock.h" "$cache/include/librdkafka/"
  # The libraries the static archive needs, as configure found them.
  local libs
  libs="$(sed -n 's/^MKL_DYNAMIC_LIBS=[[:space:]]*//p' "$rdk/Makefile.config")"
  [[ -n "$libs" ]] || die "no MKL_DYNAMIC_LIBS in $rdk/Makefile.config"
  # shellcheck disable=SC2086 # $libs is a list of flags
  gcc "${cflags[@]}" -isystem "$cache/include" -o "$bin212.tmp" "$src" "$lib212" $libs
  mv "$bin212.tmp" "$bin212"
}
if up_to_date "$bin212" "$src" "$lib212" "${BASH_SOURCE[0]}"; then
  step "$bin212 is up to date"
else
  timed "linking mock-cluster-2.12 statically against librdkafka 2.12.0" build_212
fi

# A last smoke check: each binary starts a cluster and quits.
for bin in "$bin20" "$bin212"; do
  reply="$(printf 'quit\n' | timeout 20 "$bin" --brokers 1)" || die "$bin did not start: $reply"
  [[ "$reply" == ready* ]] || die "$bin printed: $reply"
done
step "ok: $bin20, $bin212"
