#!/usr/bin/env bash
# The integration tests on their Docker path (testcontainers), on a machine where no Docker
# engine runs and no image registry answers: starts a private engine (docker-engine.sh, on this
# machine's network with --bridge=none, so containers use the host network), builds the Kafka and
# Redis stand-ins (test/compose/build-images.sh; cached), runs the `integration` jest project with
# DUMPSTREAM_INFRA=docker on them, and stops the engine whatever happened.
#
# Where an engine already answers and can pull images (Docker Desktop), plain `npm test` takes the
# Docker path by itself: this script is for machines like CI's.
#
#   bash test/support/integration-on-docker.sh [test paths or jest options]   (npm run test:docker)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

STATE="$(mktemp -d /tmp/dsi-engine.XXXXXX)"
cleanup() { bash "$HERE/docker-engine.sh" stop "$STATE" || echo "integration-on-docker.sh: stopping the engine failed" >&2; }
trap cleanup EXIT

t0=$(date +%s)
export DOCKER_HOST
# the same data root as the compose test's builder engine: the stand-ins are built once for both
DOCKER_HOST="$(bash "$HERE/docker-engine.sh" start "$STATE" --parent $$ \
  --data-root "${DUMPSTREAM_CACHE:-$HOME/.cache/dumpstream}/docker/build-root" | sed -n 's/^DOCKER_HOST=//p')"
t1=$(date +%s)
bash "$ROOT/test/compose/build-images.sh" kafka redis
t2=$(date +%s)
echo "integration-on-docker.sh: engine up in $((t1 - t0)) s, images ready in $((t2 - t1)) s" >&2

# /.dockerenv exists on these machines: without the override testcontainers would look for the
# engine's gateway instead of localhost. The Ryuk image cannot be pulled: the tests stop their
# own containers (and the engine goes away with every container at the end).
DUMPSTREAM_INFRA=docker \
DUMPSTREAM_KAFKA_IMAGE=dumpstream-standin/kafka:3.9.0 \
DUMPSTREAM_REDIS_IMAGE=dumpstream-standin/redis:7 \
TESTCONTAINERS_HOST_OVERRIDE=localhost \
TESTCONTAINERS_RYUK_DISABLED=true \
  npx jest "$@" --selectProjects integration
