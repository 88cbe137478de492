#!/usr/bin/env bash
# Fetches Apache Kafka's runtime classpath from Maven Central for the real-Kafka test harness
# (test/kafka/), one directory of jars per pinned version:
#
#   .cache/kafka/<version>/libs/*.jar    from test/kafka/maven/<version>/pom.xml
#
# Pinned: 4.4.0 (newest 4.x, KRaft), 3.9.2 (newest 3.9, KRaft) and 2.8.2 (ZooKeeper era,
# Produce up to v9; its ZooKeeper comes from the same classpath). Each version is skipped
# when its libs are newer than its pom. Installs a JDK 17 (java, and javac for the test programs in
# test/kafka/java/) and Maven from Debian when missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
poms="$root/test/kafka/maven"
cache="$root/.cache/kafka"
versions=(4.4.0 3.9.2 2.8.2)
# Named with its version: a bare `dependency:` prefix may resolve an old plugin.
copy_plugin="org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies"

step() { printf '[kafka-jars] %s\n' "$*"; }
die() {
  printf '[kafka-jars] error: %s\n' "$*" >&2
  exit 1
}

tools_present() { command -v java >/dev/null && command -v javac >/dev/null && command -v mvn >/dev/null; }
if tools_present; then
  step "java, javac and maven present ($(java -version 2>&1 | head -n 1))"
elif [[ $(id -u) -eq 0 ]]; then
  step "installing openjdk-17-jdk-headless and maven with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless maven >/dev/null
  tools_present || die "apt-get install did not provide java, javac and mvn"
else
  die "java, javac or mvn is missing; run as root, or:
  sudo apt-get update && sudo apt-get install -y openjdk-17-jdk-headless maven"
fi

for version in "${versions[@]}"; do
  pom="$poms/$version/pom.xml"
  libs="$cache/$version/libs"
  stamp="$cache/$version/.complete"
  [[ -f "$pom" ]] || die "no $pom"
  if [[ -f "$stamp" && "$stamp" -nt "$pom" && "$stamp" -nt "${BASH_SOURCE[0]}" ]]; then
    step "kafka $version: $(find "$libs" -name '*.jar' | wc -l) jars up to date in ${libs#"$root/"}"
    continue
  fi
  start=$SECONDS
  # Into a fresh directory, swapped in whole: a jar left from an older pom would stay on the
  # classpath, and an interrupted copy must not look complete.
  rm -rf "$libs.tmp" "$stamp"
  mkdir -p "$cache/$version"
  # Maven's output goes to a log (with -q it is only colour resets), shown when it fails.
  mvn -B -q -f "$pom" "$copy_plugin" -DincludeScope=runtime -DoutputDirectory="$libs.tmp" \
    >"$cache/$version/mvn.log" 2>&1 || {
    cat "$cache/$version/mvn.log" >&2
    die "maven could not resolve kafka $version (see its output above)"
  }
  rm -rf "$libs"
  mv "$libs.tmp" "$libs"
  touch "$stamp"
  step "kafka $version: resolved $(find "$libs" -name '*.jar' | wc -l) jars in $((SECONDS - start))s into ${libs#"$root/"}:"
  # What resolved, so a log shows which broker, tools and logging backend a run used.
  find "$libs" -name '*.jar' -printf '%f\n' | sort |
    grep -E '^(kafka|zookeeper|log4j|reload4j|slf4j|scala-library)' | sed 's/^/[kafka-jars]   /'
done
