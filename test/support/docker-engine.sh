#!/usr/bin/env bash
# A private Docker engine for the tests, on a machine where none runs: Debian's dockerd with its
# own data root, exec root, socket and pid file under one state dir, and never the machine's
# network: --iptables=false --ip-forward=false, and either
#   --bridge=none on the machine's network namespace (containers use `--network host`; image
#     builds can reach the package registries), or
#   --netns NAME: a network namespace of its own (ip netns add), where bridge networks and
#     published ports stay private; its clients must run there too (nsenter --net=/run/netns/NAME).
#     `ip netns exec` is not used: it remounts /sys and dockerd then fails ("Devices cgroup isn't
#     mounted"); nsenter only switches the network namespace.
#
#   docker-engine.sh start STATE_DIR [--netns NAME] [--parent PID] [--data-root DIR]
#       prints DOCKER_HOST=unix://STATE_DIR/docker.sock once the engine answers
#       --parent PID: a watchdog runs `stop` once that process is gone (a test killed hard)
#       --data-root DIR: keep images and build layers in DIR across runs (a cache; one engine at
#         a time may use it: when another holds it, this one uses STATE_DIR/data instead)
#   docker-engine.sh stop STATE_DIR
#       stops every container and the engine (and its containerd), unmounts what is left under
#       STATE_DIR, deletes the namespace and STATE_DIR; safe to run twice or on a half start
set -euo pipefail

die() { printf 'docker-engine.sh: %s\n' "$*" >&2; exit 1; }
say() { printf 'docker-engine.sh: %s\n' "$*" >&2; }

alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# Unmounts (lazily, deepest first) everything mounted under $1: overlay layers, container shm,
# netns bind mounts that a killed dockerd left behind.
unmount_under() {
  local dir; dir="$(realpath -m "$1")"
  awk -v d="$dir/" '{ if (index($5 "/", d) == 1) print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

stop_engine() {
  local state="$1"
  [[ -d "$state" ]] || return 0
  [[ -f "$state/.dumpstream-engine" ]] || die "$state is not a state dir of this script; not touching it"
  local pid netns
  pid="$(cat "$state/dockerd.pid" 2>/dev/null || true)"
  netns="$(cat "$state/netns" 2>/dev/null || true)"
  local data; data="$(cat "$state/data-root" 2>/dev/null || true)"
  local wd; wd="$(cat "$state/watchdog.pid" 2>/dev/null || true)"
  if [[ "$wd" != "$$" ]] && alive "$wd"; then kill "$wd" 2>/dev/null || true; fi
  if alive "$pid"; then
    # containers first (dockerd would stop them with a 15 s grace each), then the daemon
    local ids
    ids="$(docker -H "unix://$state/docker.sock" ps -aq 2>/dev/null || true)"
    [[ -z "$ids" ]] || docker -H "unix://$state/docker.sock" rm -f $ids >/dev/null 2>&1 || true
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do alive "$pid" || break; sleep 0.2; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
  fi
  # the containerd (and shims) this dockerd started: found by their state dir in the command line
  local p
  for p in $(pgrep -f -- "$state/" 2>/dev/null || true); do
    [[ "$p" == "$$" || "$p" == "$PPID" ]] || kill -KILL "$p" 2>/dev/null || true
  done
  unmount_under "$state"
  [[ -z "$data" ]] || unmount_under "$data"
  if [[ -n "$netns" ]] && ip netns list 2>/dev/null | grep -qw -- "$netns"; then
    ip netns delete "$netns" 2>/dev/null || true
  fi
  rm -rf "$state" 2>/dev/null || { unmount_under "$state"; rm -rf "$state"; }
}

start_engine() {
  local state="$1"; shift
  local netns="" parent="" data=""
  while (($#)); do
    case "$1" in
      --netns) netns="$2"; shift 2 ;;
      --data-root) data="$2"; shift 2 ;;
      --parent) parent="$2"; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  [[ "$(id -u)" == 0 ]] || die "a private Docker engine needs root (dockerd, mounts, network namespaces)"
  command -v dockerd >/dev/null || die "dockerd not found: apt-get install -y docker.io"
  command -v docker >/dev/null || die "docker not found: apt-get install -y docker.io"
  [[ -z "$netns" ]] || command -v ip >/dev/null || die "ip not found: apt-get install -y iproute2"

  mkdir -p "$state"
  state="$(realpath "$state")"
  # A socket path must stay under 108 bytes.
  ((${#state} < 80)) || die "state dir path too long for a unix socket: $state"
  : >"$state/.dumpstream-engine"
  local sock="$state/docker.sock"
  local -a run=() lock=()
  if [[ -n "$data" ]]; then
    mkdir -p "$data"
    data="$(realpath "$data")"
    # flock holds the lock for as long as dockerd (its child) runs
    if flock -n "$data.lock" true 2>/dev/null; then
      lock=(flock -n "$data.lock")
      echo "$data" >"$state/data-root"
    else
      say "$data is in use by another engine; using a data root of this engine's own"
      data=""
    fi
  fi
  data="${data:-$state/data}"
  local -a net=(--iptables=false --ip-forward=false --ip-masq=false)
  if [[ -n "$netns" ]]; then
    ip netns add "$netns" || die "ip netns add $netns failed"
    echo "$netns" >"$state/netns"
    nsenter --net="/run/netns/$netns" ip link set lo up
    run=(nsenter --net="/run/netns/$netns")
    # docker0 lives in the namespace; an address range no machine network uses here
    net+=(--bip 10.213.0.1/24 --default-address-pool base=10.214.0.0/16,size=24)
  else
    net+=(--bridge=none)
  fi
  # setsid: the engine outlives this script and is not killed by the caller's terminal signals
  setsid "${lock[@]}" "${run[@]}" dockerd \
    --data-root "$data" --exec-root "$state/exec" --pidfile "$state/dockerd.pid" \
    -H "unix://$sock" --containerd-namespace "dumpstream-$(basename "$state")" \
    --storage-driver overlay2 --log-level warn --userland-proxy=true \
    "${net[@]}" </dev/null >"$state/dockerd.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 300); do
    if docker -H "unix://$sock" version --format '{{.Server.Version}}' >/dev/null 2>&1; then break; fi
    if ! alive "$pid"; then
      tail -n 15 "$state/dockerd.log" >&2 || true
      stop_engine "$state"
      die "dockerd exited during startup"
    fi
    sleep 0.1
  done
  if ! docker -H "unix://$sock" version >/dev/null 2>&1; then
    tail -n 15 "$state/dockerd.log" >&2 || true
    stop_engine "$state"
    die "dockerd did not answer on $sock within 30 s"
  fi
  # dockerd wrote its pid file (with --data-root, $! is flock's, dockerd's parent)
  [[ -s "$state/dockerd.pid" ]] || echo "$pid" >"$state/dockerd.pid"
  if [[ -n "$parent" ]]; then
    local self; self="$(realpath "${BASH_SOURCE[0]}")"
    setsid bash -c 'trap "" HUP INT; while kill -0 "$1" 2>/dev/null; do sleep 2; done; exec "$2" stop "$3"' \
      watchdog "$parent" "$self" "$state" </dev/null >/dev/null 2>&1 &
    echo $! >"$state/watchdog.pid"
  fi
  printf 'DOCKER_HOST=unix://%s\n' "$sock"
}

case "${1:-}" in
  start) [[ -n "${2:-}" ]] || die "usage: docker-engine.sh start STATE_DIR [--netns NAME] [--parent PID]"; start_engine "${@:2}" ;;
  stop) [[ -n "${2:-}" ]] || die "usage: docker-engine.sh stop STATE_DIR"; stop_engine "$2" ;;
  *) die "usage: docker-engine.sh start|stop STATE_DIR [--netns NAME] [--parent PID]" ;;
esac
