#!/usr/bin/env bash
# `npm test` on its Docker path, on a machine where no Docker engine runs and no image registry
# answers (CI's): starts a private engine (docker-engine.sh, on this machine's network with
# --bridge=none, so containers use the host network), builds the Kafka, Redis, Prometheus and
# Chromium stand-ins (test/compose/build-images.sh; cached), runs `npm test` (pretest included) with
# DUMPSTREAM_INFRA=docker on them, and stops the engine whatever happened.
#
#   --docker-only   a machine with only Docker, as Docker Desktop's users have: the tests run with
#                   a PATH that hides what the containers stand in for (java, mvn, redis-server,
#                   redis-cli, prometheus, promtool, chromium) and apt-get, so every suite takes
#                   its container route (test/render too: Chromium from an image of Debian's
#                   package, test/render/chromium.ts). `npm run test:docker`.
#   --bridge        containers on a bridge network with published ports, as on an engine's
#                   defaults, instead of the host network: the tests run on a second private engine
#                   inside a network namespace of its own (docker-engine.sh --netns; the images
#                   built on the first are moved there with docker save | docker load), and jest
#                   runs inside that namespace too (nsenter --net), where the published ports are.
#
# Where an engine already answers and can pull images (Docker Desktop), plain `npm test` takes the
# Docker path by itself: this script is for machines like CI's.
#
#   bash test/support/integration-on-docker.sh [--docker-only] [--bridge] [test paths or jest options]
#   FAULTS_SUITE=full ... runs every fault scenario (test/faults), not only npm test's quick two
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

ONLY=0
BRIDGE=0
while [[ "${1:-}" == --docker-only || "${1:-}" == --bridge ]]; do
  [[ "$1" == --docker-only ]] && ONLY=1 || BRIDGE=1
  shift
done

STATE="$(mktemp -d /tmp/dsi-engine.XXXXXX)"
BSTATE=""
cleanup() {
  bash "$HERE/docker-engine.sh" stop "$STATE" || echo "integration-on-docker.sh: stopping the engine failed" >&2
  [[ -z "$BSTATE" ]] || bash "$HERE/docker-engine.sh" stop "$BSTATE" || echo "integration-on-docker.sh: stopping the bridge engine failed" >&2
  [[ -z "${HIDDEN:-}" ]] || rm -rf "$HIDDEN"
}
trap cleanup EXIT

t0=$(date +%s)
export DOCKER_HOST
# the same data root as the compose test's builder engine: the stand-ins are built once for both
DOCKER_HOST="$(bash "$HERE/docker-engine.sh" start "$STATE" --parent $$ \
  --data-root "${DUMPSTREAM_CACHE:-$HOME/.cache/dumpstream}/docker/build-root" | sed -n 's/^DOCKER_HOST=//p')"
t1=$(date +%s)
bash "$ROOT/test/compose/build-images.sh" kafka redis prometheus chromium
t2=$(date +%s)
echo "integration-on-docker.sh: engine up in $((t1 - t0)) s, images ready in $((t2 - t1)) s" >&2

RUN=()
if ((BRIDGE)); then
  command -v nsenter >/dev/null && command -v ip >/dev/null || { echo "integration-on-docker.sh: --bridge needs nsenter and ip (util-linux, iproute2)" >&2; exit 1; }
  BSTATE="$(mktemp -d /tmp/dsi-bridge.XXXXXX)"
  NETNS="dsi-${BSTATE##*.}"
  BUILDER="$DOCKER_HOST"
  # its own data root (cached too): it keeps the images it was given
  DOCKER_HOST="$(bash "$HERE/docker-engine.sh" start "$BSTATE" --netns "$NETNS" --parent $$ \
    --data-root "${DUMPSTREAM_CACHE:-$HOME/.cache/dumpstream}/docker/bridge-root" | sed -n 's/^DOCKER_HOST=//p')"
  stale=()
  for image in dumpstream-standin/kafka:3.9.0 dumpstream-standin/redis:7 dumpstream-standin/prometheus:2 dumpstream-standin/chromium:bookworm; do
    [[ "$(docker -H "$BUILDER" image inspect -f '{{.Id}}' "$image")" == "$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null)" ]] || stale+=("$image")
  done
  if ((${#stale[@]})); then docker -H "$BUILDER" save "${stale[@]}" | docker load -q >/dev/null; docker image prune -f >/dev/null; fi
  bash "$HERE/docker-engine.sh" stop "$STATE"
  t3=$(date +%s)
  echo "integration-on-docker.sh: bridge engine in network namespace $NETNS up, ${#stale[@]} images moved, in $((t3 - t2)) s" >&2
  RUN=(nsenter "--net=/run/netns/$NETNS")
fi

TEST_PATH="$PATH"
if ((ONLY)); then
  # every command of PATH but these, as links in one directory (the first of a name wins, as in PATH)
  HIDDEN="$(mktemp -d /tmp/dsi-path.XXXXXX)"
  hide=" java mvn redis-server redis-cli prometheus promtool chromium chromium-browser apt-get apt dockerd "
  IFS=: read -ra dirs <<<"$PATH"
  for d in "${dirs[@]}"; do
    [[ -d "$d" ]] || continue
    for f in "$d"/*; do
      n="${f##*/}"
      [[ -x "$f" && ! -d "$f" && "$hide" != *" $n "* && ! -e "$HIDDEN/$n" ]] && ln -s "$f" "$HIDDEN/$n"
    done
  done
  TEST_PATH="$HIDDEN"
  echo "integration-on-docker.sh: a machine with only Docker: hidden from PATH:$hide" >&2
fi

# /.dockerenv exists on these machines: without the override testcontainers would look for the
# engine's gateway instead of localhost. The Ryuk image cannot be pulled: the tests stop their
# own containers (and the engine goes away with every container at the end).
PATH="$TEST_PATH" \
DUMPSTREAM_INFRA=docker \
DUMPSTREAM_KAFKA_IMAGE=dumpstream-standin/kafka:3.9.0 \
DUMPSTREAM_REDIS_IMAGE=dumpstream-standin/redis:7 \
DUMPSTREAM_PROMETHEUS_IMAGE=dumpstream-standin/prometheus:2 \
DUMPSTREAM_CHROMIUM_IMAGE=dumpstream-standin/chromium:bookworm \
TESTCONTAINERS_HOST_OVERRIDE=localhost \
TESTCONTAINERS_RYUK_DISABLED=true \
  "${RUN[@]}" npm test -- "$@"
