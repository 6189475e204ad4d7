#!/usr/bin/env bash
# Fetch Apache Kafka's broker jars (org.apache.kafka:kafka_2.13) plus a logging backend
# from Maven Central into a local cache folder, with Maven's dependency plugin.
#
#   KAFKA_VERSION     Kafka version to fetch (default 4.4.0; 3.9.x works too)
#   DUMPSTREAM_CACHE  cache root (default $HOME/.cache/dumpstream)
#
# Jars land in $DUMPSTREAM_CACHE/kafka-$KAFKA_VERSION/libs; that path is printed on stdout
# (and nothing else). Progress goes to stderr. A second run with the cache present does
# no network work: it checks one marker file and exits.
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
CACHE_ROOT="${DUMPSTREAM_CACHE:-${HOME:-/tmp}/.cache/dumpstream}"
HOME_DIR="$CACHE_ROOT/kafka-$KAFKA_VERSION"
LIBS="$HOME_DIR/libs"
MARKER="$LIBS/.complete"

# Fast path: cache present.
if [[ -f "$MARKER" ]]; then
  printf '%s\n' "$LIBS"
  exit 0
fi

die() { printf 'fetch.sh: %s\n' "$*" >&2; exit 1; }

case "$KAFKA_VERSION" in
  [0-9]*.[0-9]*.[0-9]*) ;;
  *) die "KAFKA_VERSION must look like 4.4.0 or 3.9.2, got '$KAFKA_VERSION'" ;;
esac
case "$KAFKA_VERSION" in
  3.*) PROFILE=reload4j ;;   # Kafka 3.x ships log4j 1.2 (reload4j)
  *)   PROFILE=log4j2 ;;     # Kafka 4.x ships log4j2
esac

command -v java >/dev/null 2>&1 || die "java not found on PATH (Kafka needs a JDK 17+; on Debian: apt-get install -y openjdk-17-jdk-headless)"
MVN="${MVN:-mvn}"
command -v "$MVN" >/dev/null 2>&1 || die "mvn not found on PATH (on Debian: apt-get install -y maven)"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$HOME_DIR"

# Serialise concurrent fetches of the same version.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$HOME_DIR/.fetch.lock"
  flock 9
  if [[ -f "$MARKER" ]]; then printf '%s\n' "$LIBS"; exit 0; fi
fi

STAGE="$(mktemp -d "$HOME_DIR/.libs.XXXXXX")"
MVNLOG="$HOME_DIR/fetch.log"
trap 'rm -rf "$STAGE"' EXIT

printf 'fetch.sh: fetching org.apache.kafka:kafka_2.13:%s (+%s) into %s\n' "$KAFKA_VERSION" "$PROFILE" "$LIBS" >&2
if ! "$MVN" -B -q -Dstyle.color=never -f "$HERE/pom.xml" \
      -Dkafka.version="$KAFKA_VERSION" -Dkafka.libs.dir="$STAGE" -P"$PROFILE" \
      dependency:copy-dependencies 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >"$MVNLOG"; then
  # the [ERROR] lines that say something, else the end of the log
  { grep -E '^\[ERROR\] [^ ]' "$MVNLOG" | grep -vE 'To see the full|Re-run Maven|For more information|^\[ERROR\] \[Help' | head -n 5 | grep . \
    || tail -n 15 "$MVNLOG"; } >&2 || true
  die "mvn could not fetch Kafka $KAFKA_VERSION (full log: $MVNLOG)"
fi

ls "$STAGE"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 \
  || die "mvn finished but kafka_2.13-$KAFKA_VERSION.jar is missing from the copy (log: $MVNLOG)"

printf '%s\n' "kafka_version=$KAFKA_VERSION" "logging=$PROFILE" >"$STAGE/.complete"
rm -rf "$LIBS"
mv "$STAGE" "$LIBS"
trap - EXIT
printf 'fetch.sh: %s jars in %s\n' "$(ls "$LIBS"/*.jar | wc -l)" "$LIBS" >&2
printf '%s\n' "$LIBS"
